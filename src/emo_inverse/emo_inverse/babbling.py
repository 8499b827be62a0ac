"""Motor babbling: random commands the head's constraints allow, and the face each one makes.

    python -m emo_inverse.babbling --samples 1000 --out babble.npz           # simulated head, offline
    ros2 run emo_inverse babble_node                                          # through the driver (see README)

As in the paper, two sessions: the upper face (brows, lids) moves while the
mouth stays calm, then the mouth and jaw move while the upper face stays calm;
commands that the head's constraint functions forbid (skin tearing,
self-collision) are drawn again. The two sessions are combined by augmentation
(`augment`): the upper-face points (52) of one sample with the lower-face
points (61) of another, and their commands likewise.
"""
import argparse
import pathlib

import numpy as np

UPPER_COMMANDS = slice(0, 4)     # brows, lids
LOWER_COMMANDS = slice(4, 11)    # lips, corners, jaw
UPPER_POINTS = slice(0, 52)      # model input order: 52 upper-face points, then 61 lower-face
LOWER_POINTS = slice(52, 113)


def sample_commands(head, session: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n random command vectors for a session ('upper' or 'lower') that break no constraint."""
    out = []
    while len(out) < n:
        c = head.calm_commands
        part = UPPER_COMMANDS if session == 'upper' else LOWER_COMMANDS
        c[part] = rng.uniform(0, 1, part.stop - part.start)
        if not head.violations(c):
            out.append(c)
    return np.array(out)


def babble_offline(head, twin, n_per_session: int = 1000, seed: int = 0) -> dict:
    """(commands, faces, session) of both sessions on the simulated head, servos settled."""
    rng = np.random.default_rng(seed)
    commands, faces, session = [], [], []
    for name in ('upper', 'lower'):
        c = sample_commands(head, name, n_per_session, rng)
        commands.append(c)
        faces.append(np.stack([twin.face_of_commands(x) for x in c]))
        session += [name] * n_per_session
    rest = np.stack([twin.face_of_commands(head.calm_commands) for _ in range(20)]).mean(axis=0)
    return {'commands': np.concatenate(commands).astype(np.float32), 'faces': np.concatenate(faces),
            'session': np.array(session), 'rest_face': rest.astype(np.float32)}


def augment(data: dict, n: int, rng: np.random.Generator):
    """n combined samples: upper face and commands of an upper-session sample, lower of a lower one."""
    up = np.flatnonzero(data['session'] == 'upper')
    lo = np.flatnonzero(data['session'] == 'lower')
    i, j = rng.choice(up, n), rng.choice(lo, n)
    faces = np.concatenate([data['faces'][i][:, UPPER_POINTS], data['faces'][j][:, LOWER_POINTS]], axis=1)
    commands = np.concatenate([data['commands'][i][:, UPPER_COMMANDS], data['commands'][j][:, LOWER_COMMANDS]], axis=1)
    return faces.astype(np.float32), commands.astype(np.float32)


def split(data: dict, val_fraction: float = 0.2, seed: int = 0):
    """(train, val) with val_fraction of each session held out (the paper: 800 / 200 of each 1000)."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(data['commands']), bool)
    for name in ('upper', 'lower'):
        idx = np.flatnonzero(data['session'] == name)
        val[rng.choice(idx, int(round(len(idx) * val_fraction)), replace=False)] = True
    pick = lambda m: {k: (v[m] if k != 'rest_face' else v) for k, v in data.items()}  # noqa: E731
    return pick(~val), pick(val)


def save(path, data: dict) -> None:
    np.savez_compressed(path, **data)


def load(path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    for key in ('commands', 'faces', 'session', 'rest_face'):
        if key not in data:
            raise ValueError(f'{path}: not a babbling dataset (no {key!r})')
    if data['faces'].shape[1:] != (113, 2) or data['commands'].shape[1:] != (11,):
        raise ValueError(f'{path}: faces must be (n, 113, 2) and commands (n, 11)')
    return data


def main(argv=None) -> int:
    from emo_servo_driver.head import load_head

    from emo_inverse.simulated_head import SimulatedHead
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--head', default=None, help='head description YAML (default: Emo)')
    parser.add_argument('--samples', type=int, default=1000, help='per session (upper face, lower face)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    head = load_head(args.head)
    data = babble_offline(head, SimulatedHead(head, seed=args.seed), args.samples, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, data)
    print(f"wrote {len(data['commands'])} babbling samples ({args.samples} upper + {args.samples} lower) to {args.out}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
