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
from dataclasses import dataclass

import numpy as np


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
    """The person's rest face, estimated online: a slow average of faces near it.

    Starts from the first `init` faces; afterwards a face within `calm_distance`
    (mean landmark distance) of the estimate pulls it by `alpha`, so an
    expression does not drag the rest face along but a slow drift (or a new
    person) does, eventually.
    """

    def __init__(self, init: int = 5, alpha: float = 0.02, calm_distance: float = 0.02):
        self.init, self.alpha, self.calm_distance = init, alpha, calm_distance
        self.faces = []
        self.rest = None

    def update(self, face: np.ndarray) -> np.ndarray:
        face = np.asarray(face, np.float32).reshape(113, 2)
        if self.rest is None:
            self.faces.append(face)
            self.rest = np.mean(self.faces, axis=0) if len(self.faces) >= self.init else None
            return face if self.rest is None else self.rest
        if np.linalg.norm(face - self.rest, axis=1).mean() < self.calm_distance:
            self.rest += self.alpha * (face - self.rest)
        return self.rest

    def reset(self) -> None:
        self.faces, self.rest = [], None
