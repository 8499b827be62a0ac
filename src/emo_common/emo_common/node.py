"""The `main()` every Emo node has: init, spin until Ctrl-C or shutdown, clean up.

    def main(args=None):
        spin_node(InverseNode, args)
"""
import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException


def spin_node(make_node, args=None) -> None:
    """Run one node until Ctrl-C, SIGTERM or a shutdown of its context; destroy it and shut down."""
    rclpy.init(args=args)
    node = make_node()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if rclpy.ok():
            raise  # else: a callback in flight when Ctrl-C/SIGTERM shut the context down
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
