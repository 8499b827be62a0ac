"""Dataset capture: record the graph's topics into a rosbag2 bag in MCAP storage.

    ros2 launch emo_bringup record.launch.py record_path:=session_01
(or add record:=true to coexpress.launch.py). emo_prediction's dataset builder
reads the bags: python -m emo_prediction.build_dataset --bags session_01 --out windows.npz
"""
import time

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from emo_bringup.graph import RECORD_TOPICS


def _record(context):
    path = LaunchConfiguration('record_path').perform(context) or time.strftime('emo_%Y%m%d_%H%M%S')
    return [ExecuteProcess(cmd=['ros2', 'bag', 'record', '-s', 'mcap', '-o', path] + list(RECORD_TOPICS),
                           output='screen')]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('record_path', default_value='', description='bag folder (default: emo_<date>_<time>)'),
        OpaqueFunction(function=_record)])
