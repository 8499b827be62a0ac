#!/usr/bin/env bash
# Create .venv with the pinned environment of the stack (idempotent).
# Re-runs only when requirements/lock.txt or the wheel fix-up changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PYTHON="${PYTHON:-python3.11}"
stamp=.venv/.emo-setup-stamp
want="$(cat requirements/lock.txt tools/fix_ros_wheels.py | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: .venv is up to date"
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null; then
  echo "setup: $PYTHON not found; the ROS 2 Kilted wheels need CPython 3.11 (set PYTHON=...)" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade 'pip>=24'
# --no-deps: lock.txt is the whole environment; it keeps mediapipe from
# pulling jax/jaxlib and pip from backtracking for minutes.
.venv/bin/python -m pip install --quiet --no-deps -r requirements/lock.txt
.venv/bin/python tools/fix_ros_wheels.py
echo "$want" > "$stamp"
echo "setup: .venv ready"
