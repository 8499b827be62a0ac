"""Training samples for forecasters of the face at t + h, from whole landmark sequences of any fps.

    past, future, valid = grid_windows(times, face_xy, n_past=31, n_future=15)

Every frame of a sequence is a sample (no labels needed: the future is the
label). Its input is what the running forecaster sees: the faces resampled
onto the model grid (MODEL_RATE) ending at that frame, as `FaceHistory.grid`
does online (before the first frame of a stretch, the first face); its labels
are the faces k / MODEL_RATE later (k = 1..n_future), interpolated between the
source's frames, where the sequence still has them. A frame without a face
ends a stretch: no window reaches across it.
"""
import numpy as np

from emo_prediction.forecast import MODEL_RATE, interpolate
from emo_common.layout import FACE_SIZE


def stretches(face_xy: np.ndarray) -> list:
    """(first, last) frame of every run of consecutive frames with a face."""
    ok = np.isfinite(face_xy).reshape(len(face_xy), -1).all(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def grid_windows(times: np.ndarray, face_xy: np.ndarray, n_past: int, n_future: int,
                 rate: float = MODEL_RATE, stride: int = 1) -> tuple:
    """(past (m, n_past, 226), future (m, n_future, 226), valid (m, n_future) bool, frame (m,)) over
    every stretch of a sequence; past[:, -1] is the frame itself."""
    pasts, futures, valids, frames = [], [], [], []
    for a, b in stretches(face_xy):
        t = np.asarray(times[a:b + 1], np.float64)
        flat = face_xy[a:b + 1].reshape(b - a + 1, -1).astype(np.float64)
        idx = np.arange(0, len(t), stride)
        anchor = t[idx]
        past = interpolate(t, flat, anchor[:, None] - np.arange(n_past - 1, -1, -1) / rate)
        want = anchor[:, None] + np.arange(1, n_future + 1) / rate
        future = interpolate(t, flat, want)
        pasts.append(past.astype(np.float32))
        futures.append(future.astype(np.float32))
        valids.append(want <= t[-1] + 1e-9)
        frames.append(a + idx)
    if not pasts:
        return (np.empty((0, n_past, FACE_SIZE), np.float32), np.empty((0, n_future, FACE_SIZE), np.float32),
                np.empty((0, n_future), bool), np.empty(0, int))
    return np.concatenate(pasts), np.concatenate(futures), np.concatenate(valids), np.concatenate(frames)
