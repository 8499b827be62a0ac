"""The safety rules on their own: command checks, the constraint projection, motion caps, hold timers."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from emo_description.head import load_head
from emo_servo_driver.safety import CommandError, Constraints, HoldTimers, check_commands, step_caps

HEAD = load_head()
DT = 0.02

command_value = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                          st.floats(-10, 10), st.floats(0, 1), st.sampled_from([0.0, 1.0, -1e9, 1e9]))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(command_value, min_size=0, max_size=20))
def test_any_message_is_refused_or_projected_into_the_constraints(values):
    try:
        commands = Constraints(HEAD).project(check_commands(values))
    except CommandError:
        return
    assert not HEAD.violations(commands, tol=1e-6)
    assert ((commands >= 0) & (commands <= 1)).all()


@pytest.mark.parametrize('values, message', [
    ([0.5] * 10, 'expected 11 commands, got 10'),
    ([0.5] * 10 + [float('nan')], 'non-finite commands: jaw'),
    ([float('inf')] + [0.5] * 10, 'non-finite commands: brow_inner'),
])
def test_bad_commands_are_refused_with_a_clear_error(values, message):
    with pytest.raises(CommandError, match=message):
        check_commands(values)


def test_projection_is_the_identity_inside_the_constraints():
    c = HEAD.calm_commands
    assert np.allclose(Constraints(HEAD).project(c), c)


def test_jaw_wide_open_with_stretched_corners_is_reined_in():
    c = HEAD.calm_commands
    c[[9, 10]] = 1.0                                    # corner_stretch, jaw
    out = Constraints(HEAD).project(c)
    assert out[10] + out[9] <= 1.5 + 1e-6


@settings(max_examples=300, deadline=None)
@given(pos=st.floats(0, 1), vel=st.floats(-3000, 3000), dt=st.one_of(st.floats(0, 0.5), st.just(float('nan'))))
def test_step_caps_keep_speed_speed_up_and_room_to_brake(pos, vel, dt):
    goals = HEAD.min + pos * (HEAD.max - HEAD.min)
    velocity = np.full(len(goals), vel)
    up, down = step_caps(goals, velocity, HEAD, dt)
    d = min(dt, 0.2) if np.isfinite(dt) else 0.0
    a = HEAD.dynamics.max_acceleration
    assert (up >= 0).all() and (down >= 0).all()
    assert (up <= HEAD.max_velocity * d + 1e-9).all() and (down <= HEAD.max_velocity * d + 1e-9).all()
    assert (goals + up <= HEAD.max + 1e-9).all() and (goals - down >= HEAD.min - 1e-9).all()
    assert (up <= (max(vel, 0) + a * d) * d + 1e-9).all() and (down <= (max(-vel, 0) + a * d) * d + 1e-9).all()
    if d > 0:   # after the full step up it can still stop before the top of its range
        assert ((up / d) ** 2 <= 2 * a * (HEAD.max - goals - up) + 1e-6).all()


def test_a_servo_held_at_an_end_is_told_to_rest():
    hold = HoldTimers(HEAD)
    goals = HEAD.max.copy()
    tired = np.zeros(len(goals), dtype=bool)
    for _ in range(int(HEAD.extreme_hold['max_seconds'] / DT) + 2):
        tired = hold.update(goals, DT)
    span = HEAD.max - HEAD.min
    rested = hold.rested(goals, tired)
    assert tired.all()
    assert np.allclose(rested, HEAD.max - HEAD.extreme_hold['release'] * span)


def test_a_calm_pose_at_an_end_is_not_an_extreme():
    """The jaw rests closed at the end of its range: resting there must not tire it."""
    hold = HoldTimers(HEAD)
    for _ in range(int(8.0 / DT)):
        tired = hold.update(HEAD.calm, DT)
    assert not tired.any()
