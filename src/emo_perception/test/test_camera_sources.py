"""Camera sources: files, folders and devices."""
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
    ('/no/such/clip.mp4', 'is not a device'),
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


def unreadable_folder(tmp_path):
    """Two good frames (values 0 and 100) around a file of garbage and an empty file, all named as images."""
    import cv2
    cv2.imwrite(str(tmp_path / 'frame_0.png'), np.full((10, 12, 3), 0, np.uint8))
    (tmp_path / 'frame_1.png').write_bytes(b'\x89PNG not really' + bytes(range(256)))
    (tmp_path / 'frame_2.jpg').write_bytes(b'')
    cv2.imwrite(str(tmp_path / 'frame_3.png'), np.full((10, 12, 3), 100, np.uint8))
    return tmp_path


def test_a_folder_skips_unreadable_images_with_a_warning(tmp_path):
    warned = []
    source = open_source(str(unreadable_folder(tmp_path)), loop=False, warn=warned.append)
    assert [int(source.read()[0, 0, 0]) for _ in range(2)] == [0, 100]
    assert source.read() is None
    assert len(warned) == 2 and 'frame_1.png' in warned[0] and 'frame_2.jpg' in warned[1]
    assert all('skipping unreadable image' in w for w in warned)


def test_a_looping_folder_warns_about_each_unreadable_image_once(tmp_path):
    source = ImageFolderSource(str(unreadable_folder(tmp_path)), loop=True)
    with pytest.warns(RuntimeWarning, match='skipping unreadable image') as record:
        values = [int(source.read()[0, 0, 0]) for _ in range(6)]
    assert values == [0, 100] * 3
    assert len(record) == 2 and len(source.skipped) == 2


def test_a_folder_with_no_readable_image_left_is_an_error(tmp_path):
    (tmp_path / 'a.png').write_bytes(b'garbage')
    source = ImageFolderSource(str(tmp_path))
    with pytest.raises(CameraSourceError, match='no readable images in folder'), pytest.warns(RuntimeWarning):
        source.read()
