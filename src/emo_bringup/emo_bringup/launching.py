"""What the public launch files share (`launch` is imported here only, so the rest of emo_bringup runs
without it): declare a graph's arguments, and include graph.launch.py with them.

    # coexpress.launch.py
    def generate_launch_description():
        return graph_launch_description('coexpress')
"""
import os

from emo_bringup.graph import ARGUMENTS, graph_arguments, share_dir


def launch_dir() -> str:
    return share_dir('launch')


def graph_launch_description(graph: str, fixed: dict = None):
    """Declares the arguments `graph` uses (emo_bringup.graph.graph_arguments) and includes
    graph.launch.py with them; `fixed`: arguments set by the file itself (not declared)."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from launch.substitutions import LaunchConfiguration
    fixed = dict(fixed or {})
    names = [n for n in graph_arguments(graph) if n not in fixed]
    return LaunchDescription(
        [DeclareLaunchArgument(n, default_value=ARGUMENTS[n][0], description=ARGUMENTS[n][1]) for n in names]
        + [IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(launch_dir(), 'graph.launch.py')),
            launch_arguments=[('graph', graph)] + list(fixed.items()) + [(n, LaunchConfiguration(n)) for n in names])])
