"""What the predictor publishes for each observed face: the face to show now, and an onset's target face.

    anticipator = Anticipator(NumpyPredictor.from_model(model), lead_s=0.8, fps=30, robot_lag_s=0.2,
                              forecaster=forecaster)
    out = anticipator.update(t, face_xy)     # per frame; None while there is nothing to say
    out.face_xy, out.kind                    # the face to show now; ONSET (an onset under way) or FOLLOW
    out.target_xy                            # the predicted target face (None when following)

The robot's face reaches what it is told `robot_lag_s` later, so what it is
told is the person's face of then. Mode "anticipate" (coexpression): while the
person is calm, talking or holding an expression, the face shown is the
forecaster's face at t + robot_lag_s (emo_prediction.forecast; without a
forecaster, the current face). When the onset detector
fires, the model predicts the target face from 4 of the last 9 faces, as the
paper does; unlike the paper's single shot, the prediction is then refined on
every new frame of the onset (the model sees more of it, so the amplitude it
predicts grows towards the real one) until the expected lead time has passed
or the detector calls the firing a fizzle. The robot so moves to where the
person is going instead of where they are; should the person get further
from rest than predicted, following them is the earlier way to the target.
`onset_face='forecast'` shows the forecast during an onset too (the target is
still published).
Mode "mimic" (the paper's baseline): always the current face.
"""
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
from emo_msgs.msg import AnticipatedFace

from emo_prediction.window import INPUT_FRAMES
from emo_prediction.detector import DetectorParams, OnsetDetector
from emo_common.layout import NUM_LANDMARKS

# The predictor's modes, as AnticipatedFace.mode names them.
ANTICIPATE, MIMIC = AnticipatedFace.MODE_ANTICIPATE, AnticipatedFace.MODE_MIMIC
MODES = (ANTICIPATE, MIMIC)
# What a published face is (Anticipation.kind): not the mode, which says what the node was asked to do.
ONSET, FOLLOW = 'onset', 'follow'
# What is shown during an onset: paced towards the target, the forecast, or extrapolated along the onset.
PACED, FORECAST, EXTRAPOLATED = 'paced', 'forecast', 'extrapolated'
ONSET_FACES = (PACED, FORECAST, EXTRAPOLATED)
# Extrapolated: the shown face goes at most this far past the larger of the target and the current face
# (as a share of that displacement): a tracking glitch cannot throw the robot's face.
EXTRAPOLATION_CAP = 1.0


@dataclass(frozen=True)
class Anticipation:
    face_xy: np.ndarray            # (113, 2) face frame: the face to show now
    kind: str                      # ONSET (an onset under way: towards its predicted target) or FOLLOW (following
                                   # the person: the face forecast at t + lag, or in mimicry the face itself)
    stamp: float                   # time of the newest observed face it is based on
    peak_activation_time: float    # the detected peak activation (== stamp when following)
    lead_s: float                  # expected time from stamp to the target face (0 when following)
    confidence: float
    target_xy: Optional[np.ndarray] = None   # (113, 2) the predicted target face while anticipating


