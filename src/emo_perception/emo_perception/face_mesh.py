"""MediaPipe face mesh (legacy FaceMesh solution of mediapipe 0.10.21), created once.

    tracker = FaceMeshTracker(max_faces=2)
    meshes = tracker.process(rgb)        # list of (468, 3) arrays, largest face first
    tracker.close()

Tracking mode (static_image_mode=False) reuses the last face's region between
frames, which is what makes a video stream fast; 0.10.21 is the last release
whose wheel ships the face-mesh model, so nothing is downloaded at run time.
"""
import numpy as np


def face_area(mesh: np.ndarray) -> float:
    """Area of the mesh's bounding box in normalized image units (to pick the largest face)."""
    span = mesh[:, :2].max(axis=0) - mesh[:, :2].min(axis=0)
    return float(span[0] * span[1])


class FaceMeshTracker:
    def __init__(self, max_faces: int = 2, static_image_mode: bool = False,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        # Imported here so that modules which only replay meshes do not load TFLite.
        import mediapipe as mp
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static_image_mode, max_num_faces=max_faces, refine_landmarks=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence)

    def process(self, rgb: np.ndarray) -> list:
        """Meshes of the faces in an RGB uint8 image (H, W, 3), largest first."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f'expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}')
        result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return []
        meshes = [np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)
                  for face in result.multi_face_landmarks]
        return sorted(meshes, key=face_area, reverse=True)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
