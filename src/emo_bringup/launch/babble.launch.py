"""Self-model data collection: motor babbling through the driver, watching the robot's face.

    ros2 launch emo_bringup babble.launch.py                          # the simulated head
    ros2 launch emo_bringup babble.launch.py bus:=dynamixel port:=/dev/ttyUSB0   # a real head (+ its face camera)

Parameters of the babbling (samples, output file) are in config/babble.yaml.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coexpress_launch_common import generate  # noqa: E402


def generate_launch_description():
    return generate('babble')
