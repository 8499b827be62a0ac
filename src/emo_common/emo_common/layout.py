"""The paper's 113 face landmarks, loaded once for every package.

    from emo_common.layout import NUM_LANDMARKS, FACE_SIZE, landmark_layout, vertex_ids
    neutral, ids, rows = landmark_layout()
    rows['lips40']          # row indices of the lips in the 113-point order
    vertex_ids()            # (113,) MediaPipe vertex ids in model order
    region('upper_lid_right')   # finer parts by vertex id: lids, upper lip (outer contour), lower lip

The data (data/face_113.json): MediaPipe face-mesh vertex ids in the order the
authors' models consume them (52 upper-face points, then 61 lower-face points),
named groups of vertices (jaw, lips, inner lips, eyes, brows, as the
authors name them), finer named regions (the four lids, the upper lip and its
outer contour, the lower lip), and a neutral frontal face in the landmark
node's face frame.
"""
import json
from functools import lru_cache
from importlib import resources
from typing import Dict, List, NamedTuple

import numpy as np

NUM_LANDMARKS = 113
FACE_SIZE = 2 * NUM_LANDMARKS        # x, y per landmark: the length of a flat face_xy
NUM_UPPER_FACE = 52                  # brows and eyes come first in model order; jaw and lips after


class LandmarkLayout(NamedTuple):
    neutral: np.ndarray              # (113, 2) neutral face, face frame
    vertex_ids: List[int]            # MediaPipe vertex id of each row
    rows: Dict[str, np.ndarray]      # group name -> row indices


@lru_cache(maxsize=None)
def _data() -> dict:
    return json.loads(resources.files('emo_common').joinpath('data', 'face_113.json').read_text())


@lru_cache(maxsize=None)
def landmark_layout() -> LandmarkLayout:
    """(neutral face (113, 2), vertex ids in model order, groups as row indices)."""
    data = _data()
    ids = [int(v) for v in data['vertex_ids']]
    if len(ids) != NUM_LANDMARKS or len(set(ids)) != NUM_LANDMARKS or data['num_upper_face'] != NUM_UPPER_FACE:
        raise ValueError('data/face_113.json does not hold 113 distinct vertex ids (52 upper face)')
    rows = {name: np.array([ids.index(v) for v in verts]) for name, verts in data['groups'].items()}
    neutral = np.array(data['neutral_face_xy'], dtype=np.float64)
    if neutral.shape != (NUM_LANDMARKS, 2):
        raise ValueError(f'data/face_113.json: neutral face of shape {neutral.shape}')
    return LandmarkLayout(neutral, ids, rows)


@lru_cache(maxsize=None)
def vertex_ids() -> np.ndarray:
    """The 113 MediaPipe vertex ids in model order, as an int64 array."""
    return np.array(landmark_layout().vertex_ids, dtype=np.int64)


def group_vertices() -> Dict[str, List[int]]:
    """Group name -> MediaPipe vertex ids (the groups as the data file names them)."""
    return {name: list(verts) for name, verts in _data()['groups'].items()}


def region(name: str) -> tuple:
    """The MediaPipe vertex ids of a named region (data/face_113.json 'regions'); KeyError if unknown."""
    regions = _data()['regions']
    if name not in regions:
        raise KeyError(f'no region {name!r}; known: {sorted(regions)}')
    return tuple(int(v) for v in regions[name])
