# Source this file (bash) to use the workspace with the ROS 2 wheels of .venv:
#   source tools/env.sh
# With a system ROS 2 sourced beforehand (e.g. /opt/ros/jazzy/setup.bash) and
# no .venv, it only sources the built workspace.
_emo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# ROS_DISTRO=jazzy: the Jazzy venv and workspace (make ... ROS_DISTRO=jazzy); else Kilted's.
if [ "${ROS_DISTRO:-}" = jazzy ] && [ -x "$_emo_root/.venv-jazzy/bin/python" ]; then
  _emo_venv=.venv-jazzy; _emo_install=install-jazzy
else
  _emo_venv=.venv; _emo_install=install
fi
if [ -x "$_emo_root/$_emo_venv/bin/python" ]; then
  export VIRTUAL_ENV="$_emo_root/$_emo_venv"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
  # The wheels install an ament prefix into the venv itself.
  export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
  export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export LD_LIBRARY_PATH="$VIRTUAL_ENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
fi
# Keep DDS on this machine unless the user says otherwise.
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export ROS_LOCALHOST_ONLY="${ROS_LOCALHOST_ONLY:-1}"
# Camera images need a larger shared-memory segment than Fast DDS's default
# (see src/emo_bringup/config/fastdds.xml).
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_emo_root/src/emo_bringup/config/fastdds.xml}"
# Fast DDS 2.x (Jazzy) reads the older name: without it the images fall back to UDP and most are lost
# (Fast DDS 3, Kilted, warns that the older name is deprecated: set it for Jazzy only).
if [ "${ROS_DISTRO:-}" = jazzy ]; then
  export FASTRTPS_DEFAULT_PROFILES_FILE="${FASTRTPS_DEFAULT_PROFILES_FILE:-$FASTDDS_DEFAULT_PROFILES_FILE}"
fi
if [ -f "$_emo_root/$_emo_install/setup.bash" ]; then
  # shellcheck disable=SC1091
  source "$_emo_root/$_emo_install/setup.bash"
fi
unset _emo_root _emo_venv _emo_install
