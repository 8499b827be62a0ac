"""Eye contact: the eyeballs follow the face in the eye camera's image; the neck takes over
what the eyeballs cannot reach (the paper's eye cameras sit in the pupils).

    gaze = Gaze(head)
    targets = gaze.update(face_center=(0.62, 0.45), dt=0.02, base=goals)   # normalized image position

The face's offset from the image centre gives the direction to look, in
degrees; the target is smoothed (first-order, `smoothing_s`); the eyes take
it, and once they pass `neck_takeover` of their range the neck turns so that
the eyes come back toward the middle. With no face, gaze drifts back to calm.
"""

import numpy as np

from emo_description.head import Head


class Gaze:
    def __init__(self, head: Head):
        self.head = head
        g = head.gaze
        self.hfov, self.vfov = float(g.get('horizontal_fov_deg', 60)), float(g.get('vertical_fov_deg', 46))
        self.eye_range = float(g.get('eye_range_deg', 35))
        self.neck_range = float(g.get('neck_range_deg', 60))
        self.takeover = float(g.get('neck_takeover', 0.6))
        self.tau = float(g.get('smoothing_s', 0.15))
        self.eye_yaw = [head.index[n] for n in g.get('eye_yaw', [])]
        self.eye_pitch = [head.index[n] for n in g.get('eye_pitch', [])]
        self.neck_yaw = head.index.get(g.get('neck_yaw')) if g.get('neck_yaw') else None
        self.neck_pitch = head.index.get(g.get('neck_pitch')) if g.get('neck_pitch') else None
        self.target = np.zeros(2)     # smoothed (yaw, pitch) of the face in degrees, relative to the head
        self.neck = np.zeros(2)       # neck (yaw, pitch) in degrees

    def update(self, face_center, dt: float, base: np.ndarray) -> np.ndarray:
        """Goals (ticks) with the gaze servos set; face_center None = no face (look ahead, calm)."""
        if face_center is None or not np.all(np.isfinite(face_center)):
            want = np.zeros(2)
            self.neck += (0 - self.neck) * min(1.0, dt / max(self.tau * 4, 1e-3))
        else:
            x, y = face_center
            # Camera in the eye: the face's angle from the optical axis, plus where the eyes point now.
            want = self.target + np.array([(x - 0.5) * self.hfov, (y - 0.5) * self.vfov]) * 0.5
            want = np.clip(want, -(self.eye_range + self.neck_range), self.eye_range + self.neck_range)
        self.target += (want - self.target) * min(1.0, dt / max(self.tau, 1e-3))
        eyes = self.target - self.neck
        over = np.abs(eyes) - self.takeover * self.eye_range
        self.neck += np.where(over > 0, np.sign(eyes) * over, 0.0) * min(1.0, dt / max(self.tau * 2, 1e-3))
        self.neck = np.clip(self.neck, -self.neck_range, self.neck_range)
        eyes = np.clip(self.target - self.neck, -self.eye_range, self.eye_range)
        goals = np.array(base, dtype=np.float64)
        for idx in self.eye_yaw:
            goals[idx] = self._angle_to_ticks(idx, eyes[0], self.eye_range)
        for idx in self.eye_pitch:
            goals[idx] = self._angle_to_ticks(idx, eyes[1], self.eye_range)
        if self.neck_yaw is not None:
            goals[self.neck_yaw] = self._angle_to_ticks(self.neck_yaw, self.neck[0], self.neck_range)
        if self.neck_pitch is not None:
            goals[self.neck_pitch] = self._angle_to_ticks(self.neck_pitch, self.neck[1], self.neck_range)
        return goals

    def _angle_to_ticks(self, idx: int, angle_deg: float, range_deg: float) -> float:
        h = self.head
        u = float(np.clip(angle_deg / range_deg, -1, 1)) * h.direction[idx]
        return h.calm[idx] + u * (h.max[idx] - h.calm[idx] if u >= 0 else h.calm[idx] - h.min[idx])


def face_center(image_xy, width: int, height: int):
    """Normalized (x, y) of a face's landmark centroid in its image, or None for anything that is not
    one (an odd number of values, non-finite points, no image size, a centre far outside the image)."""
    if image_xy is None or len(image_xy) == 0 or len(image_xy) % 2 or width <= 0 or height <= 0:
        return None
    pts = np.asarray(image_xy, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all():
        return None
    c = pts.mean(axis=0) / np.array([width, height], dtype=np.float64)
    if not (np.isfinite(c).all() and np.all(np.abs(c - 0.5) <= 1.0)):   # a face is in its image, or at its edge
        return None
    return (float(c[0]), float(c[1]))
