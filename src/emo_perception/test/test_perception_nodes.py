"""The eye camera and landmark nodes over real rclpy and Fast DDS, each in its own process."""
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from emo_msgs.msg import FaceLandmarks, Topics  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from emo_perception.image_conversion import array_to_image  # noqa: E402
from emo_common.testing import NodeProcess, spin_until  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture
def listener(ros_node):
    node, executor = ros_node
    got = {'landmarks': [], 'images': [], 'diagnostics': []}
    node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, got['landmarks'].append, 50)
    node.create_subscription(Image, Topics.EYE_LEFT_IMAGE, got['images'].append, qos_profile_sensor_data)
    node.create_subscription(DiagnosticArray, Topics.DIAGNOSTICS, got['diagnostics'].append, 50)
    return node, executor, got


def stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def test_camera_to_landmarks_to_a_subscriber(listener, face_video, tmp_path):
    node, executor, got = listener
    with NodeProcess('emo_perception', 'landmark_node', {'eye': 'left'}, tmp_path) as marks, \
            NodeProcess('emo_perception', 'eye_camera_node', {'eye': 'left', 'source': str(face_video)}, tmp_path) as cam:
        assert spin_until(executor, lambda: len(got['landmarks']) >= 30, timeout_s=60.0), marks.log()[-2000:]
        assert cam.alive() and marks.alive()
    assert cam.returncode == 0 and marks.returncode == 0, (cam.log()[-1500:], marks.log()[-1500:])
    msgs = got['landmarks']
    assert all(m.face_detected and len(m.image_xy) == len(m.face_xy) == 226 for m in msgs)
    assert all(m.header.frame_id == 'eye_left_optical_frame' for m in msgs)
    assert all((m.image_width, m.image_height) == (640, 480) for m in msgs)
    confidence = np.array([m.detection_confidence for m in msgs])
    assert ((confidence > 0.0) & (confidence <= 1.0)).all() and np.median(confidence) > 0.7
    stamps = [stamp_ns(m) for m in msgs]
    assert all(b > a for a, b in zip(stamps, stamps[1:])), 'a frame was published twice or out of order'
    # The face drifts right in the (looping) video: the pixel points follow it, the face frame does not.
    image_x = np.array([np.array(m.image_xy).reshape(-1, 2)[:, 0].mean() for m in msgs])
    face = np.array([np.array(m.face_xy) for m in msgs])
    assert image_x.max() - image_x.min() > 5.0
    assert np.abs(face - np.median(face, axis=0)).mean() < 0.02


def test_no_face_gives_face_detected_false_and_no_points(listener, blank_video, tmp_path):
    node, executor, got = listener
    with NodeProcess('emo_perception', 'eye_camera_node', {'source': str(blank_video)}, tmp_path), \
            NodeProcess('emo_perception', 'landmark_node', {}, tmp_path):
        assert spin_until(executor, lambda: len(got['landmarks']) >= 10, timeout_s=60.0)
    assert all(not m.face_detected and len(m.image_xy) == 0 and len(m.face_xy) == 0 for m in got['landmarks'])
    assert all((m.image_width, m.image_height) == (320, 240) for m in got['landmarks'])


def test_corrupt_images_are_reported_and_skipped(listener, astronaut_rgb, tmp_path):
    node, executor, got = listener
    pub = node.create_publisher(Image, Topics.EYE_LEFT_IMAGE, qos_profile_sensor_data)
    bad = [Image(height=4, width=4, encoding='yuv422', step=8, data=bytes(32)),
           Image(height=480, width=640, encoding='rgb8', step=1920, data=bytes(1000)),
           Image(height=0, width=0, encoding='rgb8', step=0, data=b''),
           Image(height=3, width=5, encoding='bgr8', step=15, data=bytes(45))]  # odd-sized, no face
    good = array_to_image(astronaut_rgb, "rgb8")
    def pause(seconds):
        spin_until(executor, lambda: False, timeout_s=seconds)

    def publish_good_until_a_face():
        seen = len(got['landmarks'])
        for _ in range(100):
            pub.publish(good)
            pause(0.2)
            if any(m.face_detected for m in got['landmarks'][seen:]):
                return True
        return False

    with NodeProcess('emo_perception', 'landmark_node', {}, tmp_path) as marks:
        assert publish_good_until_a_face(), marks.log()[-2000:]   # the node is up and matched
        for msg in bad * 2:
            pub.publish(msg)
            pause(0.1)
        assert publish_good_until_a_face()                       # and still works afterwards
        assert marks.alive(), marks.log()[-2000:]
    log = marks.log()
    assert any(m.face_detected for m in got['landmarks'])
    assert "unsupported encoding 'yuv422'" in log and 'data has 1000 bytes' in log and 'empty image' in log
    assert 'Traceback' not in log
    assert marks.returncode == 0


