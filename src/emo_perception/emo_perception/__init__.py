"""Eye-camera nodes and the 113-point face landmark node (MediaPipe face mesh) of the Emo coexpression stack."""