class Anticipator:
    def __init__(self, predictor=None, mode: str = ANTICIPATE, lead_s: float = 0.8, fps: float = 30.0,
                 params: DetectorParams = None, vertex_ids=None, robot_lag_s: float = 0.0, forecaster=None,
                 onset_face: str = PACED, hold_expressions: bool = True):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if onset_face not in ONSET_FACES:
            raise ValueError(f'onset_face must be one of {ONSET_FACES}, got {onset_face!r}')
        self.onset_face = onset_face
        self.hold_expressions = hold_expressions
        if mode == ANTICIPATE and predictor is None:
            raise ValueError('anticipate mode needs a predictive model')
        self.predictor, self.mode, self.lead_s = predictor, mode, lead_s
        self.detector = OnsetDetector(params, fps, vertex_ids)
        self.robot_lag_s = max(0.0, robot_lag_s)
        self.forecaster = forecaster if mode == ANTICIPATE else None
        self.history = deque(maxlen=9)
        self.times = deque(maxlen=9)
        self._last: Optional[Anticipation] = None
        self._onset = None             # (fire time, peak activation time, confidence scale) of the onset under way
        self._risen_from = None        # the rest face the last onset rose from, while its expression lasts
        self.fires = 0
        self.target_xy = None          # the newest target face predicted (kept for evaluation and monitoring)

    def _model_input(self) -> np.ndarray:
        faces = list(self.history)
        faces = [faces[0]] * (9 - len(faces)) + faces  # after a gap: repeat the oldest face
        return np.stack([faces[i] for i in INPUT_FRAMES])

    def update(self, t: float, face_xy: Optional[np.ndarray], confidence: float = 1.0) -> Optional[Anticipation]:
        """One observed frame (face None when lost) -> what to publish now, if anything."""
        if face_xy is None:  # face lost: keep saying the onset's last prediction while its lead time lasts
            self.detector.update(t, None)
            if self.forecaster is not None:
                self.forecaster.update(t, None)
            last = self._last
            if self._onset is None or last is None or last.kind != ONSET or t - self._onset[0] >= self.lead_s:
                return None
            return last
        face_xy = np.asarray(face_xy, dtype=np.float32).reshape(NUM_LANDMARKS, 2)
        if self.history and t - self.times[-1] > self.detector.p.max_gap_s:
            self.history.clear()
            self.times.clear()
            self._risen_from = None                # the detector starts afresh too
        self.history.append(face_xy)
        self.times.append(t)
        if self.mode == MIMIC:
            return Anticipation(face_xy, FOLLOW, t, t, 0.0, confidence)
        event = self.detector.update(t, face_xy)
        follow = Anticipation(self._forecast(t, face_xy), FOLLOW, t, t, 0.0, confidence)
        if event is not None:
            self.fires += 1
            strength = min(1.0, event.activation / (2.0 * self.detector.threshold))
            self._onset = (t, event.peak_activation_time, 0.5 + 0.5 * strength)  # last: confidence scale
            self._risen_from = event.rest_face
        if self._onset is None:
            return follow
        fire_t, peak_t, scale = self._onset
        extrapolate = self.onset_face == EXTRAPOLATED
        rising = extrapolate and self.detector.velocity > self.detector.p.velocity_min
        if self.detector.armed or (t - fire_t >= self.lead_s and not rising):   # fizzled, over, or its lead
            self._onset = None                                                  # time passed (and risen)
            return follow
        self._last = follow
        target = self.predictor.predict(self._model_input())
        self.target_xy = target
        rest = self.detector.rest_face
        if extrapolate:
            self._last = Anticipation(self._extrapolated(face_xy, target, rest), ONSET, t, peak_t,
                                      max(0.0, self.lead_s - (t - fire_t)), float(confidence * scale), target)
            return self._last
        if np.linalg.norm(face_xy - rest, axis=1).mean() >= np.linalg.norm(target - rest, axis=1).mean():
            return follow
        shown = self._paced(face_xy, target) if self.onset_face == PACED else follow.face_xy
        self._last = Anticipation(shown, ONSET, t, peak_t, self.lead_s - (t - fire_t),
                                  float(confidence * scale), target)
        return self._last

    def _forecast(self, t: float, face_xy: np.ndarray) -> np.ndarray:
        """The face expected robot_lag_s after this one (the current face without a forecaster, or
        while an expression is under way or held: the forecaster learned mostly from talking faces,
        which return towards their mean, and an expression does not)."""
        if self.forecaster is None:
            return face_xy
        self.forecaster.update(t, face_xy)
        if self.robot_lag_s == 0.0 or (self.hold_expressions and self._expression(face_xy)):
            return face_xy
        ahead = self.forecaster.forecast(self.robot_lag_s)
        return face_xy if ahead is None else np.asarray(ahead, np.float32)

    def _expression(self, face_xy: np.ndarray) -> bool:
        """An expression under way or held: the person is not talking, and the detector is not calm
        (activation above calm_fraction of its threshold) or the face has not come back near the rest face
        the last onset rose from. (A fast expression fires near its apex and does not grow after: the
        detector calls that firing a fizzle and re-arms from the face where it now rests, the expression;
        it is held all the same.)"""
        d = self.detector
        if d.speaking:
            return False
        calm = d.p.calm_fraction * d.threshold
        if d.activation >= calm:
            return True
        if self._risen_from is not None and d.activation_from(face_xy, self._risen_from) >= calm:
            return True
        self._risen_from = None
        return False

    def _speed_along(self, unit: np.ndarray):
        """The person's speed (face units/s, not negative) along a unit direction, over the last few frames
        (one is mostly jitter); None before two faces are in."""
        k = min(3, len(self.history) - 1)
        if k < 1:
            return None
        dt = max(self.times[-1] - self.times[-1 - k], 1e-6)
        return max(0.0, float(np.sum((self.history[-1] - self.history[-1 - k]) * unit)) / dt)

    def _extrapolated(self, face_xy: np.ndarray, target: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """The face robot_lag_s from now at the person's present speed along the onset's direction (rest to
        the predicted target): the target model gives the direction, the person's own motion the pace, and
        the amplitude is not capped at the target (which the model under-predicts early in an onset)."""
        direction = target - rest
        n = float(np.linalg.norm(direction))
        if n < 1e-9 or self.robot_lag_s == 0.0:
            return face_xy
        u = direction / n
        speed = self._speed_along(u)
        if speed is None:
            return face_xy
        progress = float(np.sum((face_xy - rest) * u))
        room = (1.0 + EXTRAPOLATION_CAP) * max(n, progress) - progress
        return face_xy + min(speed * self.robot_lag_s, max(room, 0.0)) * u

    def _paced(self, face_xy: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The face on the way to the target that the person should show robot_lag_s from now."""
        gap = target - face_xy
        dist = float(np.linalg.norm(gap))
        if self.robot_lag_s == 0.0 or dist < 1e-9:
            return target
        speed = self._speed_along(gap / dist)
        if speed is None:
            return face_xy
        return face_xy + min(1.0, speed * self.robot_lag_s / dist) * gap
