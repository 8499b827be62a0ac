"""The whole graph on the demo clip with the simulated bus and head, each node in its own process."""
import pathlib
import signal
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('emo_bringup')
pytest.importorskip('mediapipe')

pytestmark = pytest.mark.ros


@pytest.fixture(scope='module')
def demo_runs(tmp_path_factory):
    from emo_bringup.demo import run
    from emo_sim.demo_video import demo_clip
    clip = demo_clip(progress=False)
    out = tmp_path_factory.mktemp('demo')
    return {mode: run(mode, out, clip, out / f'{mode}_logs') for mode in ('anticipate', 'mimic')}, clip


def test_commands_reach_the_simulated_servos(demo_runs):
    runs, clip = demo_runs
    for mode, r in runs.items():
        counts = r['messages']
        assert counts.get('/emo/face/landmarks', 0) > 0.8 * clip.num_frames, (mode, counts)
        assert counts.get('/emo/motor_commands', 0) > 0.5 * clip.num_frames, (mode, counts)
        c = r['curves']
        # The robot's face (from the servos' actual positions) moves with the person's.
        robot = np.interp(c.human_t, c.robot_t, c.robot)
        assert robot.max() > 5 * np.percentile(robot, 10) + 0.01
        assert np.corrcoef(robot, c.human)[0, 1] > 0.6, mode
        assert sum(e['gap_s'] is not None for e in r['expressions']) == len(clip.expressions)


def test_coexpression_beats_mimicry_on_timing(demo_runs):
    """On the same clip, the robot's face arrives earlier with the predictor than with the
    mimicry baseline, expression by expression, and mimicry is late."""
    from emo_bringup.timing import compare_modes
    runs, clip = demo_runs
    versus = compare_modes(runs['anticipate'], runs['mimic'])
    report = {m: [e['gap_s'] for e in r['expressions']] for m, r in runs.items()}
    assert versus['expressions_compared'] == len(clip.expressions), report
    assert versus['expressions_earlier'] >= len(clip.expressions) - 1, (versus, report)
    assert versus['median_advance_s'] >= 0.04, (versus, report)
    assert runs['mimic']['median_gap_s'] > 0.0, report
    assert runs['anticipate']['median_gap_s'] < runs['mimic']['median_gap_s'], report


def test_the_watchdog_brings_the_face_to_calm_when_the_predictor_dies(ros_context, tmp_path):
    from emo_msgs.msg import FaceLandmarks, Topics
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import JointState

    from emo_bringup.runner import RunningGraph
    from emo_description.head import load_head
    from emo_common.testing import spin_until
    head = load_head()
    node = rclpy.create_node('e2e_watchdog', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    joints, commands = [], []
    node.create_subscription(JointState, Topics.JOINT_STATES, joints.append, 50)
    from emo_msgs.msg import MotorCommands
    node.create_subscription(MotorCommands, Topics.MOTOR_COMMANDS, commands.append, 50)
    faces = []
    node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, faces.append, 50)
    graph = RunningGraph('coexpress', {'camera': 'demo', 'loop': 'true'}, str(tmp_path))
    try:
        graph.start()
        assert spin_until(ex, lambda: len(commands) > 60, timeout_s=90.0), 'no motor commands'

        def facial_offset():
            p = head.radians_to_ticks(joints[-1].position)
            return np.abs(p - head.calm)[head.facial].max()
        # While the person's face moves, the robot's face is away from calm at some point.
        assert spin_until(ex, lambda: facial_offset() > 40, timeout_s=30.0)
        graph.procs['predictor_node'].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        spin_until(ex, lambda: False, timeout_s=0.3)
        n = len(commands)
        assert spin_until(ex, lambda: facial_offset() < 5, timeout_s=6.0), facial_offset()
        calm_after = time.monotonic() - killed
        assert len(commands) - n <= 2                     # no commands without the predictor
        assert calm_after < 5.0
        assert graph.alive()['driver_node']
    finally:
        graph.stop()
        ex.shutdown()
        node.destroy_node()
    log = pathlib.Path(tmp_path, 'driver_node.log').read_text()
    assert 'Traceback' not in log
