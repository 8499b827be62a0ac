"""Property-based: whatever arrives, no goal leaves its limits, breaks a constraint or moves too fast."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from emo_servo_driver.head import load_head
from emo_servo_driver.safety import CommandError, SafetyFilter

HEAD = load_head()
DT = 0.02

command_value = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                          st.floats(-10, 10), st.floats(0, 1), st.sampled_from([0.0, 1.0, -1e9, 1e9]))
message = st.one_of(st.lists(command_value, min_size=11, max_size=11),
                    st.lists(command_value, min_size=0, max_size=20))


@settings(max_examples=300, deadline=None)
@given(messages=st.lists(st.tuples(message, st.integers(0, 5)), min_size=1, max_size=40),
       dt=st.floats(0.0, 0.1))
def test_any_message_sequence_stays_safe(messages, dt):
    safety = SafetyFilter(HEAD)
    commands = HEAD.calm_commands
    prev = safety.goals.copy()
    for values, cycles in messages:                     # bursty: several messages per cycle or none
        try:
            commands = safety.project(SafetyFilter.check_commands(values))
        except CommandError:
            pass                                        # rejected: the last valid commands stay
        assert not HEAD.violations(commands, tol=1e-6)
        assert ((commands >= 0) & (commands <= 1)).all()
        for _ in range(cycles):
            goals = safety.step(HEAD.commands_to_goals(commands), dt)
            assert np.isfinite(goals).all()
            assert (goals >= HEAD.min).all() and (goals <= HEAD.max).all()
            assert (np.abs(goals - prev) <= HEAD.max_velocity * min(dt, 0.2) + 1e-6).all()
            prev = goals


@pytest.mark.parametrize('values, message', [
    ([0.5] * 10, 'expected 11 commands, got 10'),
    ([0.5] * 10 + [float('nan')], 'non-finite commands: jaw'),
    ([float('inf')] + [0.5] * 10, 'non-finite commands: brow_inner'),
])
def test_bad_commands_are_refused_with_a_clear_error(values, message):
    with pytest.raises(CommandError, match=message):
        SafetyFilter.check_commands(values)


def test_projection_is_the_identity_inside_the_constraints():
    safety = SafetyFilter(HEAD)
    c = HEAD.calm_commands
    assert np.allclose(safety.project(c), c)


def test_jaw_wide_open_with_stretched_corners_is_reined_in():
    safety = SafetyFilter(HEAD)
    c = HEAD.calm_commands
    c[[9, 10]] = 1.0                                    # corner_stretch, jaw
    out = safety.project(c)
    assert out[10] + out[9] <= 1.5 + 1e-6


def test_a_target_jump_is_spread_over_cycles():
    safety = SafetyFilter(HEAD)
    target = HEAD.max.copy()
    steps = 0
    while not np.allclose(safety.goals, target) and steps < 1000:
        safety.step(target, DT)
        steps += 1
    span = HEAD.max - HEAD.calm
    assert steps >= int(np.max(span / (HEAD.max_velocity * DT)))


def test_a_servo_held_at_an_end_is_eased_back():
    safety = SafetyFilter(HEAD)
    target = HEAD.max.copy()
    for _ in range(int(6.0 / DT)):
        goals = safety.step(target, DT)
    span = HEAD.max - HEAD.min
    hold = HEAD.extreme_hold
    assert (goals <= HEAD.max - (hold['release'] - 0.01) * span).any()


def test_non_finite_targets_hold_the_last_goals():
    safety = SafetyFilter(HEAD)
    before = safety.goals.copy()
    assert np.allclose(safety.step(np.full(26, np.nan), DT), before)


def test_a_calm_pose_at_an_end_is_not_an_extreme():
    """The jaw rests closed at the end of its range: resting there must not open it."""
    safety = SafetyFilter(HEAD)
    jaw = HEAD.index['jaw']
    for _ in range(int(8.0 / DT)):
        goals = safety.step(HEAD.calm, DT)
    assert goals[jaw] == HEAD.calm[jaw]
