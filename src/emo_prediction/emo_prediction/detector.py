"""Causal detection of an emerging expression in a live landmark stream.

    detector = OnsetDetector(DetectorParams(), fps=30)
    for t, face_xy in stream:                  # (113, 2) face-frame landmarks, or None when no face
        event = detector.update(t, face_xy)
        if event:                              # an onset: anticipate its target face now
            event.peak_activation_time, event.fire_time

The paper finds the peak activation offline (the greatest acceleration of the
face away from its rest face, before the frame farthest from rest), which needs
the future. Online, this detector:

1. keeps an adaptive rest face: an exponential average of the face while it is
   calm, frozen while an expression is under way;
2. measures activation, the mean landmark distance to the rest face (eyelid
   points down-weighted, so blinks count little), and smooths it causally with a
   Savitzky-Golay fit over the last few frames evaluated at the newest frame,
   which also gives its velocity and acceleration;
3. fires when activation rises above a threshold (a fixed floor or a multiple
   of the calm noise, whichever is larger) while still rising fast, for
   `confirm_frames` frames in a row; the peak activation reported is the frame
   of greatest acceleration since the rise began;
4. re-arms only after the face has returned near rest and a refractory time
   has passed; a gap without a face longer than `max_gap_s` resets it;
5. a firing that fizzles (its activation has not grown to `fizzle_factor` times
   its value at firing `fizzle_s` after firing) was landmark noise or a slow drift
   (a face not quite back at its old rest after an expression): the detector
   re-arms at once, from the face where it now rests, so that the refractory
   time does not swallow the real onset that follows.
"""
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.signal import savgol_coeffs

# Rows of the 113-point model order that are eyelid points (weight reduced: blinks).
EYELID_VERTICES = (246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398,
                   7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382)


@dataclass
class DetectorParams:
    window: int = 5                  # frames of the causal Savitzky-Golay fit
    activation_min: float = 0.0045   # face units: the least activation that can fire
    noise_factor: float = 5.0        # ... or this many calm-noise SDs, whichever is larger
    velocity_min: float = 0.03       # face units/s: still rising this fast when firing
    confirm_frames: int = 2          # consecutive frames meeting both conditions
    rest_alpha: float = 0.05         # rest-face update per calm frame
    calm_fraction: float = 0.5       # calm = activation below this fraction of the threshold
    rearm_fraction: float = 0.35     # re-arm once activation falls below this fraction of the last peak...
    rearm_frames: int = 6            # ... for this many frames
    refractory_s: float = 0.8        # and at least this long after firing
    max_gap_s: float = 0.5           # a longer gap without a face resets the detector
    fizzle_factor: float = 2.0       # a firing whose activation has not grown this many times over...
    fizzle_s: float = 0.2            # ... this long after firing fizzled: re-arm from a fresh rest face
    eyelid_weight: float = 0.25
    init_frames: int = 5             # frames averaged into the first rest face (the paper's 5)
    min_calm_frames: int = 8         # calm frames seen (noise level known) before it can fire
    regional: bool = True            # activation = the most active face region, not the whole face


@dataclass(frozen=True)
class OnsetEvent:
    fire_time: float                 # time of the frame that fired (s, the stream's clock)
    peak_activation_time: float      # time of the greatest acceleration of this rise
    activation: float                # smoothed activation when firing
    velocity: float                  # its rate of rise (units/s)
    rest_face: np.ndarray            # (113, 2) the rest face the onset departs from


