"""The face at t + h: what a robot whose face lags its commands by h must be told now.

    forecaster = CopyCurrent()                    # or ConstantVelocity(), or a learned one (forecast_model.py)
    forecaster.update(t, face_xy)                 # every observed frame (face None when lost)
    face_then = forecaster.forecast(0.2)          # (113, 2) the face expected 0.2 s after the newest frame

A physical face needs time to move ("giving its mechanical apparatus
sufficient time to actuate", the paper), so the face the robot shows when it
gets there should be the person's face of then, not of now. These are the
forecasters every learned one is judged against:

- `CopyCurrent`: the newest observed face (what mimicry shows).
- `ConstantVelocity`: a straight line fitted over the last few frames,
  extrapolated by h; the step is clipped, since frame-to-frame landmark motion
  is mostly tracking jitter.

`FaceHistory` keeps the timestamped faces and resamples them onto a fixed-rate
grid that ends at the newest frame, so a model trained at one rate runs on a
camera of any rate.
"""
from collections import deque
from typing import Optional

import numpy as np

from emo_common.layout import NUM_LANDMARKS

MODEL_RATE = 30.0      # Hz: the grid learned forecasters see their input on


def interpolate(times: np.ndarray, flat: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Linear interpolation of frames `flat` (n, d) taken at `times` (increasing) at the times `want`
    (any shape), clamped to the first and last frame (training samples and the running history alike)."""
    want = np.clip(want, times[0], times[-1])
    hi = np.clip(np.searchsorted(times, want, side='left'), 0, len(times) - 1)
    lo = np.maximum(hi - 1, 0)
    span = times[hi] - times[lo]
    w = np.where(span > 0, (want - times[lo]) / np.where(span > 0, span, 1.0), 1.0)[..., None]
    return flat[lo] * (1 - w) + flat[hi] * w


class FaceHistory:
    """The last `seconds` of observed faces with their times; a gap longer than `max_gap_s` starts afresh."""

    def __init__(self, seconds: float = 2.0, max_gap_s: float = 0.5):
        self.seconds, self.max_gap_s = seconds, max_gap_s
        self.times = deque()
        self.faces = deque()

    def __len__(self):
        return len(self.faces)

    def clear(self) -> None:
        self.times.clear()
        self.faces.clear()

    def push(self, t: float, face_xy: Optional[np.ndarray]) -> None:
        if self.times and t - self.times[-1] > self.max_gap_s:
            self.clear()
        if face_xy is None:
            return
        if self.times and t <= self.times[-1]:      # a repeated or older stamp: keep the newest face only
            return
        self.times.append(t)
        self.faces.append(np.asarray(face_xy, dtype=np.float64).reshape(NUM_LANDMARKS, 2))
        while self.times and t - self.times[0] > self.seconds:
            self.times.popleft()
            self.faces.popleft()

    @property
    def newest(self) -> Optional[np.ndarray]:
        return self.faces[-1] if self.faces else None

    def grid(self, n: int, rate: float = MODEL_RATE) -> np.ndarray:
        """(n, 113, 2) faces at newest - (n-1)/rate ... newest, linearly interpolated between observed
        frames; times before the oldest frame take the oldest face."""
        times = np.fromiter(self.times, float, len(self.times))
        faces = np.stack(self.faces).reshape(len(times), -1)
        return interpolate(times, faces, times[-1] - np.arange(n - 1, -1, -1) / rate).reshape(n, NUM_LANDMARKS, 2)


class Forecaster:
    """Base: keeps the history; subclasses say what the face will be h seconds after the newest frame."""
    name = 'forecaster'
    history_s = 2.0

    def __init__(self, max_gap_s: float = 0.5):
        self.history = FaceHistory(self.history_s, max_gap_s)

    def reset(self) -> None:
        self.history.clear()

    def update(self, t: float, face_xy: Optional[np.ndarray]) -> None:
        self.history.push(t, face_xy)

    def forecast(self, h: float) -> Optional[np.ndarray]:
        raise NotImplementedError


class CopyCurrent(Forecaster):
    """The newest observed face: the person's face does not change (mimicry)."""
    name = 'copy_current'

    def forecast(self, h: float) -> Optional[np.ndarray]:
        return None if self.history.newest is None else self.history.newest.copy()


class ConstantVelocity(Forecaster):
    """A least-squares line through the last `fit_s` of faces (on the model grid), extrapolated by h;
    each landmark's extrapolated step is clipped to `max_step` face units."""
    name = 'constant_velocity'

    def __init__(self, fit_s: float = 0.1, max_step: float = 0.05, max_gap_s: float = 0.5):
        super().__init__(max_gap_s)
        self.n = max(2, int(round(fit_s * MODEL_RATE)) + 1)
        self.max_step = max_step
        k = np.arange(self.n) - (self.n - 1.0)                  # grid frames before the newest: ..., -1, 0
        self._slope = (k - k.mean()) / np.sum((k - k.mean()) ** 2)   # least-squares slope per grid frame

    def forecast(self, h: float) -> Optional[np.ndarray]:
        if self.history.newest is None:
            return None
        newest = self.history.newest
        if len(self.history) < 2:
            return newest.copy()
        g = self.history.grid(self.n)
        velocity = np.tensordot(self._slope, g, axes=1) * MODEL_RATE     # face units per second
        step = velocity * h
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        step *= np.minimum(1.0, self.max_step / np.maximum(norm, 1e-12))
        return newest + step
