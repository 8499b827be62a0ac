"""Coexpression timing from a recording: when the person's face and the robot's face arrive.

    curves = read_curves('run_bag')                 # human and robot expression curves
    result = arrival_gaps(curves)                   # per expression: human and robot arrival, gap

Human expression: the distance of /emo/face/landmarks from the person's rest
face (mean of the first 10 faces), over the capture stamps. Robot face: the
distance of /emo/robot/face/landmarks (the simulated head, fed with the
servos' actual positions) from the robot's rest face. Expressions are the
stretches where the human curve rises above 40 % of its maximum (or the known
windows of a clip, each ending while the person holds the expression). A face
"arrives" when it first covers 90 % of the way from its level before the
expression to its level while the person holds the target face (the median
over the window's last 0.4 s: an overshoot on the way does not move the
target). gap = robot arrival - human arrival (negative: the robot is early).
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Curves:
    human_t: np.ndarray
    human: np.ndarray
    robot_t: np.ndarray
    robot: np.ndarray


def _distance_curve(stamps, faces, rest_frames: int = 10):
    ok = np.isfinite(faces).all(axis=(1, 2))
    stamps, faces = stamps[ok], faces[ok]
    if len(faces) < rest_frames + 2:
        return stamps, np.zeros(len(stamps))
    rest = faces[:rest_frames].mean(axis=0)
    return stamps, np.linalg.norm(faces - rest, axis=2).mean(axis=1)


def read_curves(bag) -> Curves:
    from emo_msgs.msg import Topics
    from emo_prediction.training.bag_reading import read_face_landmarks
    ht, hf = read_face_landmarks(bag, '/' + Topics.FACE_LANDMARKS)
    rt, rf = read_face_landmarks(bag, '/' + Topics.ROBOT_FACE_LANDMARKS)
    ht, h = _distance_curve(ht, hf)
    rt, r = _distance_curve(rt, rf)
    return Curves(ht, h, rt, r)


def _smooth(t, d, window_s: float = 0.1):
    if len(d) < 3:
        return d
    dt = max(float(np.median(np.diff(t))), 1e-3) if len(t) > 1 else 1 / 30   # repeated stamps: dt 0
    k = max(1, int(round(window_s / dt)))
    return np.convolve(d, np.ones(k) / k, mode='same')


def expression_stretches(t, d, level: float = 0.4, min_s: float = 0.25, merge_s: float = 0.3):
    s = _smooth(t, d)
    if len(s) == 0 or s.max() <= 0:
        return []
    above = s > level * s.max()
    spans, start = [], None
    for i, a in enumerate(above):
        if a and start is None:
            start = i
        if (not a or i == len(above) - 1) and start is not None:
            spans.append([t[start], t[i]])
            start = None
    merged = []
    for a, b in spans:
        if merged and a - merged[-1][1] < merge_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b - a >= min_s]


def _arrival(t, d, lo, hi, hold, fraction=0.9):
    """First time in [lo, hi] the curve covers `fraction` of the way from its level before the
    expression to its level while the person holds it (the median over `hold`, so a brief
    overshoot on the way does not set the target)."""
    m = (t >= lo) & (t <= hi)
    h = (t >= hold[0]) & (t <= hold[1])
    if m.sum() < 2 or h.sum() < 2:
        return None
    s = _smooth(t[m], d[m])
    base = np.percentile(s, 5)
    level = float(np.median(d[h]))
    if level - base <= 1e-6:
        return None
    hit = np.flatnonzero(s >= base + fraction * (level - base))
    return float(t[m][hit[0]]) if len(hit) else None


def arrival_gaps(c: Curves, windows=None, hold_s: float = 0.4) -> dict:
    """Arrival gaps per expression; windows: known (start, end) times of each expression, else found.
    The last hold_s of each window must be the person holding the expression."""
    rows = []
    for a, b in windows if windows is not None else expression_stretches(c.human_t, c.human):
        hold = (b - hold_s, b)           # the person holds the target face at the end of the window
        human = _arrival(c.human_t, c.human, a - 0.8, b, hold)
        robot = _arrival(c.robot_t, c.robot, a - 0.8, b + 1.0, hold)
        rows.append({'start': a, 'end': b, 'human_arrival': human, 'robot_arrival': robot,
                     'gap_s': None if human is None or robot is None else robot - human})
    gaps = np.array([r['gap_s'] for r in rows if r['gap_s'] is not None])
    return {'expressions': rows,
            'median_gap_s': float(np.median(gaps)) if len(gaps) else None,
            'median_abs_gap_s': float(np.median(np.abs(gaps))) if len(gaps) else None}


def compare_modes(coexpression: dict, mimicry: dict) -> dict:
    """How much earlier coexpression's robot face arrives than mimicry's, expression by expression
    (two arrival_gaps results on the same clip): positive advance = coexpression earlier."""
    pairs = [(c['gap_s'], m['gap_s']) for c, m in zip(coexpression['expressions'], mimicry['expressions'])
             if c['gap_s'] is not None and m['gap_s'] is not None]
    advance = np.array([m - c for c, m in pairs])
    return {'advance_s': advance.tolist(),
            'median_advance_s': float(np.median(advance)) if len(advance) else None,
            'expressions_earlier': int((advance > 0).sum()), 'expressions_compared': len(advance)}
