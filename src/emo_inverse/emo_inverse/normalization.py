"""From a person's face to the robot's face space (the paper's normalization, equations 1-2).

    norm = Normalizer.from_babbling(data, k=1.0)
    robot_face = norm(human_face, human_rest)

L_R = R_s + clip(K (L_H - H_s), R_min - R_s, R_max - R_s), per landmark coordinate:
the person's displacement from their own rest face, scaled by K, limited by the
robot's range of motion around its rest face (R_min, R_max: the extremes of
each coordinate over the babbling dataset), added to the robot's rest face.
(The paper prints both cases with Min; the negative case is the Max against
R_min - R_s. K is applied before the limit here, so no landmark ever asks for
more than the robot can do.)
"""
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from emo_common.messages import check_face


@dataclass
class Normalizer:
    robot_rest: np.ndarray     # (113, 2) R_s
    robot_min: np.ndarray      # (113, 2) R_min
    robot_max: np.ndarray      # (113, 2) R_max
    k: float = 1.0

    @classmethod
    def from_babbling(cls, data: dict, k: float = 1.0) -> 'Normalizer':
        faces = data['faces']
        return cls(np.asarray(data['rest_face'], np.float32), faces.min(axis=0), faces.max(axis=0), k)

    def __call__(self, human_face: np.ndarray, human_rest: np.ndarray) -> np.ndarray:
        shift = self.k * (np.asarray(human_face, np.float32) - np.asarray(human_rest, np.float32))
        return self.robot_rest + np.clip(shift, self.robot_min - self.robot_rest, self.robot_max - self.robot_rest)

    def save_dict(self) -> dict:
        return {'robot_rest': self.robot_rest, 'robot_min': self.robot_min, 'robot_max': self.robot_max,
                'k': np.float32(self.k)}


class RestFaceEstimator:
    """The person's rest face, estimated online and robustly: the median of their calm faces.

        est = RestFaceEstimator()
        est.update(face_xy, t)       # every observed face, t in seconds; returns the estimate (None at first)
        est.rest                     # (113, 2) or None
        est.reset()                  # forget it: the next faces make a new one

    The first estimate is the median of the first `init` faces (the paper takes the mean of 5).
    From then on, faces are sampled into a window (`sample_hz`, the last `window_s` seconds), and the
    estimate is the per-coordinate median of the window's calm faces: those within `calm_distance`
    (mean landmark distance) of the median of all of them. So the face the person shows most of the time
    is their rest face: expressions, which come and go, and tracker glitches do not count, a slow drift is
    followed, and someone who starts while smiling is measured against their calm face as soon as calm
    faces outnumber the smile in the window (a held expression that outlasts the calm faces in the
    window is taken for the rest face, the limit of this rule). A face that is no plausible face-frame
    face (emo_common.messages: wrong size, non-finite, far outside the frame) is rejected and
    counted in `rejected`, never learned. No face for `forget_s` (a new person, perhaps) or time running
    backwards (a clock reset) starts anew, counted in `resets`. Without t, each face is one sample.
    """

    def __init__(self, init: int = 5, calm_distance: float = 0.02, window_s: float = 30.0, sample_hz: float = 5.0,
                 forget_s: float = 10.0):
        self.init, self.calm_distance = max(1, int(init)), calm_distance
        self.window_s, self.period, self.forget_s = window_s, 1.0 / sample_hz, forget_s
        self.rejected = self.resets = 0
        self._count = 0
        self.reset()

    def reset(self) -> None:
        """Forget the rest face: the next `init` faces make a new one."""
        self.rest = None
        self._first = []
        self._times, self._faces = deque(), deque()
        self._last_t = None

    @property
    def samples(self) -> int:
        """Faces in the window the estimate is the median of."""
        return len(self._faces)

    def update(self, face, t: float = None) -> Optional[np.ndarray]:
        if t is None:
            t, self._count = self._count * self.period, self._count + 1
        try:
            t = float(t)
        except (TypeError, ValueError):
            t = float('nan')
        if not np.isfinite(t):
            return self.rest
        face = check_face(face).face
        if face is None:
            self.rejected += 1
            return self.rest
        if self._last_t is not None and not 0.0 <= t - self._last_t <= self.forget_s:
            self.reset()          # lost for a while, or the clock went back: whoever this is, start anew
            self.resets += 1
        self._last_t = t
        if self.rest is None and len(self._first) < self.init:
            self._first.append(face)
            if len(self._first) == self.init:
                self.rest = self._robust_median(np.stack(self._first))
        if not self._times or t - self._times[-1] >= self.period:
            self._times.append(t)
            self._faces.append(face)
            while t - self._times[0] > self.window_s:
                self._times.popleft()
                self._faces.popleft()
            if self.rest is not None and len(self._faces) >= self.init:
                self.rest = self._robust_median(np.stack(self._faces))
        return self.rest

    def _robust_median(self, faces: np.ndarray) -> np.ndarray:
        """Median of the faces near the median of all of them (all of them when too few are)."""
        center = np.median(faces, axis=0)
        calm = faces[np.linalg.norm(faces - center, axis=2).mean(axis=1) < self.calm_distance]
        return (np.median(calm, axis=0) if len(calm) >= max(1, len(faces) // 2) else center).astype(np.float32)
