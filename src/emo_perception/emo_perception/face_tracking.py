"""Several faces, each with an id that stays with its person across frames, and which one the robot follows.

    tracker = FaceTracker(follow='largest')
    tracks = tracker.update(t, boxes)        # boxes: (xmin, ymin, xmax, ymax) pixels of this frame's faces
    [(track.id, track.box) for track in tracks], tracker.followed   # followed: an index into tracks, or None

A face is matched to the track whose last box overlaps it most (IoU, greedy, at least `min_iou`);
an unmatched face starts a new track with a new id; a track not seen for `forget_s` ends. Ids are
five lowercase letters, as ROS4HRI's examples use, never reused by this tracker.

Which face the robot follows (`follow`): 'largest' (the nearest, by image area: the stack's
behaviour before several faces were tracked), 'oldest' (the person tracked longest: the robot
stays with whoever it was looking at when someone else walks by), 'centered' (nearest the
middle of the eye camera's image: the person the robot's gaze is on).
"""
import itertools
import string
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

FOLLOW = ('largest', 'oldest', 'centered')


@dataclass
class Track:
    id: str
    box: tuple              # (xmin, ymin, xmax, ymax), pixels
    first_seen: float
    last_seen: float


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _ids():
    """aaaaa, aaaab, ... in a scrambled but fixed order (distinct, short, never reused)."""
    letters = string.ascii_lowercase
    for n in itertools.count():
        k = (n * 7_919_993 + 12_345) % 26 ** 5           # a bijection on 26^5 (7919993 is coprime with 26)
        yield ''.join(letters[(k // 26 ** i) % 26] for i in range(5))


class FaceTracker:
    def __init__(self, follow: str = 'largest', min_iou: float = 0.2, forget_s: float = 0.5,
                 image_size=(640, 480)):
        if follow not in FOLLOW:
            raise ValueError(f'follow must be one of {FOLLOW}, got {follow!r}')
        self.follow, self.min_iou, self.forget_s = follow, min_iou, forget_s
        self.image_size = image_size
        self.tracks: List[Track] = []
        self._new_id = _ids()
        self.followed: Optional[int] = None

    def update(self, t: float, boxes) -> List[Track]:
        """The tracks of this frame's faces, in the order of `boxes`."""
        self.tracks = [k for k in self.tracks if t - k.last_seen <= self.forget_s]
        pairs = sorted(((iou(b, k.box), i, j) for i, b in enumerate(boxes) for j, k in enumerate(self.tracks)),
                       reverse=True)
        match, used = {}, set()
        for overlap, i, j in pairs:
            if overlap < self.min_iou:
                break
            if i not in match and j not in used:
                match[i] = j
                used.add(j)
        out = []
        for i, box in enumerate(boxes):
            box = tuple(float(v) for v in box)
            if i in match:
                track = self.tracks[match[i]]
                track.box, track.last_seen = box, t
            else:
                track = Track(next(self._new_id), box, t, t)
                self.tracks.append(track)
            out.append(track)
        self.followed = self._choose(out)
        return out

    def _choose(self, tracks: List[Track]) -> Optional[int]:
        if not tracks:
            return None
        if self.follow == 'largest':
            key = [-(k.box[2] - k.box[0]) * (k.box[3] - k.box[1]) for k in tracks]
        elif self.follow == 'oldest':
            key = [k.first_seen for k in tracks]
        else:
            cx, cy = self.image_size[0] / 2, self.image_size[1] / 2
            key = [np.hypot((k.box[0] + k.box[2]) / 2 - cx, (k.box[1] + k.box[3]) / 2 - cy) for k in tracks]
        return int(np.argmin(key))


def bounding_box(image_xy) -> tuple:
    """(xmin, ymin, xmax, ymax) of a face's pixel points."""
    p = np.asarray(image_xy, dtype=np.float64).reshape(-1, 2)
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())
