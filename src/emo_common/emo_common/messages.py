"""Faces between messages and arrays, and the checks every node applies to an incoming face and its
stamp before anything learns from them.

    msg.face_xy = face_values(face)          # (113, 2) array -> flat list; ValueError if it is no face
    check = check_face(msg.face_xy)          # check.face: (113, 2) float64, or None; check.kind, check.why
    stamp_problem(msg.header.stamp)          # '' or why the stamp is unusable (negative, out of range, unset)
    order = StampOrder()
    order.check(t)                           # 'ok', 'stale' (skip it) or 'restart' (a new stream: start afresh)
    rejections = Rejections()                # what a node skipped and why, for its log and /diagnostics

A face is plausible when it has 113 finite (x, y) points, each within
FACE_FRAME_LIMIT of the origin of the face frame (emo_perception.face_frame:
unit = the reference outer-eye-corner distance, origin = the centroid of the
rigid points). Where the bound comes from, measured for issue 13 on the faces
shipped with or used by the project: the reference face reaches 1.24 face
units from the origin (its chin); the 19,360 faces of the 199 real sources in
shared/data/real_onsets, through this frame, reach at most 1.49 (p99 1.44);
generated faces (emo_prediction.training.synthetic, 40 people x 10 s with expressions
and talking) 1.52; the robot faces babbled for the self-model
(emo_inverse/data/babble_default.npz) 1.51. A coordinate past twice that, 3.0,
is no face in this frame: a broken message or a broken fit, which would pin a
rest face or a detector's state wherever it points.
"""
import time
from typing import NamedTuple, Optional

import numpy as np

from emo_common.layout import NUM_LANDMARKS

FACE_FRAME_LIMIT = 3.0        # face units; see above
MALFORMED, IMPLAUSIBLE = 'malformed', 'implausible'


class FaceCheck(NamedTuple):
    face: Optional[np.ndarray]   # (num_landmarks, 2) float64 when plausible, else None
    kind: str                    # '' (plausible), MALFORMED (size, type, non-finite) or IMPLAUSIBLE (magnitude)
    why: str                     # what is wrong, for a log line


def check_face(values, num_landmarks: int = NUM_LANDMARKS, limit: float = FACE_FRAME_LIMIT) -> FaceCheck:
    """The face in `values` (flat x, y pairs or (n, 2)), or why it is none. Never raises."""
    try:
        face = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as err:
        return FaceCheck(None, MALFORMED, f'not an array of numbers ({type(err).__name__})')
    if face.size != 2 * num_landmarks:
        return FaceCheck(None, MALFORMED, f'{face.size} face_xy values (need {2 * num_landmarks})')
    face = face.reshape(num_landmarks, 2)
    if not np.isfinite(face).all():
        return FaceCheck(None, MALFORMED, 'non-finite face_xy values')
    reach = float(np.abs(face).max())
    if reach > limit:
        return FaceCheck(None, IMPLAUSIBLE, f'a landmark {reach:.3g} face units from the origin '
                                            f'(faces lie within {limit})')
    return FaceCheck(face, '', '')


def face_values(face, num_landmarks: int = NUM_LANDMARKS) -> list:
    """A (num_landmarks, 2) face (or its flat values) as the flat float list of a face_xy field.

    Raises ValueError for a wrong size or a non-finite value: a node never publishes a broken face.
    """
    flat = np.asarray(face, dtype=np.float64).ravel()
    if flat.size != 2 * num_landmarks:
        raise ValueError(f'a face needs {2 * num_landmarks} values, got {flat.size}')
    if not np.isfinite(flat).all():
        raise ValueError('a face with non-finite values')
    return flat.tolist()


def plausible_face(values, num_landmarks: int = NUM_LANDMARKS) -> bool:
    return check_face(values, num_landmarks).face is not None


def stamp_problem(stamp, allow_zero: bool = False) -> str:
    """'' for a usable builtin_interfaces/Time, else why not: negative, nanosec out of range, or
    unset (0; allowed with allow_zero, for a node that does not need the time)."""
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if sec < 0:
        return f'negative stamp (sec {sec})'
    if not 0 <= nanosec < 1_000_000_000:
        return f'stamp nanosec {nanosec} out of range'
    if sec == 0 and nanosec == 0 and not allow_zero:
        return 'unset (zero) stamp'
    return ''


class StampOrder:
    """Whether each stamp comes after every one before it.

    A stamp at or before the newest seen is stale (a late or repeated message): the caller skips it,
    so that time never runs backwards inside its state. `restart_after` stale stamps in a row are a new
    stream (a replay started over, a clock reset, or the newest stamp was an outlier far in the future):
    that one is accepted as the new newest and the caller should start its state afresh.
    """
    OK, STALE, RESTART = 'ok', 'stale', 'restart'

    def __init__(self, restart_after: int = 30):
        self.restart_after = max(1, int(restart_after))
        self.reset()

    def reset(self) -> None:
        self.newest = None
        self._behind = 0

    def check(self, t: float) -> str:
        if not np.isfinite(t):
            return self.STALE
        if self.newest is None or t > self.newest:
            self.newest, self._behind = t, 0
            return self.OK
        self._behind += 1
        if self._behind >= self.restart_after:
            self.newest, self._behind = t, 0
            return self.RESTART
        return self.STALE


class Rejections:
    """The messages a node skipped, counted by why, with the latest reason: for its log and /diagnostics.

        if rejections.add('stale', 'stale FaceLandmarks: ...'):    # True at most every log_every_s
            logger.error(...)
        rejections.counts['stale'], rejections.recent(), rejections.summary()
    """
    KINDS = (MALFORMED, IMPLAUSIBLE, 'bad_stamp', 'stale', 'error')

    def __init__(self, log_every_s: float = 5.0, recent_s: float = 10.0):
        self.log_every_s, self.recent_s = log_every_s, recent_s
        self.counts = dict.fromkeys(self.KINDS, 0)
        self.latest = self.latest_kind = ''
        self._latest_t = None
        self._logged_t = -np.inf

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, kind: str, text: str) -> bool:
        """Count one; whether to log it now (the first, then at most every log_every_s)."""
        now = time.monotonic()
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.latest, self.latest_kind, self._latest_t = text, kind, now
        if now - self._logged_t < self.log_every_s:
            return False
        self._logged_t = now
        return True

    def recent(self) -> bool:
        """Whether one was skipped within the last recent_s (what /diagnostics warns about)."""
        return self._latest_t is not None and time.monotonic() - self._latest_t < self.recent_s

    def summary(self, what: str = 'messages') -> str:
        skipped = ', '.join(f'{n} {kind}' for kind, n in self.counts.items() if n)
        return f'{what} skipped ({skipped}); latest: {self.latest.splitlines()[0] if self.latest else ""}'
