"""The delayed-mimicry baseline: the same graph, the predictor in mode mimic (the robot copies the face it sees).

    ros2 launch emo_bringup mimicry.launch.py
"""
from emo_bringup.launching import graph_launch_description


def generate_launch_description():
    return graph_launch_description('mimicry')
