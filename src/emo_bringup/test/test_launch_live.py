"""`ros2 launch emo_bringup coexpress.launch.py namespace:=...` for real: launch's LaunchService runs the
launch file, its nodes come up in the namespace and the commands flow. launch and launch_ros have no
wheel: the test runs where they are installed (a system ROS, or a build of them beside the workspace)."""
import os
import signal
import subprocess
import sys

import pytest

pytest.importorskip('launch_ros')
rclpy = pytest.importorskip('rclpy')
pytestmark = pytest.mark.ros

SCRIPT = '''
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from emo_bringup.launching import launch_dir
args = dict(a.split(':=', 1) for a in sys.argv[1:])
service = LaunchService()
service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
    PythonLaunchDescriptionSource(launch_dir() + '/coexpress.launch.py'), launch_arguments=args.items())]))
sys.exit(service.run())
'''


def test_coexpress_launch_runs_the_graph_in_its_namespace(ros_context, tmp_path):
    from emo_msgs.msg import MotorCommands
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import JointState

    from emo_common.testing import spin_until
    node = rclpy.create_node('launch_watcher', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    commands, joints = [], []
    node.create_subscription(MotorCommands, '/launched/emo/motor_commands', commands.append, 50)
    node.create_subscription(JointState, '/launched/emo/joint_states', joints.append, 50)
    log = open(tmp_path / 'launch.log', 'w')
    proc = subprocess.Popen([sys.executable, '-c', SCRIPT, 'namespace:=launched', 'plant:=ideal',
                             'state_publisher:=false', 'log_level:=warn'],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ), start_new_session=True)
    try:
        assert spin_until(ex, lambda: len(commands) >= 10 and len(joints) >= 10, timeout_s=120.0), \
            (tmp_path / 'launch.log').read_text()[-3000:]
        assert node.count_publishers('/emo/motor_commands') == 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        ex.shutdown()
        node.destroy_node()
