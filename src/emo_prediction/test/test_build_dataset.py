"""The dataset builder's frame rate comes from stamps: unset, repeated or zero-rate timing is a clear error
(issue 13: all-zero stamps gave a ZeroDivisionError deep in the detector)."""
import numpy as np
import pytest

pytest.importorskip('rosbags')
rclpy = pytest.importorskip('rclpy')
from emo_msgs.msg import FaceLandmarks  # noqa: E402
from rclpy.serialization import serialize_message  # noqa: E402

from emo_prediction.training import build_dataset  # noqa: E402
from emo_prediction.training.bag_reading import emo_typestore  # noqa: E402


def write_bag(path, stamps_s):
    """A rosbag2 MCAP bag of FaceLandmarks with these header stamps (log times always increase)."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    conn = writer.add_connection('/emo/face/landmarks', 'emo_msgs/msg/FaceLandmarks', typestore=emo_typestore())
    rng = np.random.default_rng(0)
    for i, stamp in enumerate(stamps_s):
        msg = FaceLandmarks(face_detected=True, face_xy=rng.normal(0, 0.1, 226).astype(np.float32).tolist())
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp), int(round((stamp % 1) * 1e9))
        writer.write(conn, 1_000_000_000 + i * 33_333_333, serialize_message(msg))
    writer.close()
    return path


def test_all_zero_stamps_are_a_clear_error(tmp_path):
    bag = write_bag(tmp_path / 'zero', [0.0] * 300)
    with pytest.raises(ValueError, match=r'header stamps\): 300 of 300 stamps are zero, negative or not finite'):
        build_dataset.main(['--bags', str(bag), '--out', str(tmp_path / 'w.npz')])


def test_repeated_stamps_are_a_clear_error(tmp_path):
    stamps = 100.0 + np.arange(300) / 30.0
    stamps[150] = stamps[149]
    bag = write_bag(tmp_path / 'repeated', stamps)
    with pytest.raises(ValueError, match=r'stamps must increase, but 1 do not \(first: message 150'):
        build_dataset.bag_face_xy(bag)


def test_increasing_stamps_give_their_frame_rate(tmp_path):
    bag = write_bag(tmp_path / 'good', 100.0 + np.arange(60) / 30.0)
    faces, fps = build_dataset.bag_face_xy(bag)
    assert faces.shape == (60, 113, 2) and fps == pytest.approx(30.0, rel=1e-3)


@pytest.mark.parametrize('fps', [0.0, -30.0, float('nan')])
def test_an_array_source_without_a_frame_rate_is_a_clear_error(tmp_path, fps):
    np.savez(tmp_path / 'clip.npz', face_xy=np.zeros((400, 113, 2), np.float32), fps=fps)
    with pytest.raises(ValueError, match='fps must be a positive number'):
        build_dataset.main(['--arrays', str(tmp_path / 'clip.npz'), '--out', str(tmp_path / 'w.npz')])


def test_a_bag_of_camera_jpegs_gives_the_faces_of_its_frames(tmp_path):
    """record_images: the eye camera's JPEGs (sensor_msgs/CompressedImage) are read through the face mesh."""
    pytest.importorskip('mediapipe')
    skimage_data = pytest.importorskip('skimage.data')
    from rosbags.rosbag2 import StoragePlugin, Writer

    from emo_perception.image_conversion import JPEG_FORMAT, array_to_compressed
    face = skimage_data.astronaut()
    writer = Writer(tmp_path / 'images', version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    conn = writer.add_connection(build_dataset.IMAGE_TOPIC, 'sensor_msgs/msg/CompressedImage', typestore=emo_typestore())
    for i in range(12):
        msg = array_to_compressed(np.roll(face, 2 * i, axis=1), quality=85)
        msg.header.stamp.sec, msg.header.stamp.nanosec = 100, i * 33_333_333
        writer.write(conn, 1_000_000_000 + i * 33_333_333, serialize_message(msg))
    writer.close()
    assert msg.format == JPEG_FORMAT and len(msg.data) < face.nbytes / 5
    faces, fps = build_dataset.bag_face_xy(tmp_path / 'images')
    assert faces.shape == (12, 113, 2) and np.isfinite(faces).all()
    assert fps == pytest.approx(30.0, rel=1e-3)
    # the face frame removes the shift: the same face in every frame
    assert np.abs(faces - faces[0]).max() < 0.05
