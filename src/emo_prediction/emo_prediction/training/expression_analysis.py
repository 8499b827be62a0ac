"""Offline analysis of one expression clip, as the paper defines it (Hu et al. 2024, Fig. 1B).

    events = analyze_expression(face_xy, fps=30)     # face_xy: (frames, 113, 2), NaN where no face
    events.target_frame, events.peak_activation_frame, events.has_expression

- rest face: the mean landmarks of the first 5 frames (the calm face, t_0);
- activation: the distance of every frame to the rest face;
- smoothed with a Savitzky-Golay filter;
- target face (t_m): the frame of maximum smoothed distance;
- peak activation (t_r): the frame of maximum second derivative before the target,
  where the face changes with the greatest acceleration.

This needs the whole clip (the future); the online detector
(emo_prediction.detector) is the causal counterpart for live streams.
"""
from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from emo_common.layout import NUM_LANDMARKS

REST_FRAMES = 5


class ClipError(ValueError):
    """The clip cannot be analysed (too short, no face in the rest frames, wrong shape)."""


@dataclass(frozen=True)
class ExpressionEvents:
    rest_face: np.ndarray          # (113, 2)
    distance: np.ndarray           # (frames,) distance of each frame to the rest face
    smoothed: np.ndarray           # (frames,) Savitzky-Golay smoothed distance
    target_frame: int              # t_m, -1 without an expression
    peak_activation_frame: int     # t_r, -1 without an expression
    has_expression: bool
    reason: str                    # why there is no expression, else ''


def face_distance(face_xy: np.ndarray, rest_face: np.ndarray) -> np.ndarray:
    """Mean Euclidean distance of each frame's landmarks to the rest face (face-frame units)."""
    return np.linalg.norm(face_xy - rest_face[None], axis=-1).mean(axis=-1)


def fill_gaps(face_xy: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate frames without a face (NaN) over gaps of at most max_gap frames."""
    face_xy = np.array(face_xy, dtype=np.float64)
    missing = ~np.isfinite(face_xy).all(axis=(1, 2))
    if not missing.any():
        return face_xy
    idx = np.arange(len(face_xy))
    run_start = None
    for i in list(idx) + [len(face_xy)]:
        m = i < len(face_xy) and missing[i]
        if m and run_start is None:
            run_start = i
        elif not m and run_start is not None:
            if i - run_start > max_gap or run_start == 0 or i == len(face_xy):
                raise ClipError(f'no face in frames {run_start}..{i - 1} (more than {max_gap} frames or at an end)')
            run_start = None
    good = ~missing
    flat = face_xy.reshape(len(face_xy), -1)
    for j in range(flat.shape[1]):
        flat[missing, j] = np.interp(idx[missing], idx[good], flat[good, j])
    return flat.reshape(face_xy.shape)


def smoothing_window(fps: float, frames: int) -> int:
    """An odd Savitzky-Golay window of about 0.2 s, no longer than the clip."""
    window = max(5, int(round(0.2 * fps)) | 1)
    return min(window, frames if frames % 2 else frames - 1)


def analyze_expression(face_xy, fps: float = 30.0, min_amplitude: float = 0.012,
                       max_gap_frames: int = 5) -> ExpressionEvents:
    """Rest face, target face and peak activation of one clip (see the module doc).

    face_xy: (frames, 113, 2) face-frame landmarks, NaN for frames without a face
    (gaps up to max_gap_frames are interpolated). A clip whose smoothed distance
    never rises min_amplitude above its rest level has no expression.
    """
    face_xy = np.asarray(face_xy, dtype=np.float64)
    if face_xy.ndim != 3 or face_xy.shape[1:] != (NUM_LANDMARKS, 2):
        raise ClipError(f'expected face landmarks of shape (frames, 113, 2), got {face_xy.shape}')
    if len(face_xy) < REST_FRAMES + 4:
        raise ClipError(f'clip of {len(face_xy)} frames is too short: needs {REST_FRAMES} rest frames and an onset')
    if not np.isfinite(face_xy[:REST_FRAMES]).all():
        raise ClipError(f'no face in some of the first {REST_FRAMES} frames: the rest face is unknown')
    face_xy = fill_gaps(face_xy, max_gap_frames)
    rest = face_xy[:REST_FRAMES].mean(axis=0)
    distance = face_distance(face_xy, rest)
    window = smoothing_window(fps, len(distance))
    smoothed = savgol_filter(distance, window, polyorder=min(3, window - 1), mode='interp')
    target = int(np.argmax(smoothed))
    rise = smoothed[target] - smoothed[:REST_FRAMES].mean()
    if rise < min_amplitude:
        return ExpressionEvents(rest, distance, smoothed, -1, -1, False,
                                f'no expression: the face moves at most {rise:.3f} from rest (< {min_amplitude})')
    if target <= REST_FRAMES:
        return ExpressionEvents(rest, distance, smoothed, -1, -1, False,
                                'no expression onset: the face is farthest from rest within the rest frames')
    accel = savgol_filter(distance, window, polyorder=min(3, window - 1), deriv=2, mode='interp')
    # Search after the rest frames: the filter's ends are least reliable.
    peak = REST_FRAMES + int(np.argmax(accel[REST_FRAMES:target]))
    return ExpressionEvents(rest, distance, smoothed, target, peak, True, '')
