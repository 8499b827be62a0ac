"""Shared fixtures of the perception tests: real face images and small video files, and the rclpy
fixtures (emo_common.testing), so `colcon test --packages-select emo_perception` runs them alone."""
import pathlib

import numpy as np
import pytest

from emo_common.testing import ros_context, ros_node  # noqa: F401  (pytest fixtures)


@pytest.fixture(scope='session')
def astronaut_rgb() -> np.ndarray:
    """scikit-image's public-domain NASA astronaut portrait, RGB uint8 512x512."""
    data = pytest.importorskip('skimage.data')
    return data.astronaut()


def write_video(path: pathlib.Path, frames, fps: float = 30.0) -> pathlib.Path:
    import cv2
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope='session')
def face_video(tmp_path_factory, astronaut_rgb) -> pathlib.Path:
    """A 2 s 640x480 video of the astronaut's face drifting slowly to the right."""
    import cv2
    base = cv2.resize(astronaut_rgb[0:384, 0:512], (640, 480))
    frames = [np.roll(base, i, axis=1) for i in range(60)]
    return write_video(tmp_path_factory.mktemp('video') / 'face.mp4', frames)


@pytest.fixture(scope='session')
def blank_video(tmp_path_factory) -> pathlib.Path:
    """A 1 s video of a grey wall: no face."""
    frames = [np.full((240, 320, 3), 90 + i, np.uint8) for i in range(30)]
    return write_video(tmp_path_factory.mktemp('video') / 'blank.mp4', frames)
