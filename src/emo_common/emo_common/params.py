"""Node parameters as data: each with its description, its range or choices, and whether it may change
while the node runs (live) or only at start (read-only, `ros2 param set` refuses it).

    PARAMS = [Param('k', 1.0, 'scale of the displacement', low=0.0, high=3.0, live=True),
              Param('model_path', '', 'checkpoint; empty = the shipped one')]
    values = declare(node, PARAMS)              # {name: value}; descriptors carry the ranges
    watch(node, PARAMS, apply)                  # apply({name: value}) for accepted live changes

`ros2 param describe` and rqt_reconfigure show the ranges; a set outside them, of a read-only
parameter or of an unknown choice is refused with the reason; `apply` may refuse too (ValueError).
"""
from dataclasses import dataclass
from typing import Callable, Optional

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult


@dataclass(frozen=True)
class Param:
    name: str
    default: object
    description: str
    low: Optional[float] = None
    high: Optional[float] = None
    choices: tuple = ()
    live: bool = False


def descriptor(p: Param) -> ParameterDescriptor:
    d = ParameterDescriptor(description=p.description, read_only=not p.live)
    if p.choices:
        d.additional_constraints = 'one of: ' + ', '.join(map(str, p.choices))
    if p.low is not None or p.high is not None:
        low = p.low if p.low is not None else -1e300
        high = p.high if p.high is not None else 1e300
        if isinstance(p.default, bool):
            pass
        elif isinstance(p.default, int):
            d.integer_range = [IntegerRange(from_value=int(max(low, -2 ** 62)), to_value=int(min(high, 2 ** 62)), step=0)]
        elif isinstance(p.default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)]
    return d


def problem(p: Param, value) -> Optional[str]:
    """Why `value` is not acceptable for p (None: it is)."""
    if p.choices and value not in p.choices:
        return f"{p.name} must be one of {', '.join(map(str, p.choices))}, got {value!r}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if p.low is not None and value < p.low or p.high is not None and value > p.high:
            return f'{p.name} must be in [{p.low}, {p.high}], got {value}'
    return None


def declare(node, params) -> dict:
    """Declare every parameter with its descriptor; returns their values (a refused value raises)."""
    values = {}
    for p in params:
        values[p.name] = node.declare_parameter(p.name, p.default, descriptor(p)).value
        why = problem(p, values[p.name])
        if why:
            raise ValueError(f'parameter {why}')
    return values


def watch(node, params, apply: Callable[[dict], None]):
    """Check every set request against the parameters' rules and hand the accepted live changes to
    apply (all of one request at once; a ValueError from apply refuses the request)."""
    by_name = {p.name: p for p in params}

    def on_set(parameters) -> SetParametersResult:
        changes = {}
        for parameter in parameters:
            p = by_name.get(parameter.name)
            if p is None:
                continue                      # another's (use_sim_time ...): rclpy's own rules
            if not p.live:
                return SetParametersResult(successful=False, reason=f'{p.name} is read-only: set it at start')
            why = problem(p, parameter.value)
            if why:
                return SetParametersResult(successful=False, reason=why)
            changes[p.name] = parameter.value
        if changes:
            try:
                apply(changes)
            except ValueError as err:
                return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)
    return node.add_on_set_parameters_callback(on_set)
