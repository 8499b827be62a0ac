"""Coexpression: eye camera -> landmarks -> predictor -> inverse -> driver (+ the simulated head's face).

    ros2 launch emo_bringup coexpress.launch.py
    ros2 launch emo_bringup coexpress.launch.py camera:=device camera_path:=/dev/video0 bus:=dynamixel port:=/dev/ttyUSB0
    ros2 launch emo_bringup coexpress.launch.py record:=true

The nodes, their config files (config/*.yaml) and what each argument changes
come from emo_bringup.graph, which the launch-free runner (`emo_bringup`) reads too.
robot_state_publisher publishes the head's TF tree from emo_description's URDF
(generated from the head YAML) and the driver's /emo/joint_states.
"""
import os
import time

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from emo_bringup.graph import ARGUMENTS, NODE_ENV, RECORD_TOPICS, config_dir, graph_nodes, state_publisher

GRAPH = 'coexpress'


def _nodes(context, graph):
    values = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    actions = []
    # The graph's nodes, and robot_state_publisher on the head's URDF (the TF tree: neck, eyes, cameras).
    for spec in graph_nodes(graph, values) + [state_publisher(values)]:
        actions.append(Node(package=spec.package, executable=spec.executable, name=spec.name, output='screen',
                            parameters=[p for p in (spec.params_file, spec.overrides) if p],
                            remappings=list(spec.remaps.items()), emulate_tty=True))
    if values['record'].lower() == 'true':
        path = values['record_path'] or time.strftime('emo_%Y%m%d_%H%M%S')
        actions.append(ExecuteProcess(cmd=['ros2', 'bag', 'record', '-s', 'mcap', '-o', path] + list(RECORD_TOPICS),
                                      output='screen'))
    return actions


def generate_launch_description(graph: str = GRAPH):
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=text)
         for name, (default, text) in ARGUMENTS.items()]
        + [SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE',
                                  os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE',
                                                 os.path.join(config_dir(), 'fastdds.xml')))]
        + [SetEnvironmentVariable(name, os.environ.get(name, value)) for name, value in NODE_ENV.items()]
        + [OpaqueFunction(function=_nodes, args=[graph])])