def test_a_missing_camera_is_reported_and_nothing_is_published(listener, tmp_path):
    node, executor, got = listener
    with NodeProcess('emo_perception', 'eye_camera_node', {'source': '/dev/video_missing', 'retry_period_s': 0.5},
                     tmp_path) as cam:
        def error_reported():
            return any(s.level == DiagnosticStatus.ERROR and 'does not exist' in s.message
                       for d in got['diagnostics'] for s in d.status)
        assert spin_until(executor, error_reported, timeout_s=30.0)
        assert cam.alive()
    assert got['images'] == []
    assert cam.returncode == 0
    assert 'does not exist' in cam.log()


def test_frames_are_stamped_at_their_capture_time(listener, face_video, tmp_path):
    """A frame is capture_latency_s old when it is read: its stamp says when the face was, not when it
    was published (the difference to the receipt time can only grow with transport)."""
    node, executor, got = listener
    received = []
    node.create_subscription(Image, Topics.EYE_LEFT_IMAGE,
                             lambda m: received.append((node.get_clock().now().nanoseconds, stamp_ns(m))),
                             qos_profile_sensor_data)
    with NodeProcess('emo_perception', 'eye_camera_node',
                     {'eye': 'left', 'source': str(face_video), 'capture_latency_s': 0.25}, tmp_path) as cam:
        assert spin_until(executor, lambda: len(received) >= 10, timeout_s=30.0), cam.log()[-2000:]
    age_ms = np.array([(now - stamp) / 1e6 for now, stamp in received])
    assert (age_ms >= 250.0).all(), age_ms


def test_the_camera_publishes_jpegs_beside_the_raw_images(listener, face_video, tmp_path):
    """publish_compressed: a sensor_msgs/CompressedImage on image_raw/compressed with the raw frame's
    header, decoding to the same picture (JPEG-close), ~20x smaller: what record_images records."""
    from sensor_msgs.msg import CompressedImage

    from emo_perception.image_conversion import JPEG_FORMAT, compressed_to_rgb, image_to_rgb
    node, executor, got = listener
    jpegs = []
    node.create_subscription(CompressedImage, Topics.EYE_LEFT_IMAGE_COMPRESSED, jpegs.append, qos_profile_sensor_data)
    with NodeProcess('emo_perception', 'eye_camera_node',
                     {'eye': 'left', 'source': str(face_video), 'publish_compressed': True}, tmp_path) as cam:
        assert spin_until(executor, lambda: len(jpegs) >= 5 and len(got['images']) >= 5, timeout_s=30.0), cam.log()[-2000:]
    raw = {stamp_ns(m): m for m in got['images']}
    pairs = [(raw[stamp_ns(j)], j) for j in jpegs if stamp_ns(j) in raw]
    assert pairs and all(j.format == JPEG_FORMAT for _, j in pairs)
    image, jpeg = pairs[-1]
    assert len(jpeg.data) * 5 < len(image.data)
    assert np.abs(compressed_to_rgb(jpeg).astype(int) - image_to_rgb(image).astype(int)).mean() < 6.0


def test_every_face_is_published_with_an_id_that_stays(listener, face_video, tmp_path):
    """faces/tracked (emo_msgs/TrackedFaces): the face keeps its id frame after frame, and the followed
    one is the face published on face/landmarks."""
    from emo_msgs.msg import TrackedFaces
    node, executor, got = listener
    tracked = []
    node.create_subscription(TrackedFaces, Topics.TRACKED_FACES, tracked.append, 50)
    with NodeProcess('emo_perception', 'landmark_node', {'eye': 'left'}, tmp_path) as marks, \
            NodeProcess('emo_perception', 'eye_camera_node', {'eye': 'left', 'source': str(face_video)}, tmp_path):
        assert spin_until(executor, lambda: len(tracked) >= 20, timeout_s=60.0), marks.log()[-2000:]
    with_face = [m for m in tracked if m.ids]
    followed = [m.followed_id for m in with_face]
    main_id = max(set(followed), key=followed.count)
    # One face, one id: it may only change where the looping video jumps the face back (or a frame drops it).
    assert len(with_face) >= 15 and followed.count(main_id) >= 0.8 * len(followed), followed
    assert all(m.followed_id in m.ids and len(m.faces) == len(m.ids) for m in with_face)
    assert all(len(i) == 5 and i.isalpha() for m in with_face for i in m.ids)
    by_stamp = {stamp_ns(m): m for m in got['landmarks']}
    same = [(m, by_stamp[stamp_ns(m)]) for m in with_face if stamp_ns(m) in by_stamp]
    assert same and all(list(t.faces[list(t.ids).index(t.followed_id)].face_xy) == list(f.face_xy) for t, f in same)
