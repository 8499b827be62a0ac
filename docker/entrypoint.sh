#!/usr/bin/env bash
# Source ROS 2 and the built workspace, then run the command (default: the coexpression launch).
set -e
source /opt/ros/jazzy/setup.bash
source /emo_ws/install/setup.bash
exec "$@"
