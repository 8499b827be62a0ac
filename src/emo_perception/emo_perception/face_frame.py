"""From a MediaPipe face mesh to the two landmark sets of emo_msgs/FaceLandmarks.

    mesh = tracker.process(rgb)[0]              # (468, 3), MediaPipe normalized coords
    sets = mesh_to_face_landmarks(mesh, width=640, height=480)
    sets.image_xy   # (113, 2) pixels, x right, y down
    sets.face_xy    # (113, 2) face frame, head pose removed

The face frame (the models' input) removes head rotation, translation and
scale, so that a head turn is not read as an expression: the rigid points of
the full mesh (forehead, temples, nose bridge and tip, eye corners), lifted to
3D pixel units (x*width, y*height, z*width, as MediaPipe scales z like x), are
aligned to the same points of a frontal reference face by a least-squares
similarity transform (Umeyama 1991). All mesh points are mapped with that
transform and the x, y of the 113 points are kept. Origin: centroid of the
reference's rigid points; x to the image right (the person's left), y down;
unit: the reference distance between the outer eye corners (vertices 33, 263).
The reference is the mesh of a real frontal face (the public-domain NASA
astronaut photo shipped by scikit-image), levelled so its eye corners lie on a
horizontal line; `python -m emo_perception.make_reference` rebuilds it.
"""
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from emo_common.layout import NUM_LANDMARKS, vertex_ids as landmark_ids  # noqa: F401  (the 113 points, model order)

MESH_SIZE = 468
# Outer eye corners, whose reference distance is the face-frame unit.
EYE_OUTER_RIGHT, EYE_OUTER_LEFT = 33, 263
# Vertices that an expression barely moves: forehead, temples, nose bridge and
# tip, inner and outer eye corners, upper cheekbones. Not brows, lids, lips or jaw.
RIGID_IDS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 109, 338, 67, 297, 103, 332,
             54, 284, 21, 251, 162, 389, 127, 356, 33, 263, 133, 362, 98, 327, 114, 343)


def _load_json(name: str) -> dict:
    return json.loads(resources.files('emo_perception').joinpath('data', name).read_text())


@lru_cache(maxsize=None)
def reference_face() -> np.ndarray:
    """The frontal reference mesh (468, 3) in face-frame units."""
    ref = np.array(_load_json('reference_face.json')['mesh'], dtype=np.float64)
    assert ref.shape == (MESH_SIZE, 3)
    return ref


@dataclass(frozen=True)
class FaceLandmarkSets:
    image_xy: np.ndarray   # (113, 2) pixel coordinates
    face_xy: np.ndarray    # (113, 2) face-frame coordinates
    fit_rms: float         # RMS residual of the rigid points after alignment, face units


def similarity_transform(src: np.ndarray, dst: np.ndarray):
    """Least-squares scale, rotation and translation with dst ~ scale * R @ src + t (Umeyama).

    src, dst: (N, D) corresponding points. Returns (scale, R (D, D), t (D,)).
    Reflections are excluded, so a mirrored face is not silently 'aligned'.
    """
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - mu_s, dst - mu_d
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[-1] = -1.0
    rot = u @ np.diag(fix) @ vt
    var_s = (s0 ** 2).sum() / len(src)
    scale = float((sig * fix).sum() / var_s)
    return scale, rot, mu_d - scale * rot @ mu_s


def mesh_to_pixels(mesh: np.ndarray, width: int, height: int) -> np.ndarray:
    """MediaPipe normalized mesh (x/width, y/height, z on x's scale) to 3D pixel units."""
    return np.asarray(mesh, dtype=np.float64)[:, :3] * np.array([width, height, width], dtype=np.float64)


def mesh_to_face_landmarks(mesh, width: int, height: int) -> FaceLandmarkSets:
    """The 113 landmarks of one MediaPipe face mesh, in pixels and in the face frame.

    mesh: (468, 3) or (478, 3) array as FaceMesh returns it (normalized x, y, z);
    a recorded mesh replays through here without its image. Raises ValueError on
    a wrong shape, non-finite values or a non-positive image size.
    """
    mesh = np.asarray(mesh, dtype=np.float64)
    if mesh.ndim != 2 or mesh.shape[0] < MESH_SIZE or mesh.shape[1] < 2:
        raise ValueError(f'expected a face mesh of shape (468, 3), got {mesh.shape}')
    if width <= 0 or height <= 0:
        raise ValueError(f'image size must be positive, got {width}x{height}')
    mesh = mesh[:MESH_SIZE]
    if mesh.shape[1] == 2:
        mesh = np.hstack([mesh, np.zeros((MESH_SIZE, 1))])
    if not np.isfinite(mesh).all():
        raise ValueError('face mesh contains NaN or inf')
    pts = mesh_to_pixels(mesh, width, height)
    ref = reference_face()
    rigid = np.array(RIGID_IDS)
    scale, rot, t = similarity_transform(pts[rigid], ref[rigid])
    aligned = scale * pts @ rot.T + t
    residual = aligned[rigid] - ref[rigid]
    ids = landmark_ids()
    return FaceLandmarkSets(image_xy=pts[ids, :2].astype(np.float32),
                            face_xy=aligned[ids, :2].astype(np.float32),
                            fit_rms=float(np.sqrt((residual ** 2).sum(axis=1).mean())))


def fit_confidence(fit_rms: float, tolerance: float = 0.05) -> float:
    """A [0, 1] confidence from how well the rigid points fit a face.

    The legacy FaceMesh solution does not expose its face-presence score, so the
    stack reports how face-like the tracked mesh is: 1 for a perfect rigid fit,
    falling off as the residual grows past `tolerance` (face units).
    """
    return float(np.exp(-(fit_rms / tolerance) ** 2))
