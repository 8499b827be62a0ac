"""For the tests of every Emo package (also under `colcon test --packages-select <pkg>`): DDS kept on this
machine and on a domain of its own, the rclpy fixtures, and helpers for tests over real rclpy and DDS.

    # <package>/test/conftest.py
    from emo_common.testing import ros_context, ros_node  # noqa: F401  (pytest fixtures)

    from emo_common.testing import NodeProcess, spin_until
"""
import array
import os
import time

import numpy as np

# Before any test imports rclpy, and inherited by the processes tests start.
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ['ROS_LOCALHOST_ONLY'] = '1'  # for distros before Jazzy
# A per-run domain keeps two test runs on one machine apart (0..101 are safe ports).
os.environ['ROS_DOMAIN_ID'] = os.environ.get('EMO_TEST_DOMAIN_ID', str(1 + os.getpid() % 100))

try:
    import pytest
except ImportError:  # the helpers below work without pytest
    pytest = None

if pytest is not None:
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


def spin_until(executor, predicate, timeout_s: float, step_s: float = 0.05) -> bool:
    """Spin `executor` until `predicate()` is true or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=step_s)
    return predicate()


def field_diffs(expected, received, path: str = 'msg') -> list:
    """Every field (recursively) where two ROS messages differ, as readable lines."""
    if hasattr(expected, 'get_fields_and_field_types'):
        if type(expected) is not type(received):
            return [f'{path}: type {type(expected).__name__} != {type(received).__name__}']
        diffs = []
        for name in expected.get_fields_and_field_types():
            diffs += field_diffs(getattr(expected, name), getattr(received, name), f'{path}.{name}')
        return diffs
    if isinstance(expected, (list, tuple, array.array, np.ndarray)):
        if len(expected) != len(received):
            return [f'{path}: length {len(expected)} != {len(received)}']
        diffs = []
        for i, (e, r) in enumerate(zip(expected, received)):
            diffs += field_diffs(e, r, f'{path}[{i}]')
        return diffs
    return [] if expected == received else [f'{path}: {expected!r} != {received!r}']


class NodeProcess:
    """Run a package's node executable in its own OS process, as `ros2 run` would.

        with NodeProcess('emo_perception', 'landmark_node', {'eye': 'left'}, tmp_path) as proc:
            ...
        proc.log()   # what it printed

    On exit it sends SIGINT (Ctrl-C) and checks the node ended cleanly.
    """

    def __init__(self, package: str, executable: str, params: dict = None, log_dir=None, env: dict = None):
        import os
        import pathlib
        from ament_index_python.packages import get_package_prefix
        self.path = pathlib.Path(get_package_prefix(package)) / 'lib' / package / executable
        args = [str(self.path)]
        if params:
            args += ['--ros-args'] + [a for k, v in params.items() for a in ('-p', f'{k}:={_param(v)}')]
        self.args = args
        self.log_path = pathlib.Path(log_dir or '/tmp') / f'{executable}.{os.getpid()}.log'
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.returncode = None

    def __enter__(self):
        import subprocess
        self._log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, timeout_s: float = 15.0) -> int:
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout_s)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.returncode = self.proc.returncode
        return self.returncode

    def __exit__(self, *exc):
        self.stop()
        return False


def _param(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def faster_head_yaml(path, name: str = 'fast_emo') -> str:
    """Write a copy of the Emo head description that moves faster, return its path: twice the
    Profile Acceleration, half the skin's time constant, 1.5 x every max_velocity and half the
    load torque (so the speed under load, the datasheet line, rises too)."""
    import yaml

    from emo_description.head import default_head_path
    with open(default_head_path()) as f:
        doc = yaml.safe_load(f)
    d = doc['dynamics']
    d['max_acceleration'] = {group: 2 * a for group, a in d['max_acceleration'].items()}
    d['load_torque_nm'] = {group: t / 2 for group, t in d['load_torque_nm'].items()}
    d['skin']['time_constant_s'] /= 2
    for servo in doc['servos']:
        servo['max_velocity'] *= 1.5
    doc['name'] = name
    path = str(path)
    with open(path, 'w') as f:
        yaml.safe_dump(doc, f)
    return path
