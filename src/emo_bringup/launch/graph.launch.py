"""The nodes of one Emo graph (coexpress, mimicry or babble), included by the launch files that declare
its arguments (coexpress.launch.py, mimicry.launch.py, babble.launch.py); not for direct use.

The nodes, their config files and what each argument changes come from emo_bringup.graph, which
the launch-free runner (`emo_bringup`) reads too. An argument a graph does not declare keeps its
default. robot_state_publisher publishes the head's TF tree from emo_description's URDF and the
driver's joint states; the driver is a lifecycle node (autostart:=false: `ros2 lifecycle set`).
"""
import os

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription, LogInfo, OpaqueFunction, SetEnvironmentVariable
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import LifecycleNode, Node

from emo_bringup.graph import ARGUMENTS, NODE_ENV, config_dir, graph_nodes, profile_env_names, state_publisher


def _node(spec):
    kind = LifecycleNode if spec.lifecycle else Node
    return kind(package=spec.package, executable=spec.executable, name=spec.name, namespace=spec.namespace,
                output='screen', emulate_tty=True,
                # this node's config section and the arguments' overrides, then the user's file (wins)
                parameters=[spec.parameters()] + ([spec.user_params] if spec.user_params else []),
                remappings=list(spec.remaps.items()), ros_arguments=['--log-level', spec.log_level])


def _nodes(context):
    values = {name: context.launch_configurations.get(name, default) for name, (default, _) in ARGUMENTS.items()}
    graph = context.launch_configurations.get('graph', 'coexpress')
    specs = graph_nodes(graph, values)
    actions = [_node(spec) for spec in specs]
    publisher = state_publisher(values)
    if publisher is not None:
        actions.append(_node(publisher))
    if values['record'].lower() == 'true':
        here = os.path.dirname(os.path.abspath(__file__))
        actions.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(here, 'record.launch.py')),
            launch_arguments={'record_path': values['record_path'], 'namespace': values['namespace'],
                              'record_images': values['record_images']}.items()))
    actions.append(LogInfo(msg=f"emo graph {graph}: {', '.join(s.name for s in specs)}"
                               f"{' in namespace /' + values['namespace'] if values['namespace'] else ''}"))
    return actions


def generate_launch_description():
    return LaunchDescription(
        # Fast DDS 3 (Kilted) reads FASTDDS_..., Fast DDS 2 (Jazzy) FASTRTPS_...: the same profile for both.
        [SetEnvironmentVariable(name, os.environ.get(name, os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE',
                                                                          os.path.join(config_dir(), 'fastdds.xml'))))
         for name in profile_env_names()]
        + [SetEnvironmentVariable(name, os.environ.get(name, value)) for name, value in NODE_ENV.items()]
        + [OpaqueFunction(function=_nodes)])
