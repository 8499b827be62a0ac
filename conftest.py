"""Test settings shared by every package: DDS on loopback, one domain per run.

Set before any test imports rclpy, and inherited by the processes tests start.
"""
import os
import pathlib

_root = pathlib.Path(__file__).resolve().parent
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ['ROS_LOCALHOST_ONLY'] = '1'  # for distros before Jazzy
# A per-run domain keeps two test runs on one machine apart (0..101 are safe ports).
os.environ['ROS_DOMAIN_ID'] = os.environ.get('EMO_TEST_DOMAIN_ID', str(1 + os.getpid() % 100))
os.environ.setdefault('ROS_HOME', str(_root / 'build' / 'ros_home'))
os.environ.setdefault('ROS_LOG_DIR', str(_root / 'build' / 'ros_log'))


import pytest  # noqa: E402


@pytest.fixture
def ros_context():
    """A fresh rclpy context for one test, shut down after it."""
    rclpy = pytest.importorskip('rclpy')
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    context.try_shutdown()


@pytest.fixture
def ros_node(ros_context, request):
    """(node, executor): a node for the test to publish and subscribe with, and the executor that spins it."""
    rclpy = pytest.importorskip('rclpy')
    from rclpy.executors import SingleThreadedExecutor
    node = rclpy.create_node(request.module.__name__.rsplit('.', 1)[-1], context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
