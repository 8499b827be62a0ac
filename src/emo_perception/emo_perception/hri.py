"""The landmark node's faces in ROS4HRI's terms (REP-155), with no ROS in it: hri_bridge_node publishes them.

    points = hri_landmarks(image_xy, vertex_ids, width, height)   # (70, 3): x, y normalized, confidence
    roi = normalized_roi(image_xy, width, height)                  # xmin, ymin, xmax, ymax in [0, 1]
    xyz = face_position(image_xy, vertex_ids, width, height)       # metres in the camera's optical frame

hri_msgs/FacialLandmarks orders 70 points as dlib's 68 (jaw from the person's right ear to the left
one, brows outside to inside and inside to outside, nose, eyes, outer then inner lips) plus the two
pupils. The 113 points of the paper have no nose, so those 9 points carry confidence 0; the pupils
are the eye outlines' centres (confidence 0.5: estimated); the rest are the MediaPipe vertices at
those places (the jaw outline sampled at 17 of its 21 points, the chin at MENTON).
"""
import math

import numpy as np

N_HRI = 70
# MediaPipe face-mesh vertex of each ROS4HRI point (None: not among the 113; 'pupil_r'/'pupil_l': estimated).
_JAW21 = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
_JAW17 = tuple(_JAW21[int(round(i))] for i in np.linspace(0, 20, 17))
HRI_VERTICES = (
    _JAW17                                                   # 0-16: RIGHT_EAR ... MENTON (8) ... LEFT_EAR
    + (70, 63, 105, 66, 107)                                 # 17-21: right eyebrow, outside to inside
    + (336, 296, 334, 293, 300)                              # 22-26: left eyebrow, inside to outside
    + (None,) * 9                                            # 27-35: nose (not among the 113)
    + (33, 160, 158, 133, 153, 144)                          # 36-41: right eye, outer corner, top, inner corner, bottom
    + (362, 385, 387, 263, 373, 380)                         # 42-47: left eye, inner corner, top, outer corner, bottom
    + (61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91)   # 48-59: outer lips from the right corner, top first
    + (78, 81, 13, 311, 308, 402, 14, 178)                   # 60-67: inner lips
    + ('pupil_r', 'pupil_l'))                                # 68, 69
RIGHT_EYE = (133, 173, 157, 158, 159, 160, 161, 246, 33, 7, 163, 144, 145, 153, 154, 155)
LEFT_EYE = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
OUTER_EYE_CORNERS = (33, 263)
EYE_CORNERS_M = 0.09         # outer eye corners of an adult face (the face frame's unit, visualization.FACE_UNIT_M)
# A face looking at the camera, in the camera's optical frame (z forward, x right, y down): REP-155's
# face frame has x out of the face (towards the camera: optical -z), y to the person's left (optical
# +x, as the camera sees them) and z up (optical -y). As a quaternion (x, y, z, w).
FACE_TOWARDS_CAMERA = (0.5, 0.5, -0.5, 0.5)


def _index(vertex_ids) -> dict:
    return {int(v): i for i, v in enumerate(vertex_ids)}


def hri_landmarks(image_xy, vertex_ids, width: int, height: int) -> np.ndarray:
    """(70, 3): x / width, y / height and a confidence per ROS4HRI point (0 where the 113 have none)."""
    p = np.asarray(image_xy, dtype=np.float64).reshape(-1, 2)
    at = _index(vertex_ids)
    out = np.zeros((N_HRI, 3))
    for k, v in enumerate(HRI_VERTICES):
        if v in ('pupil_r', 'pupil_l'):
            rows = [at[u] for u in (RIGHT_EYE if v == 'pupil_r' else LEFT_EYE) if u in at]
            if rows:
                out[k, :2], out[k, 2] = p[rows].mean(axis=0), 0.5
        elif v is not None and v in at:
            out[k, :2], out[k, 2] = p[at[v]], 1.0
    out[:, 0] /= width
    out[:, 1] /= height
    out[:, :2] = np.clip(out[:, :2], 0.0, 1.0)
    return out


def normalized_roi(image_xy, width: int, height: int) -> tuple:
    """The face's bounding box as fractions of the image (hri_msgs/NormalizedRegionOfInterest2D)."""
    p = np.asarray(image_xy, dtype=np.float64).reshape(-1, 2)
    box = (p[:, 0].min() / width, p[:, 1].min() / height, p[:, 0].max() / width, p[:, 1].max() / height)
    return tuple(float(min(max(v, 0.0), 1.0)) for v in box)


def face_position(image_xy, vertex_ids, width: int, height: int, horizontal_fov_deg: float = 60.0) -> tuple:
    """(x, y, z) metres of the face's eye-line centre in the camera's optical frame (z forward, x right,
    y down), from a pinhole camera and an adult's outer-eye-corner distance; None if not measurable."""
    p = np.asarray(image_xy, dtype=np.float64).reshape(-1, 2)
    at = _index(vertex_ids)
    if not all(v in at for v in OUTER_EYE_CORNERS):
        return None
    a, b = p[at[OUTER_EYE_CORNERS[0]]], p[at[OUTER_EYE_CORNERS[1]]]
    pixels = float(np.linalg.norm(a - b))
    if pixels < 1.0:
        return None
    f = (width / 2) / math.tan(math.radians(horizontal_fov_deg) / 2)
    z = f * EYE_CORNERS_M / pixels
    u, v = (a + b) / 2
    return float((u - (width - 1) / 2) * z / f), float((v - (height - 1) / 2) * z / f), float(z)
