"""Test settings shared by every package: DDS on loopback, one domain per run, the rclpy fixtures
(emo_common.testing, which every package's test/conftest.py uses too), ROS_HOME and logs in build/.

Set before any test imports rclpy, and inherited by the processes tests start.
"""
import os
import pathlib

_root = pathlib.Path(__file__).resolve().parent
os.environ.setdefault('ROS_HOME', str(_root / 'build' / 'ros_home'))
os.environ.setdefault('ROS_LOG_DIR', str(_root / 'build' / 'ros_log'))

from emo_common.testing import ros_context, ros_node  # noqa: E402,F401  (pytest fixtures)
