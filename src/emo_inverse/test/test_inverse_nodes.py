"""The inverse node and the babbling loop over real rclpy and DDS."""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from emo_inverse import babbling  # noqa: E402
from emo_inverse.simulated_head import robot_face_model  # noqa: E402
from ros_testing import NodeProcess, spin_until  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture
def rig(ros_context):
    node = rclpy.create_node('inverse_test', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    yield node, ex
    ex.shutdown()
    node.destroy_node()


def test_faces_become_commands_and_bad_faces_are_skipped(rig, tmp_path):
    node, ex = rig
    got = []
    node.create_subscription(MotorCommands, Topics.MOTOR_COMMANDS, got.append, 50)
    lm = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 10)
    ant = node.create_publisher(AnticipatedFace, Topics.FACE_ANTICIPATED, 10)
    rest = robot_face_model()[0].astype(np.float32)
    with NodeProcess('emo_inverse', 'inverse_node', {}, tmp_path) as proc:
        assert spin_until(ex, lambda: lm.get_subscription_count() and ant.get_subscription_count(), 20.0)
        for _ in range(8):                                      # the person's calm face: the rest face
            lm.publish(FaceLandmarks(face_detected=True, face_xy=rest.ravel().tolist()))
            spin_until(ex, lambda: False, 0.05)
        open_mouth = rest.copy()
        open_mouth[52:, 1] += np.where(rest[52:, 1] > rest[52:, 1].mean(), 0.12, 0.0)
        bad = AnticipatedFace(face_xy=[0.1] * 7)
        ant.publish(bad)
        msg = AnticipatedFace(face_xy=open_mouth.ravel().tolist())
        msg.header.stamp.sec = 42
        ant.publish(msg)
        assert spin_until(ex, lambda: any(m.header.stamp.sec == 42 for m in got), 10.0), proc.log()[-1500:]
        assert proc.alive()
    cmd = next(m for m in got if m.header.stamp.sec == 42)
    assert all(0.0 <= c <= 1.0 for c in cmd.commands)
    assert cmd.commands[MotorCommands.JAW] > 0.2                     # an open mouth opens the jaw
    assert 'malformed AnticipatedFace' in proc.log()


def test_babbling_through_the_driver(rig, tmp_path):
    out = tmp_path / 'babble.npz'
    with NodeProcess('emo_servo_driver', 'driver_node', {'bus': 'sim', 'gaze': False}, tmp_path), \
            NodeProcess('emo_inverse', 'robot_face_node', {}, tmp_path), \
            NodeProcess('emo_inverse', 'babble_node', {'samples': 4, 'out': str(out), 'settle_s': 0.3},
                        tmp_path) as babble:
        babble.proc.wait(timeout=90)
    data = babbling.load(out)
    assert len(data['commands']) == 8 and list(data['session']).count('upper') == 4
    # The recorded faces moved with the commands (the loop really went through the servos).
    assert np.abs(data['faces'] - data['rest_face']).mean(axis=(1, 2)).min() > 0.001
