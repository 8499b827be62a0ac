"""Coexpression: eye camera -> landmarks -> predictor -> inverse -> driver (+ the simulated head's face).

    ros2 launch emo_bringup coexpress.launch.py
    ros2 launch emo_bringup coexpress.launch.py camera:=device camera_path:=/dev/video0 bus:=dynamixel port:=/dev/ttyUSB0
    ros2 launch emo_bringup coexpress.launch.py namespace:=head_a params_file:=my_params.yaml log_level:=debug
    ros2 launch emo_bringup coexpress.launch.py driver:=false        # bring your own driver
    ros2 launch emo_bringup coexpress.launch.py record:=true
    ros2 launch emo_bringup coexpress.launch.py --show-args           # every argument, with its default

The nodes (graph.launch.py), their config files (config/*.yaml) and what each argument changes
come from emo_bringup.graph, which the launch-free runner (`emo_bringup`) reads too.
"""
from emo_bringup.launching import graph_launch_description


def generate_launch_description():
    return graph_launch_description('coexpress')
