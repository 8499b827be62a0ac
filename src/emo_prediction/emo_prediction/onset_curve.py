"""What an emerging expression does next: a minimum-jerk rise fitted to its onset so far.

    rise = fit_rise(times, distances)           # distance of the face from its rest face over time
    rise.level(t)                               # the fitted distance at any time
    rise.ratio(now, now + h)                    # how much further from rest the face will be at now + h

A facial expression's onset is a smooth rise from the rest face to the target
face, fastest in its middle (human point-to-point movements follow a
minimum-jerk profile, Flash & Hogan 1985; so does the demo clip). Once the
onset detector fires, near the rise's fastest point, the rise seen so far fixes
when it started, how long it takes and how far it goes: fit
    d(t) = b + A s((t - t0) / T),   s(u) = 10u^3 - 15u^4 + 6u^5 on [0, 1]
to the face's distance from rest by least squares over a grid of (t0, T), with
b and A closed-form. The face expected at now + h is then the rest face plus
the present displacement scaled by the fitted level's growth. The fit's
extrapolation is bounded (MAX_RATIO), so a rise seen too early to tell cannot
ask for an extreme face.
"""
from dataclasses import dataclass

import numpy as np

DURATIONS_S = np.geomspace(0.2, 2.0, 25)    # onset durations considered (the paper: 0.84 +- 0.71 s)
START_STEP_S = 1.0 / 60.0                   # resolution of the rise's start time
MAX_RATIO = 3.0                             # the face may be predicted at most this much further from rest
# Early in a rise the data fit a short rise that is ending as well as a long one just begun: a prior
# on the duration settles it (log-normal, the paper's 0.84 s +- 0.71 s), weighed against the misfit
# at the distance's jitter (SD ~0.0015 face units for the mean landmark distance).
PRIOR_MEDIAN_S, PRIOR_LOG_SD = 0.65, 0.7
JITTER = 0.0015


def minimum_jerk(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


@dataclass(frozen=True)
class Rise:
    start: float       # t0 (s)
    duration: float    # T (s)
    base: float        # b: distance from rest before the rise (landmark jitter keeps it above 0)
    amplitude: float   # A: how much further it goes

    def level(self, t):
        return self.base + self.amplitude * minimum_jerk((np.asarray(t, dtype=np.float64) - self.start) / self.duration)

    @property
    def end(self) -> float:
        return self.start + self.duration

    def ratio(self, now: float, later: float) -> float:
        """Growth of the displacement from rest between now and later, in [1, MAX_RATIO]."""
        here = self.level(now) - self.base
        there = self.level(later) - self.base
        if here <= 1e-9:
            return MAX_RATIO if there > 0 else 1.0
        return float(np.clip(there / here, 1.0, MAX_RATIO))


def fit_rise(times, distances, history_s: float = 1.2):
    """The minimum-jerk rise that best fits the last history_s of (times, distances), or None
    (too few samples, or no rising fit)."""
    t = np.asarray(times, dtype=np.float64)
    d = np.asarray(distances, dtype=np.float64)
    if len(t) < 4:
        return None
    now = t[-1]
    keep = t >= now - history_s
    t, d = t[keep], d[keep]
    if len(t) < 4:
        return None
    starts = np.arange(now - history_s, now, START_STEP_S)
    s = minimum_jerk((t[None, None, :] - starts[:, None, None]) / DURATIONS_S[None, :, None])
    # Least squares d = b + A s for every (t0, T): closed form.
    s_mean = s.mean(axis=2, keepdims=True)
    d_mean = d.mean()
    sc = s - s_mean
    var = (sc * sc).sum(axis=2)
    amp = (sc * (d - d_mean)).sum(axis=2) / np.maximum(var, 1e-12)
    base = d_mean - amp * s_mean[..., 0]
    resid = ((base[..., None] + amp[..., None] * s - d) ** 2).sum(axis=2) / (2 * JITTER ** 2)
    resid = resid + (np.log(DURATIONS_S / PRIOR_MEDIAN_S) ** 2 / (2 * PRIOR_LOG_SD ** 2))[None, :]
    resid = np.where((amp > 0) & (var > 1e-9), resid, np.inf)
    i, j = np.unravel_index(np.argmin(resid), resid.shape)
    if not np.isfinite(resid[i, j]):
        return None
    return Rise(float(starts[i]), float(DURATIONS_S[j]), float(base[i, j]), float(amp[i, j]))
