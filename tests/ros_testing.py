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
