"""Dataset capture: record the graph's topics into a rosbag2 bag in MCAP storage.

    ros2 launch emo_bringup record.launch.py record_path:=session_01 [namespace:=head_a]
(or add record:=true to coexpress.launch.py, which includes this file). emo_prediction's dataset
builder reads the bags: python -m emo_prediction.training.build_dataset --bags session_01 --out windows.npz
Without `ros2 bag` (ros2bag and rosbag2_storage_mcap), it says so and records nothing; the
launch-free runner (`emo_bringup --record true`) records without it.
"""
import importlib.util
import shutil
import time

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from emo_bringup.graph import record_topics


def _record(context):
    if shutil.which('ros2') is None or importlib.util.find_spec('ros2bag') is None:
        return [LogInfo(msg='record:=true needs `ros2 bag` (apt install ros-$ROS_DISTRO-ros2bag '
                            'ros-$ROS_DISTRO-rosbag2-storage-mcap); not recording. Without ROS: '
                            'emo_bringup --record true')]
    path = LaunchConfiguration('record_path').perform(context) or time.strftime('emo_%Y%m%d_%H%M%S')
    topics = list(record_topics({'namespace': LaunchConfiguration('namespace').perform(context),
                                 'record_images': LaunchConfiguration('record_images').perform(context)}))
    return [ExecuteProcess(cmd=['ros2', 'bag', 'record', '-s', 'mcap', '-o', path] + topics, output='screen')]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('record_path', default_value='', description='bag folder (default: emo_<date>_<time>)'),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the graph to record'),
        DeclareLaunchArgument('record_images', default_value='false',
                              description="also the eye camera's JPEGs (the camera's publish_compressed must be on)"),
        OpaqueFunction(function=_record)])