class OnsetDetector:
    def __init__(self, params: DetectorParams = None, fps: float = 30.0, vertex_ids=None):
        self.p = params or DetectorParams()
        self.fps = fps
        w = self.p.window
        # Causal fits: coefficients that give value, slope and curvature at the newest sample.
        self._c0 = savgol_coeffs(w, 2, deriv=0, pos=w - 1, use='dot')
        self._c1 = savgol_coeffs(w, 2, deriv=1, delta=1.0 / fps, pos=w - 1, use='dot')
        self._c2 = savgol_coeffs(w, 2, deriv=2, delta=1.0 / fps, pos=w - 1, use='dot')
        self.weights = np.ones(113)
        if vertex_ids is not None:
            ids = list(vertex_ids)
            for v in EYELID_VERTICES:
                if v in ids:
                    self.weights[ids.index(v)] = self.p.eyelid_weight
        self.weights /= self.weights.sum()
        # Face regions (brows, lips, jaw; the eyes only inside the whole face, where
        # their weight is low, since blinks move them most): an expression concentrates
        # in one or two regions, where it stands out of the landmark noise sooner.
        self.regions = []
        if vertex_ids is not None and self.p.regional:
            from emo_prediction.face import face_model
            _, ids_, rows = face_model()
            if list(ids_) == list(vertex_ids):
                self.regions = [np.concatenate([rows['right_brow10'], rows['left_brow10']]),
                                rows['lips40'], rows['jaw21'], np.arange(113)]
        self.reset()

    def reset(self) -> None:
        self.rest_face = None
        self._init = []
        self._raw = deque(maxlen=self.p.window)
        self._times = deque(maxlen=self.p.window)
        self._faces = deque(maxlen=self.p.window)
        self.fizzles = 0
        self.noise_sd = 0.0
        self.baseline = 0.0              # calm activation level (landmark jitter alone)
        self._noise_n = 0
        self.armed = True
        self._confirm = 0
        self._rise_start = None
        self._best_accel = (-np.inf, None)
        self._last_fire = -np.inf
        self._peak_since_fire = self._fire_activation = 0.0
        self._below = 0
        self._last_time = None
        self.activation = self.velocity = self.acceleration = 0.0

    @property
    def threshold(self) -> float:
        return max(self.p.activation_min, self.p.noise_factor * self.noise_sd)

    def activation_of(self, face_xy: np.ndarray) -> float:
        """Landmark distance of a face to the current rest face: the weighted mean over the
        whole face, or the largest mean over a face region (eyelids down-weighted)."""
        dist = np.linalg.norm(face_xy - self.rest_face, axis=1)
        if not self.regions:
            return float(self.weights @ dist)
        w = self.weights
        return float(max((w[r] @ dist[r]) / w[r].sum() for r in self.regions))

    def update(self, t: float, face_xy: Optional[np.ndarray]) -> Optional[OnsetEvent]:
        """Feed one frame (face None when no face was found); returns an event when an onset is detected."""
        if face_xy is None:
            if self._last_time is not None and t - self._last_time > self.p.max_gap_s:
                self.reset()
            return None
        face_xy = np.asarray(face_xy, dtype=np.float64).reshape(113, 2)
        if not np.isfinite(face_xy).all():
            return None
        if self._last_time is not None and t - self._last_time > self.p.max_gap_s:
            self.reset()
        self._last_time = t
        if self.rest_face is None:
            self._init.append(face_xy)
            if len(self._init) >= self.p.init_frames:
                self.rest_face = np.mean(self._init, axis=0)
            return None

        self._raw.append(self.activation_of(face_xy))
        self._times.append(t)
        self._faces.append(face_xy)
        if len(self._raw) < self.p.window:
            return None
        # Jitter alone keeps the distance to the rest face above zero: measure above that level.
        raw = np.array(self._raw) - self.baseline
        self.activation = float(self._c0 @ raw)
        self.velocity = float(self._c1 @ raw)
        self.acceleration = float(self._c2 @ raw)
        threshold = self.threshold

        # The first frames after the rest face are calm by assumption (as the paper's
        # first 5 frames): they set the jitter baseline and the noise level.
        calm = self._noise_n < self.p.min_calm_frames or self.activation < self.p.calm_fraction * threshold
        if self.armed and calm:
            # Adapt the rest face and the noise level only while the face is calm.
            self.rest_face += self.p.rest_alpha * (face_xy - self.rest_face)
            self._noise_n = min(self._noise_n + 1, 300)
            self.baseline += raw[-1] / self._noise_n
            self.noise_sd += (abs(raw[-1] - raw.mean()) * 1.25 - self.noise_sd) / self._noise_n
            self._rise_start = None
            self._best_accel = (-np.inf, None)

        if not self.armed:
            self._peak_since_fire = max(self._peak_since_fire, self.activation)
            if t - self._last_fire >= self.p.fizzle_s and self._peak_since_fire < self.p.fizzle_factor * self._fire_activation:
                # Noise or drift, not an expression: the face rests where it is now.
                self.rest_face = np.mean(self._faces, axis=0)
                self._raw = deque((self.activation_of(f) for f in self._faces), maxlen=self.p.window)
                self.armed = True
                self._confirm = 0
                self.fizzles += 1
                return None
            if self.activation < self.p.rearm_fraction * self._peak_since_fire:
                self._below += 1
            else:
                self._below = 0
            if self._below >= self.p.rearm_frames and t - self._last_fire >= self.p.refractory_s:
                self.armed = True
                self._confirm = 0
            return None

        if self.velocity > 0 and self._rise_start is None and not calm:
            self._rise_start = t
        if self._rise_start is not None and self.acceleration > self._best_accel[0]:
            self._best_accel = (self.acceleration, t)
        if self.activation > threshold and self.velocity > self.p.velocity_min:
            self._confirm += 1
        else:
            self._confirm = 0
        if self._confirm < self.p.confirm_frames or self._noise_n < self.p.min_calm_frames:
            return None
        self.armed = False
        self._last_fire = t
        self._peak_since_fire = self._fire_activation = self.activation
        self._below = 0
        peak_time = self._best_accel[1] if self._best_accel[1] is not None else t
        return OnsetEvent(t, peak_time, self.activation, self.velocity, self.rest_face.copy())


def run_detector(face_xy: np.ndarray, fps: float, params: DetectorParams = None, vertex_ids=None) -> list:
    """Run the detector over a whole clip (frames, 113, 2; NaN = no face); returns [(frame, event)]."""
    detector = OnsetDetector(params, fps, vertex_ids)
    events = []
    for i, face in enumerate(face_xy):
        ev = detector.update(i / fps, None if not np.isfinite(face).all() else face)
        if ev:
            events.append((i, ev))
    return events
