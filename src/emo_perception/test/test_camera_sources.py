"""Camera sources: files, folders, devices and the demo clip."""
import numpy as np
import pytest

pytest.importorskip('cv2')
from emo_perception.camera_sources import (  # noqa: E402
    CameraSourceError, DeviceSource, ImageFolderSource, VideoFileSource, open_source)


def test_a_video_file_plays_then_loops(face_video):
    source = open_source(str(face_video))
    assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(30.0)
    frames = [source.read() for _ in range(65)]
    assert all(f is not None and f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    assert source.frame_index == 4  # 60 frames, then from the start again
    source.close()


def test_a_video_file_without_loop_ends(face_video):
    source = open_source(str(face_video), loop=False)
    assert sum(source.read() is not None for _ in range(70)) == 60
    assert source.read() is None


def test_resize_to_the_requested_resolution(face_video):
    assert open_source(str(face_video), width=320, height=240).read().shape == (240, 320, 3)


def test_an_image_folder_in_name_order(tmp_path):
    import cv2
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f'frame_{i}.png'), np.full((10, 12, 3), i * 50, np.uint8))
    (tmp_path / 'notes.txt').write_text('not an image')
    source = open_source(str(tmp_path), loop=False)
    assert isinstance(source, ImageFolderSource)
    assert [int(source.read()[0, 0, 0]) for _ in range(3)] == [0, 50, 100]
    assert source.read() is None


@pytest.mark.parametrize('spec, message', [
    ('/dev/video_does_not_exist', 'does not exist'),
    ('/no/such/clip.mp4', 'is not demo, a device'),
    ('', 'empty camera source'),
])
def test_missing_sources_raise_a_clear_error(spec, message):
    with pytest.raises(CameraSourceError, match=message):
        open_source(spec)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(CameraSourceError, match='no images'):
        open_source(str(tmp_path))


def test_a_device_index_that_is_not_there_is_refused():
    with pytest.raises(CameraSourceError, match='cannot open camera device'):
        DeviceSource('57')


def test_a_file_that_is_not_a_video_is_refused(tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'\x00not a video' * 10)
    with pytest.raises(CameraSourceError, match='cannot decode'):
        open_source(str(bad))
