"""The recorder writes rosbag2 MCAP bags that the dataset builder reads back, field for field."""
import numpy as np
import pytest
import yaml

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('rosbags')
from emo_msgs.msg import FaceLandmarks, MotorCommands, Topics  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from emo_bringup.recorder import BagRecorder  # noqa: E402
from emo_prediction.training.bag_reading import BagError, read_face_landmarks, read_messages  # noqa: E402
from emo_common.testing import spin_until  # noqa: E402

pytestmark = pytest.mark.ros


def test_a_recording_round_trip(ros_context, tmp_path):
    node = rclpy.create_node('recorder_test', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    rec = BagRecorder(node, tmp_path / 'bag', {Topics.FACE_LANDMARKS: 'emo_msgs/msg/FaceLandmarks',
                                               Topics.MOTOR_COMMANDS: 'emo_msgs/msg/MotorCommands'})
    pub = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 10)
    cmd = node.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
    assert spin_until(ex, lambda: pub.get_subscription_count() > 0, 10.0)
    faces = np.random.default_rng(0).normal(0, 0.1, (5, 113, 2)).astype(np.float32)
    for i, f in enumerate(faces):
        m = FaceLandmarks(face_detected=True, face_xy=f.ravel().tolist())
        m.header.stamp.sec = 100 + i
        pub.publish(m)
        cmd.publish(MotorCommands(commands=[i / 10] * 11))
        spin_until(ex, lambda: False, 0.05)
    spin_until(ex, lambda: rec.counts.get('/emo/face/landmarks', 0) >= 5, 5.0)
    counts = rec.close()
    ex.shutdown()
    node.destroy_node()
    assert counts['/emo/face/landmarks'] == 5 and counts['/emo/motor_commands'] == 5
    meta = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())
    assert meta['rosbag2_bagfile_information']['storage_identifier'] == 'mcap'
    # Each topic keeps the QoS its publisher offered (rosbag2 does; `ros2 bag play` offers it again).
    topics = {t['topic_metadata']['name']: t['topic_metadata']
              for t in meta['rosbag2_bagfile_information']['topics_with_message_count']}
    offered = topics['/emo/face/landmarks']['offered_qos_profiles']
    offered = yaml.safe_load(offered) if isinstance(offered, str) else offered
    # (discovery carries no history depth: rosbag2 records depth 0 for it too)
    assert len(offered) == 1
    assert offered[0]['reliability'] in (1, 'reliable') and offered[0]['durability'] in (2, 'volatile')
    stamps, read = read_face_landmarks(tmp_path / 'bag')
    assert np.array_equal(stamps, np.arange(100, 105)) and np.allclose(read, faces)
    cmds = [m.commands for _, m in read_messages(tmp_path / 'bag', '/emo/motor_commands')]
    assert np.allclose(cmds[3], 0.3)


def test_a_malformed_bag_is_a_clear_error(tmp_path):
    (tmp_path / 'broken').mkdir()
    (tmp_path / 'broken' / 'metadata.yaml').write_text('not: a bag')
    with pytest.raises(BagError, match='cannot read recording'):
        list(read_messages(tmp_path / 'broken', '/emo/face/landmarks'))
    with pytest.raises(BagError, match='no recording'):
        list(read_messages(tmp_path / 'missing', '/emo/face/landmarks'))
