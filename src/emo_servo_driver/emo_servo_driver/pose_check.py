"""Is a goal set a valid face? An independent check (for tests and `make soak`, not the runtime).

    commands = valid_face(head, goals)     # commands in the constraints that give these goals, or None

A goal set is a valid face when some commands in [0, 1]^11 that satisfy every
head constraint map onto its facial servos (head.commands_to_goals). The map
is piecewise linear (a kink at each command's calm value, a clip at each
servo's range), so the question is a small mixed-integer feasibility problem:
one binary per command for its side of calm (scipy's HiGHS MILP).
"""
import numpy as np

from emo_description.head import Head


def valid_face(head: Head, goals, tol_ticks: float = 0.75, tol: float = 1e-6):
    from scipy.optimize import Bounds, LinearConstraint, milp
    g = np.asarray(goals, dtype=np.float64)
    f = head.facial
    k = len(head.command_calm)
    c0 = head.command_calm
    up = np.where(head.max > head.calm, head.max - head.calm, 1.0)
    down = np.where(head.calm > head.min, head.calm - head.min, 1.0)
    # Each facial servo's move in [-1, 1] (before its direction) and its tolerance in those units.
    m = np.where(g >= head.calm, (g - head.calm) / up, (g - head.calm) / down) * head.direction
    m_tol = tol_ticks / np.where(g >= head.calm, up, down)
    # Variables x = [c (k), p (k), n (k), z (k)]: c = c0 + p - n, o = p/(1-c0) - n/c0, z = 1 on the upper side.
    nv = 4 * k
    rows, lo, hi = [], [], []

    def add(row, a, b):
        rows.append(row)
        lo.append(a)
        hi.append(b)

    for j in range(k):
        row = np.zeros(nv)
        row[j], row[k + j], row[2 * k + j] = 1.0, -1.0, 1.0
        add(row, c0[j], c0[j])                                  # c = c0 + p - n
        row = np.zeros(nv)
        row[k + j], row[3 * k + j] = 1.0, -(1.0 - c0[j])
        add(row, -np.inf, 0.0)                                  # p <= (1 - c0) z
        row = np.zeros(nv)
        row[2 * k + j], row[3 * k + j] = 1.0, c0[j]
        add(row, -np.inf, c0[j])                                # n <= c0 (1 - z)
    inv_up = np.where(c0 < 1, 1.0 / np.where(c0 < 1, 1 - c0, 1), 0.0)
    inv_down = np.where(c0 > 0, 1.0 / np.where(c0 > 0, c0, 1), 0.0)
    for i in np.flatnonzero(f):
        w = head.command_weights[i]
        row = np.zeros(nv)
        row[k:2 * k] = w * inv_up
        row[2 * k:3 * k] = -w * inv_down
        if m[i] >= 1 - m_tol[i]:
            add(row, 1 - m_tol[i], np.inf)                      # clipped at the top of its range
        elif m[i] <= -1 + m_tol[i]:
            add(row, -np.inf, -1 + m_tol[i])
        else:
            add(row, m[i] - m_tol[i], m[i] + m_tol[i])
    from emo_servo_driver.safety import Constraints
    limits = Constraints(head)
    for a, b in zip(limits.a, limits.b):
        row = np.zeros(nv)
        row[:k] = a
        add(row, -np.inf, b + tol)
    bounds = Bounds(np.zeros(nv), np.concatenate([np.ones(k), 1 - c0, c0, np.ones(k)]))
    integrality = np.concatenate([np.zeros(3 * k), np.ones(k)])
    res = milp(np.zeros(nv), constraints=LinearConstraint(np.array(rows), lo, hi), bounds=bounds,
               integrality=integrality)
    return res.x[:k] if res.status == 0 else None

