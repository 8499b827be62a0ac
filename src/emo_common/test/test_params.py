"""Parameters as data: descriptors carry the ranges and read-only; sets outside the rules are refused
with the reason, accepted live ones reach the node (over rclpy's own parameter machinery)."""
import pytest
from rcl_interfaces.msg import ParameterDescriptor

from emo_common.params import Param, descriptor, problem

K = Param('k', 1.0, 'scale', low=0.0, high=5.0, live=True)
N = Param('frames', 2, 'count', low=1, high=30, live=True)
MODE = Param('mode', 'a', 'mode', choices=('a', 'b'))


def test_descriptors_carry_ranges_choices_and_read_only():
    d = descriptor(K)
    assert isinstance(d, ParameterDescriptor) and not d.read_only
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == (0.0, 5.0)
    d = descriptor(N)
    assert (d.integer_range[0].from_value, d.integer_range[0].to_value) == (1, 30)
    d = descriptor(MODE)
    assert d.read_only and 'a, b' in d.additional_constraints


def test_problems_name_the_rule():
    assert problem(K, 2.0) is None and problem(N, 30) is None and problem(MODE, 'b') is None
    assert 'in [0.0, 5.0]' in problem(K, 6.0)
    assert 'one of a, b' in problem(MODE, 'c')
    assert problem(Param('flag', True, 'x', low=0, high=1), True) is None      # bools are not numbers here


def test_a_node_refuses_what_the_rules_refuse_and_applies_the_rest(ros_context):
    rclpy = pytest.importorskip('rclpy')
    from rclpy.parameter import Parameter

    from emo_common.params import declare, watch
    node = rclpy.create_node('params_test', context=ros_context)
    applied = []
    try:
        assert declare(node, [K, N, MODE]) == {'k': 1.0, 'frames': 2, 'mode': 'a'}

        def apply(changes):
            if changes.get('frames') == 13:
                raise ValueError('13 frames: unlucky')
            applied.append(changes)
        watch(node, [K, N, MODE], apply)
        ok = node.set_parameters([Parameter('k', value=2.5)])[0]
        assert ok.successful and applied == [{'k': 2.5}] and node.get_parameter('k').value == 2.5
        for bad, why in ((Parameter('k', value=9.0), ''), (Parameter('mode', value='b'), 'read-only'),
                         (Parameter('frames', value=13), 'unlucky')):
            result = node.set_parameters([bad])[0]
            assert not result.successful and why in result.reason, result.reason
        assert node.get_parameter('k').value == 2.5 and node.get_parameter('mode').value == 'a'
        assert applied == [{'k': 2.5}]
    finally:
        node.destroy_node()
