"""What the predictor publishes for each observed face: the anticipated target face, or the face itself.

    anticipator = Anticipator(FastPredictor.from_model(model), lead_s=0.8, fps=30)
    out = anticipator.update(t, face_xy)     # per frame; None while there is nothing to say
    out.face_xy, out.kind                    # 'anticipate' (a prediction, held for its lead time) or 'follow'

Mode "anticipate" (coexpression): while the person is calm or holding an
expression, the robot follows their current face; when the onset detector
fires, the model predicts the target face from 4 of the last 9 faces and that
prediction is held for the expected lead time, so the robot moves to where the
person is going instead of where they are. Mode "mimic" (the paper's baseline):
always the current face.
"""
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from emo_prediction.dataset import INFERENCE_PICK
from emo_prediction.detector import DetectorParams, OnsetDetector

MODES = ('anticipate', 'mimic')


@dataclass(frozen=True)
class Anticipation:
    face_xy: np.ndarray            # (113, 2) face frame
    kind: str                      # 'anticipate' (a held prediction) or 'follow' (the current face)
    stamp: float                   # time of the newest observed face it is based on
    peak_activation_time: float    # the detected peak activation (== stamp when following)
    lead_s: float                  # expected time from stamp to the target face (0 when following)
    confidence: float


class Anticipator:
    def __init__(self, predictor=None, mode: str = 'anticipate', lead_s: float = 0.8, fps: float = 30.0,
                 params: DetectorParams = None, vertex_ids=None):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if mode == 'anticipate' and predictor is None:
            raise ValueError('anticipate mode needs a predictive model')
        self.predictor, self.mode, self.lead_s = predictor, mode, lead_s
        self.detector = OnsetDetector(params, fps, vertex_ids)
        self.history = deque(maxlen=9)
        self.holding: Optional[Anticipation] = None
        self.fires = 0

    def _model_input(self) -> np.ndarray:
        faces = list(self.history)
        faces = [faces[0]] * (9 - len(faces)) + faces  # after a gap: repeat the oldest face
        return np.stack([faces[i] for i in INFERENCE_PICK])

    def update(self, t: float, face_xy: Optional[np.ndarray], confidence: float = 1.0) -> Optional[Anticipation]:
        """One observed frame (face None when lost) -> what to publish now, if anything."""
        if face_xy is None:
            self.detector.update(t, None)
            if self.holding is not None and t - self.holding.stamp >= self.holding.lead_s:
                self.holding = None
            return self.holding
        face_xy = np.asarray(face_xy, dtype=np.float32).reshape(113, 2)
        if self.history and t - self._last_t > self.detector.p.max_gap_s:
            self.history.clear()
        self._last_t = t
        self.history.append(face_xy)
        follow = Anticipation(face_xy, 'follow', t, t, 0.0, confidence)
        if self.mode == 'mimic':
            return follow
        event = self.detector.update(t, face_xy)
        if event is not None:
            self.fires += 1
            target = self.predictor.predict(self._model_input())
            strength = min(1.0, event.activation / (2.0 * self.detector.threshold))
            self.holding = Anticipation(target, 'anticipate', t, event.peak_activation_time, self.lead_s,
                                        float(confidence * (0.5 + 0.5 * strength)))
            return self.holding
        if self.holding is not None:
            # Hold the prediction for its lead time, unless the person has already gone further
            # from rest than predicted: then following them is the earlier way to the target.
            rest = self.detector.rest_face
            ahead = rest is not None and (np.linalg.norm(face_xy - rest, axis=1).mean()
                                          >= np.linalg.norm(self.holding.face_xy - rest, axis=1).mean())
            if t - self.holding.stamp < self.holding.lead_s and not ahead:
                return self.holding
            self.holding = None
        return follow
