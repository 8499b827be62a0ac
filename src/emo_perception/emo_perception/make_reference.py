"""Rebuild data/reference_face.json, the frontal reference face of the face frame.

    python -m emo_perception.make_reference [--out PATH]

The reference is MediaPipe's mesh of scikit-image's `astronaut` (a public-domain
NASA portrait of a frontal face), in 3D pixel units, levelled so the outer eye
corners lie on a horizontal line, centred on the rigid points' centroid and
scaled so the outer eye corners are 1 apart.
"""
import argparse
import json
import pathlib

import numpy as np

from emo_perception.face_frame import EYE_OUTER_LEFT, EYE_OUTER_RIGHT, RIGID_IDS, mesh_to_pixels
from emo_perception.face_mesh import FaceMeshTracker


def build_reference(rgb: np.ndarray) -> np.ndarray:
    with FaceMeshTracker(max_faces=1, static_image_mode=True) as tracker:
        meshes = tracker.process(rgb)
    if not meshes:
        raise RuntimeError('no face found in the reference image')
    pts = mesh_to_pixels(meshes[0], rgb.shape[1], rgb.shape[0])
    eye = pts[EYE_OUTER_LEFT] - pts[EYE_OUTER_RIGHT]
    angle = np.arctan2(eye[1], eye[0])
    c, s = np.cos(-angle), np.sin(-angle)
    level = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    pts = pts @ level.T
    pts -= pts[list(RIGID_IDS)].mean(axis=0)
    return pts / np.linalg.norm(pts[EYE_OUTER_LEFT] - pts[EYE_OUTER_RIGHT])


def main() -> None:
    from skimage import data
    parser = argparse.ArgumentParser(description=__doc__)
    default = pathlib.Path(__file__).with_name('data') / 'reference_face.json'
    parser.add_argument('--out', type=pathlib.Path, default=default)
    args = parser.parse_args()
    ref = build_reference(data.astronaut())
    args.out.write_text(json.dumps({
        'about': 'Frontal reference face of the emo_perception face frame: MediaPipe 0.10.21 mesh '
                 '(468 x [x, y, z]) of scikit-image astronaut (public-domain NASA photo); '
                 'unit = outer-eye-corner distance, origin = rigid-point centroid, y down.',
        'mesh': np.round(ref, 5).tolist()}))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
