"""Self-model data collection: motor babbling through the driver, watching the robot's face.

    ros2 launch emo_bringup babble.launch.py                          # the simulated head
    ros2 launch emo_bringup babble.launch.py bus:=dynamixel port:=/dev/ttyUSB0   # a real head (+ its face camera)

Parameters of the babbling (samples, output file) are in config/babble.yaml.
"""
from emo_bringup.launching import graph_launch_description


def generate_launch_description():
    return graph_launch_description('babble')
