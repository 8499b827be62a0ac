"""Issue 13 over real rclpy and Fast DDS: the inverse node skips absurd faces and unusable stamps (counting them
in /diagnostics) and its rest face is robust and can be reset. One finite 1e30 face among the first five used to
pin its commands at their extremes."""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from emo_inverse.training import babbling  # noqa: E402
from emo_inverse import default_path  # noqa: E402
from emo_inverse.model import NumpyInverse, load_checkpoint  # noqa: E402
from emo_inverse.normalization import Normalizer  # noqa: E402
from emo_sim.simulated_head import robot_face_model  # noqa: E402
from emo_common.testing import NodeProcess, spin_until  # noqa: E402

pytestmark = pytest.mark.ros
REST = robot_face_model()[0].astype(np.float32)


def anticipated(face, sec: int) -> AnticipatedFace:
    msg = AnticipatedFace(face_xy=np.asarray(face, np.float32).ravel().tolist())
    msg.header.stamp.sec = sec
    return msg


def test_absurd_faces_and_bad_stamps_are_skipped_and_the_rest_face_resets(ros_node, tmp_path):
    node, ex = ros_node
    got, diag = [], []
    node.create_subscription(MotorCommands, Topics.MOTOR_COMMANDS, got.append, 50)
    node.create_subscription(DiagnosticArray, Topics.DIAGNOSTICS, diag.append, 50)
    lm = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 50)
    ant = node.create_publisher(AnticipatedFace, Topics.FACE_ANTICIPATED, 50)
    reset = node.create_client(Trigger, '/inverse_node/reset_rest_face')
    # What the robot should do for the person's calm face: its own calm face, through the shipped self-model.
    norm = Normalizer.from_babbling(babbling.load(default_path('babble_default.npz')))
    calm_commands = NumpyInverse(load_checkpoint(default_path('inverse_default.pt'))[0]).predict(norm.robot_rest)

    def status() -> dict:
        for d in reversed(diag):
            for s in d.status:
                if s.name.startswith('inverse_node'):
                    return {kv.key: kv.value for kv in s.values}
        return {}

    def faces(*xs):
        for x in xs:
            lm.publish(FaceLandmarks(face_detected=True, face_xy=np.asarray(x, np.float32).ravel().tolist()))
            spin_until(ex, lambda: False, 0.05)

    def commands_for(sec: int) -> np.ndarray:
        assert spin_until(ex, lambda: any(m.header.stamp.sec == sec for m in got), 10.0), proc.log()[-2000:]
        return np.array(next(m for m in got if m.header.stamp.sec == sec).commands)

    with NodeProcess('emo_inverse', 'inverse_node', {}, tmp_path) as proc:
        assert spin_until(ex, lambda: lm.get_subscription_count() and ant.get_subscription_count(), 20.0)
        faces(REST, REST, np.full((113, 2), 1e30), REST, REST * 1e6, REST, REST, REST)  # issue 13: 1e30 among the first
        assert spin_until(ex, lambda: status().get('rest_face', 'none') != 'none', 10.0), proc.log()[-2000:]
        ant.publish(anticipated(REST, 42))
        np.testing.assert_allclose(commands_for(42), calm_commands, atol=1e-4)    # not pinned at the extremes

        ant.publish(anticipated(REST, -5))                                      # a negative stamp
        ant.publish(anticipated(np.full((113, 2), 1e30), 43))                   # an absurd face to command
        ant.publish(anticipated([float('nan')] * 226, 44))
        ant.publish(anticipated(REST, 41))                                      # stale: before the newest
        open_mouth = REST.copy()
        open_mouth[52:, 1] += np.where(REST[52:, 1] > REST[52:, 1].mean(), 0.12, 0.0)
        ant.publish(anticipated(open_mouth, 45))
        jaw = commands_for(45)[MotorCommands.JAW]
        assert jaw > 0.2                                                        # an open mouth opens the jaw

        # A new person (or the same one, now calm): reset, and their face is the new rest face.
        assert spin_until(ex, reset.service_is_ready, 20.0)
        future = reset.call_async(Trigger.Request())
        assert spin_until(ex, future.done, 10.0) and future.result().success, future.result()
        other = REST + np.float32(0.03)
        faces(*[other] * 8)
        assert spin_until(ex, lambda: status().get('rest_face_resets') == '1' and status()['rest_face'] != 'none',
                          10.0), status()
        ant.publish(anticipated(other, 46))
        np.testing.assert_allclose(commands_for(46), calm_commands, atol=1e-4)
        assert spin_until(ex, lambda: status().get('stale') == '1', 10.0), status()
        assert proc.alive(), proc.log()[-2000:]
    assert proc.returncode == 0 and 'Traceback' not in proc.log(), proc.log()[-2000:]
    assert not any(m.header.stamp.sec in (-5, 41, 43, 44) for m in got)
    every = np.array([m.commands for m in got])
    assert np.isfinite(every).all() and every.min() >= 0.0 and every.max() <= 1.0
    s = status()
    assert (s['implausible'], s['bad_stamps'], s['stale'], s['malformed']) == ('3', '1', '1', '1'), s
    assert 'implausible FaceLandmarks' in proc.log()


def test_the_robot_face_ignores_impossible_joint_states(ros_node, tmp_path):
    """One 1e30 position once stayed in the simulated skin's state for seconds (a servo NaN at the first
    message stayed NaN for good): the robot face is the calm face again at once."""
    from sensor_msgs.msg import JointState
    from emo_description.head import load_head
    head = load_head()
    node, ex = ros_node
    got = []
    node.create_subscription(FaceLandmarks, Topics.ROBOT_FACE_LANDMARKS, got.append, 50)
    pub = node.create_publisher(JointState, Topics.JOINT_STATES, 50)
    calm_rad = head.ticks_to_radians(head.calm).tolist()

    def joints(positions, sec):
        msg = JointState(name=list(head.names), position=[float(p) for p in positions])
        msg.header.stamp.sec = sec
        pub.publish(msg)
        spin_until(ex, lambda: False, 0.05)

    with NodeProcess('emo_sim', 'robot_face_node', {'plant': 'real'}, tmp_path) as proc:
        assert spin_until(ex, lambda: pub.get_subscription_count() > 0, 20.0)
        joints([float('nan')] + calm_rad[1:], 1)
        joints(calm_rad, 2)
        assert spin_until(ex, lambda: len(got) >= 2, 10.0), proc.log()[-2000:]
        calm_face = np.array(got[-1].face_xy)
        assert np.isfinite(calm_face).all()
        joints([1e30] * len(calm_rad), 3)
        joints([-1e30] * 3 + calm_rad[3:], 4)
        n = len(got)
        joints(calm_rad, 5)
        assert spin_until(ex, lambda: len(got) > n, 10.0)
        assert np.abs(np.array(got[-1].face_xy) - calm_face).mean() < 0.004     # only the twin's jitter apart
        assert proc.alive()
