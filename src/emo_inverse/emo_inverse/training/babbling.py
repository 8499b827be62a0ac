"""Motor babbling: random commands the head's constraints allow, and the face each one makes.

    python -m emo_inverse.training.babbling --samples 1000 --out babble.npz           # simulated head, offline
    ros2 run emo_inverse babble_node                                          # through the driver (src/emo_inverse/README.md)

As in the paper, two sessions: the upper face (brows, lids) moves while the
mouth stays calm, then the mouth and jaw move while the upper face stays calm;
commands that the head's constraint functions forbid (skin tearing,
self-collision) are drawn again. The two sessions are combined by augmentation
(`augment`): the upper-face points (52) of one sample with the lower-face
points (61) of another, and their commands likewise. A third session moves the
whole face at once: on a real face the halves pull on each other, so those
faces test what the augmentation assumes (and may train the model too).

Splits (`split`) are drawn by babbling sample, per session, before any
augmentation: training, early-stopping (validation) and test samples are
disjoint, and `sample_digests` names each sample by its content so that a
checkpoint can record what it was trained on and `emo_inverse.training.evaluate` can
refuse a test set that overlaps it.

Babbling also measures the robot's own lag (emo_inverse.robot_lag): the
dataset carries it as `robot_lag` (a dict; stored as JSON in the .npz), and
`emo_inverse.training.train` saves it with the self-model it trains.
"""
import argparse
import hashlib
import pathlib
from typing import NamedTuple

import numpy as np

from emo_common.layout import NUM_LANDMARKS, NUM_UPPER_FACE
from emo_inverse.babbling_file import load, save  # noqa: F401  (the dataset's file format, read here too)

UPPER_COMMANDS = slice(0, 4)     # brows, lids
LOWER_COMMANDS = slice(4, 11)    # lips, corners, jaw
UPPER_POINTS = slice(0, NUM_UPPER_FACE)      # model input order: 52 upper-face points, then 61 lower-face
LOWER_POINTS = slice(NUM_UPPER_FACE, NUM_LANDMARKS)
SESSIONS = ('upper', 'lower', 'whole')       # what moves: brows and lids; mouth and jaw; everything
FREE = {'upper': UPPER_COMMANDS, 'lower': LOWER_COMMANDS, 'whole': slice(0, 11)}


def sample_commands(head, session: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n random command vectors for a session (SESSIONS) that break no constraint."""
    out = []
    part = FREE[session]
    while len(out) < n:
        c = head.calm_commands
        c[part] = rng.uniform(0, 1, part.stop - part.start)
        if not head.violations(c):
            out.append(c)
    return np.array(out)


def babble_offline(head, twin, n_per_session: int = 1000, seed: int = 0, lag_steps: int = 0,
                   sessions=SESSIONS) -> dict:
    """(commands, faces, session) of the sessions on the simulated head, servos settled; with
    lag_steps > 0 also the head's lag (robot_lag), measured on that many simulated step responses."""
    rng = np.random.default_rng(seed)
    commands, faces, session = [], [], []
    for name in sessions:
        c = sample_commands(head, name, n_per_session, rng)
        commands.append(c)
        faces.append(np.stack([twin.face_of_commands(x) for x in c]))
        session += [name] * n_per_session
    rest = np.stack([twin.face_of_commands(head.calm_commands) for _ in range(20)]).mean(axis=0)
    data = {'commands': np.concatenate(commands).astype(np.float32), 'faces': np.concatenate(faces),
            'session': np.array(session), 'rest_face': rest.astype(np.float32)}
    if lag_steps > 0:
        from emo_inverse.training.measure_lag import measure_offline
        data['robot_lag'] = measure_offline(head, lag_steps, seed)
    return data


def augment(data: dict, n: int, rng: np.random.Generator):
    """n combined samples: upper face and commands of an upper-session sample, lower of a lower one."""
    up = np.flatnonzero(data['session'] == 'upper')
    lo = np.flatnonzero(data['session'] == 'lower')
    i, j = rng.choice(up, n), rng.choice(lo, n)
    faces = np.concatenate([data['faces'][i][:, UPPER_POINTS], data['faces'][j][:, LOWER_POINTS]], axis=1)
    commands = np.concatenate([data['commands'][i][:, UPPER_COMMANDS], data['commands'][j][:, LOWER_COMMANDS]], axis=1)
    return faces.astype(np.float32), commands.astype(np.float32)


class Split(NamedTuple):
    train: dict           # datasets of the samples in each part (rest_face and robot_lag are the dataset's)
    val: dict             # early stopping
    test: dict
    index: dict           # part -> sample indices into the whole dataset


def split(data: dict, val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0) -> Split:
    """Training, early-stopping and test samples, disjoint, drawn per session (each session keeps its
    share in every part) before any augmentation."""
    rng = np.random.default_rng(seed)
    part = np.zeros(len(data['commands']), np.int8)                # 0 train, 1 val, 2 test
    for name in np.unique(data['session']):
        idx = rng.permutation(np.flatnonzero(data['session'] == name))
        n_val, n_test = int(round(len(idx) * val_fraction)), int(round(len(idx) * test_fraction))
        part[idx[:n_val]], part[idx[n_val:n_val + n_test]] = 1, 2
    index = {name: np.flatnonzero(part == k) for k, name in enumerate(('train', 'val', 'test'))}
    return Split(*(subset(data, index[name]) for name in ('train', 'val', 'test')), index)


def subset(data: dict, rows) -> dict:
    """The dataset of some of its samples."""
    return {k: (v[rows] if k in PER_SAMPLE else v) for k, v in data.items()}


def sample_digests(data: dict) -> list:
    """A short content digest of each sample (its commands and face): the same sample in another file
    or order has the same digest."""
    c = np.ascontiguousarray(data['commands'], np.float32)
    f = np.ascontiguousarray(data['faces'], np.float32)
    return [hashlib.sha256(c[i].tobytes() + f[i].tobytes()).hexdigest()[:16] for i in range(len(c))]


PER_SAMPLE = ('commands', 'faces', 'session')   # one row per sample; rest_face and robot_lag are the dataset's


def main(argv=None) -> int:
    from emo_description.head import load_head

    from emo_sim.simulated_head import SimulatedHead
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--head', default=None, help='head description YAML (default: Emo)')
    parser.add_argument('--samples', type=int, default=1000, help='per session (upper face, lower face, whole face)')
    parser.add_argument('--sessions', default=','.join(SESSIONS), help='which sessions, comma-separated')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--lag-steps', type=int, default=60,
                        help="step responses of the simulated chain to measure the head's lag on (0 = skip)")
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    head = load_head(args.head)
    sessions = tuple(s for s in args.sessions.split(',') if s)
    if not sessions or set(sessions) - set(SESSIONS):
        parser.error(f'--sessions: from {SESSIONS}')
    data = babble_offline(head, SimulatedHead(head, seed=args.seed), args.samples, args.seed, args.lag_steps, sessions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, data)
    print(f"wrote {len(data['commands'])} babbling samples ({args.samples} per session: {', '.join(sessions)}) to {args.out}")
    lag = data.get('robot_lag')
    if lag:
        print(f"measured lag {lag['lag_s']:.3f} s (t50 {lag['t50_s']} s, t90 {lag['t90_s']} s, "
              f"{lag['responses']} responses of {lag['steps']} steps)")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
