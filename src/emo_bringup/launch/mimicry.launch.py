"""The delayed-mimicry baseline: the same graph, the predictor in mode mimic (the robot copies the face it sees).

    ros2 launch emo_bringup mimicry.launch.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coexpress_launch_common import generate  # noqa: E402


def generate_launch_description():
    return generate('mimicry')
