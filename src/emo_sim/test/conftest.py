"""This package's tests under `colcon test --packages-select` as under `make test`: DDS on loopback and
a domain of its own, and the rclpy fixtures (emo_common.testing)."""
from emo_common.testing import ros_context, ros_node  # noqa: F401  (pytest fixtures)
