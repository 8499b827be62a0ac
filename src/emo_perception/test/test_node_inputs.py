"""Inputs that once hurt the perception nodes (issue 13): an unreadable image in a camera folder, an image
queue deeper than the one frame the landmark node wants, and a log throttle keyed per distinct fault text."""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('cv2')
from emo_msgs.msg import Topics  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import HistoryPolicy, ReliabilityPolicy, qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from emo_common.testing import spin_until  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture
def landmark_node(ros_context):
    from emo_perception.landmark_node import LandmarkNode
    node = LandmarkNode(context=ros_context)
    yield node
    node.destroy_node()


def test_the_landmark_node_keeps_only_the_newest_image(landmark_node):
    subs = [s for s in landmark_node.subscriptions if s.topic_name == landmark_node.resolve_topic_name(Topics.EYE_LEFT_IMAGE)]
    assert len(subs) == 1
    qos = subs[0].qos_profile
    assert (qos.history, qos.depth, qos.reliability) == (HistoryPolicy.KEEP_LAST, 1, ReliabilityPolicy.BEST_EFFORT)


def test_the_bad_image_log_throttle_stays_bounded(landmark_node):
    """Hundreds of distinct faults (every step value, encoding name and empty size) keep one throttle
    entry per kind of fault, not one per message text."""
    for i in range(300):
        landmark_node.on_image(Image(height=2, width=100, encoding='rgb8', step=i, data=bytes(600)))
        landmark_node.on_image(Image(height=2, width=2, encoding=f'fancy{i}', step=6, data=bytes(12)))
        landmark_node.on_image(Image(height=0, width=i, encoding='rgb8', step=3 * i, data=b''))
    assert landmark_node.bad_images == 900
    assert len(landmark_node._last_logged) <= 3, sorted(landmark_node._last_logged)[:10]
    assert 'unusable image' in landmark_node.last_error


def test_the_eye_camera_plays_a_folder_past_an_unreadable_image(ros_context, tmp_path):
    import cv2

    from emo_perception.eye_camera_node import EyeCameraNode
    for i in range(3):
        cv2.imwrite(str(tmp_path / f'frame_{2 * i}.png'), np.full((24, 32, 3), 40 * i, np.uint8))
    (tmp_path / 'frame_1.png').write_bytes(b'not an image at all')
    listener = rclpy.create_node('eye_camera_folder_listener', context=ros_context)
    got = []
    listener.create_subscription(Image, Topics.EYE_LEFT_IMAGE, got.append, qos_profile_sensor_data)
    camera = EyeCameraNode(context=ros_context, parameter_overrides=[
        Parameter('source', value=str(tmp_path)), Parameter('realtime', value=False)])
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(listener)
    ex.add_node(camera)
    try:
        assert spin_until(ex, lambda: len(got) >= 9, 30.0), f'{len(got)} images'
        assert camera.source is not None and camera.source.skipped == [str(tmp_path / 'frame_1.png')]
        assert {m.data[0] for m in got} == {0, 40, 80}   # every readable frame, over several loops
    finally:
        ex.shutdown()
        camera.destroy_node()
        listener.destroy_node()
