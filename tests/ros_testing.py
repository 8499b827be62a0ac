"""Helpers for tests that run real rclpy over Fast DDS."""
import array
import time

import numpy as np


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
