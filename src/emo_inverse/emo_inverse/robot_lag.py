"""The robot's own lag: how long its face takes to follow a command, measured from step responses.

    lag = fit_lag(steps, robot_face_regions())            # t50, t90, mean delay, per face region
    write_lag(checkpoint, lag)                            # saved with the self-model
    read_lag(checkpoint)['lag_s']                         # what the predictor anticipates by

The step responses come from babbling through the driver (`babble_node`) or
from the simulated chain (`emo_sim.chain.simulate_steps`;
`python -m emo_inverse.training.measure_lag --model inverse.pt` measures a
head's simulated chain and saves the lag with a self-model).

A step is a new command held until the face settles; its response is the
robot's face sampled from the moment the command was sent. For each face region that moved, the
progress from the face before to the settled face is the projection of the
face's change on the final change; the step's t50 and t90 are when progress
first reaches 50 % and 90 %, and its mean delay is the area above the progress
curve, the integral of (1 - progress): the time by which a slow, smooth input
comes out shifted (the lag a forecaster must cover). The head's lag is the
median over every region of every step (`lag_s` = the median mean delay).
"""
import numpy as np

MIN_CHANGE = 0.01      # face units: a region that moved less is noise (landmark jitter SD 0.002)
SETTLED_S = 0.2        # the settled face: the median over the response's last 0.2 s


def robot_face_regions() -> dict:
    """Face regions (row indices of the 113 points) whose lag is measured."""
    from emo_common.layout import landmark_layout
    rows = landmark_layout().rows
    return {'brows': np.concatenate([rows['right_brow10'], rows['left_brow10']]),
            'eyes': np.concatenate([rows['right_eye16'], rows['left_eye16']]),
            'lips': np.concatenate([rows['lips40'], rows['inner_lips20']]),
            'jaw': rows['jaw21']}


def step_progress(t, faces, before, rows):
    """(progress over t, size of the region's change) of one step response, or (None, size)."""
    faces = np.asarray(faces, dtype=np.float64)[:, rows]
    t = np.asarray(t, dtype=np.float64)
    settled = faces[t >= t[-1] - SETTLED_S]
    change = np.median(settled, axis=0) - np.asarray(before, dtype=np.float64)[rows]
    size = float(np.linalg.norm(change, axis=1).mean())
    if size < MIN_CHANGE:
        return None, size
    progress = np.tensordot(faces - np.asarray(before)[rows], change, axes=2) / float(np.sum(change * change))
    return progress, size


def _first_crossing(t, progress, level):
    above = np.flatnonzero(progress >= level)
    if not len(above):
        return None
    i = above[0]
    if i == 0:
        return float(t[0])
    t0, t1, p0, p1 = t[i - 1], t[i], progress[i - 1], progress[i]
    return float(t0 + (level - p0) / max(p1 - p0, 1e-12) * (t1 - t0))


def step_lag(t, progress) -> dict:
    """t50, t90 and mean delay (s) of one progress curve sampled at t (s after the command)."""
    t = np.concatenate([[0.0], np.asarray(t, dtype=np.float64)])
    p = np.concatenate([[0.0], np.asarray(progress, dtype=np.float64)])
    shortfall = 1.0 - p
    return {'t50_s': _first_crossing(t, p, 0.5), 't90_s': _first_crossing(t, p, 0.9),
            'mean_delay_s': float(np.sum(0.5 * (shortfall[1:] + shortfall[:-1]) * np.diff(t)))}


def fit_lag(steps, regions: dict, source: str = '') -> dict:
    """The head's lag from step responses [(t (n,), faces (n, 113, 2), face before (113, 2)), ...]."""
    per_region = {name: [] for name in regions}
    for t, faces, before in steps:
        if len(t) < 3:
            continue
        for name, rows in regions.items():
            progress, _ = step_progress(t, faces, before, rows)
            if progress is not None:
                per_region[name].append(step_lag(t, progress))
    everything = [s for rows in per_region.values() for s in rows]
    if not everything:
        raise ValueError('no step moved the face: cannot measure the lag')

    def med(rows, key):
        vals = [r[key] for r in rows if r[key] is not None]
        return round(float(np.median(vals)), 4) if vals else None

    out = {'source': source, 'steps': len(steps), 'responses': len(everything),
           'regions': {name: {'responses': len(rows), 't50_s': med(rows, 't50_s'), 't90_s': med(rows, 't90_s'),
                              'mean_delay_s': med(rows, 'mean_delay_s')}
                       for name, rows in per_region.items() if rows},
           't50_s': med(everything, 't50_s'), 't90_s': med(everything, 't90_s'),
           'mean_delay_s': med(everything, 'mean_delay_s')}
    out['lag_s'] = out['mean_delay_s']
    return out


def default_self_model_path() -> str:
    """The shipped self-model (the simulated Emo head's inverse model, with its measured lag)."""
    from emo_inverse import default_path
    return default_path('inverse_default.pt')


def write_lag(path, lag: dict) -> None:
    """Save the measured lag with a self-model checkpoint (its meta['robot_lag'])."""
    import torch
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    ckpt.setdefault('meta', {})['robot_lag'] = lag
    torch.save(ckpt, path)


def read_lag(path):
    """The lag saved with a self-model checkpoint, or None (a model trained before lags were measured)."""
    import torch
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    lag = (ckpt.get('meta') or {}).get('robot_lag') if isinstance(ckpt, dict) else None
    return lag if isinstance(lag, dict) and isinstance(lag.get('lag_s'), (int, float)) else None


