"""The 113 face-frame landmarks of the paper in model order, and their face regions.

    neutral, vertex_ids, rows = face_model()
    rows['lips40']          # row indices of the lips in the 113-point order

Read from data/face_113.json (the neutral face in the landmark node's face frame,
MediaPipe vertex ids in the paper's model order, named groups of rows).
"""
import json
from functools import lru_cache
from importlib import resources

import numpy as np


@lru_cache(maxsize=None)
def face_model():
    """(neutral face (113, 2), vertex ids in model order, groups as row indices)."""
    data = json.loads(resources.files('emo_prediction').joinpath('data', 'face_113.json').read_text())
    ids = list(data['vertex_ids'])
    rows = {name: np.array([ids.index(v) for v in verts]) for name, verts in data['groups'].items()}
    return np.array(data['face_xy']), ids, rows
