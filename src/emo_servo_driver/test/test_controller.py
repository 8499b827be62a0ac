"""HeadController, property-based: hostile command and face streams with bus reconnects, dropped
servos and e-stops interleaved; every goal set keeps range, speed, speed-up, room to brake,
the head's constraints (an independent MILP check) and the hold time."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from emo_servo_driver.controller import HeadController
from emo_description.head import load_head
from emo_servo_driver.pose_check import valid_face
from emo_servo_driver.safety import CommandError

pytest.importorskip('scipy')
HEAD = load_head()
A = HEAD.dynamics.max_acceleration
FACIAL = HEAD.facial
HOLD_LIMIT_S = HEAD.extreme_hold['max_seconds'] + 1.0   # the limit, plus the time to leave the end


class Watch:
    """Checks every goal set against the limits, from the outside (only goals and times)."""

    def __init__(self, goals, now):
        self.goals, self.now, self.velocity = np.array(goals), now, np.zeros(len(goals))
        self.at_end_s = np.zeros(len(goals))
        span = HEAD.max - HEAD.min
        margin = HEAD.extreme_hold['margin'] * span
        calm_low, calm_high = HEAD.calm <= HEAD.min + margin, HEAD.calm >= HEAD.max - margin
        self.end = lambda g: ((g <= HEAD.min + margin) & ~calm_low) | ((g >= HEAD.max - margin) & ~calm_high)

    def restart(self, goals, now):
        """After start(): a new motion from rest (torque was off)."""
        self.goals, self.now, self.velocity = np.array(goals), now, np.zeros(len(goals))

    def check(self, goals, now):
        g = np.asarray(goals)
        assert np.isfinite(g).all()
        assert (g >= HEAD.min - 1e-9).all() and (g <= HEAD.max + 1e-9).all()
        dt = min(now - self.now, 0.2)
        step = g - self.goals
        if dt <= 0:
            assert np.allclose(step, 0)
        else:
            v = step / dt
            assert (np.abs(v) <= HEAD.max_velocity + 1e-6 / dt).all()
            going = np.where(np.sign(v) == np.sign(self.velocity), np.abs(self.velocity), 0.0)
            assert (np.abs(v) - going <= A * dt + 1e-6 / dt).all()                       # speed-up
            room = np.where(v > 0, HEAD.max - g, g - HEAD.min)
            assert (np.abs(v) <= np.sqrt(2 * A * (room + 1e-6)) + 1e-6 / dt).all()       # room to brake (1e-6 tick)
            self.velocity = v
        self.at_end_s = np.where(self.end(g), self.at_end_s + max(dt, 0), 0.0)
        assert (self.at_end_s <= HOLD_LIMIT_S).all(), np.array(HEAD.names)[self.at_end_s > HOLD_LIMIT_S]
        self.goals, self.now = g, now


command_value = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0]), st.floats(-1e30, 1e30),
                          st.floats(allow_nan=True, allow_infinity=True))
event = st.one_of(
    st.tuples(st.just('command'), st.lists(command_value, min_size=11, max_size=11)),
    st.tuples(st.just('command'), st.lists(command_value, min_size=0, max_size=14)),
    st.tuples(st.just('face'), st.one_of(st.none(), st.tuples(st.floats(-1, 2), st.floats(-1, 2)))),
    st.tuples(st.just('steps'), st.integers(1, 30)),
    st.tuples(st.just('reconnect'), st.lists(st.booleans(), min_size=26, max_size=26)),   # True: no answer
    st.tuples(st.just('estop'), st.floats(-200, 200)),                                   # limp, then sags
    st.tuples(st.just('calm'), st.integers(1, 40)))


@settings(max_examples=150, deadline=None)
@given(events=st.lists(event, min_size=1, max_size=40), dt=st.sampled_from([0.0, 0.004, 0.02, 0.033, 0.25]),
       seed=st.integers(0, 2 ** 16))
def test_hostile_streams_with_faults_keep_every_limit(events, dt, seed):
    rng = np.random.default_rng(seed)
    ctl = HeadController(HEAD)
    now = 100.0
    watch = Watch(ctl.start(HEAD.calm), now)
    for kind, arg in events:
        if kind == 'command':
            try:
                ctl.command(arg, now)
            except CommandError:
                pass
        elif kind == 'face':
            ctl.look_at(arg, now)
        elif kind == 'reconnect':    # servos answer where they are (a torqued one near its goal), or not at all
            before = ctl.goals.copy()
            present = ctl.goals + rng.normal(0, 40, len(ctl.goals))
            ctl.resync(np.where(arg, np.nan, present))
            # Those within a torqued servo's lag of their goal keep it; the others (limp) restart where they are.
            moved = ~np.array(arg) & (np.abs(present - before) > ctl.lag_tolerance())
            assert np.array_equal(ctl.goals, np.where(moved, np.clip(present, HEAD.min, HEAD.max), before))
            watch.goals[moved], watch.velocity[moved] = ctl.goals[moved], 0.0
        elif kind == 'estop':        # torque off, the face sags, activate again from where it is
            present = np.where(rng.random(len(ctl.goals)) < 0.2, np.nan, ctl.goals + arg)
            watch.restart(ctl.start(present), now)
            assert np.allclose(ctl.goals[np.isfinite(present)],
                               np.clip(present, HEAD.min, HEAD.max)[np.isfinite(present)])
        elif kind == 'calm':
            ctl.ease_to_calm()
        for _ in range(arg if kind in ('steps', 'calm') else 1):
            now += dt + rng.uniform(0, 0.002)
            watch.check(ctl.step(now), now)
            if not ctl.recovering.any():          # the facial servos show the face of valid commands
                assert ctl.constraints.holds(ctl.face)
                assert np.allclose(ctl.goals[FACIAL], HEAD.commands_to_goals(ctl.face)[FACIAL])
    if not ctl.recovering.any():
        assert valid_face(HEAD, ctl.goals) is not None


def test_between_two_valid_faces_every_goal_set_is_valid():
    """The per-servo rate limiter once passed through jaw + corner_stretch = 1.71 (limit 1.5) going
    from (jaw 1, stretch 0.5) to (jaw 0.5, stretch 1): the corners are faster than the jaw."""
    ctl = HeadController(HEAD, gaze=False)
    now = 0.0
    ctl.start(HEAD.calm)
    a, b = HEAD.calm_commands, HEAD.calm_commands
    a[[9, 10]] = [0.5, 1.0]
    b[[9, 10]] = [1.0, 0.5]
    checked = 0
    for k in range(150):
        now += 0.02
        ctl.command(a if (k // 40) % 2 == 0 else b, now)
        goals = ctl.step(now)
        if k % 3 == 0:
            assert valid_face(HEAD, goals) is not None, k
            checked += 1
    assert checked == 50
    # and the check itself catches the pose the old limiter wrote
    bad = HEAD.commands_to_goals(np.where(np.arange(11) == 9, 1.0, a))
    assert valid_face(HEAD, bad) is None


def test_hold_timers_survive_reconnects():
    """A bus error every 2.5 s once reset the hold timers: a servo stayed at its range end 29.9 s
    against the 3 s limit."""
    ctl = HeadController(HEAD, gaze=False)
    now = 0.0
    watch = Watch(ctl.start(HEAD.calm), now)
    wide = HEAD.calm_commands
    wide[10] = 1.0                                    # jaw wide open: the top of its range
    longest = 0.0
    for k in range(int(30 / 0.02)):
        now += 0.02
        ctl.command(wide, now)
        if k % 125 == 0:
            ctl.resync(ctl.goals.copy())              # reconnect: every servo answers where its goal is
        watch.check(ctl.step(now), now)
        longest = max(longest, watch.at_end_s[HEAD.index['jaw']])
    assert HEAD.extreme_hold['max_seconds'] - 0.1 < longest <= HOLD_LIMIT_S


def driven(command: int, value: float, steps: int, gaze: bool = False):
    """(controller, its time, the commands) after `steps` 20 ms steps of one command held at `value`."""
    ctl = HeadController(HEAD, gaze=gaze)
    now = 0.0
    ctl.start(HEAD.calm)
    commands = HEAD.calm_commands
    commands[command] = value
    for _ in range(steps):
        now += 0.02
        ctl.command(commands, now)
        ctl.step(now)
    return ctl, now, commands


def test_a_servo_silent_after_a_reconnect_holds_its_last_goal():
    ctl, now, _ = driven(10, 0.8, 100)                  # the jaw open
    jaw = HEAD.index['jaw']
    last = ctl.goals.copy()
    present = last.copy()
    present[jaw] = np.nan
    ctl.resync(present)
    assert ctl.goals[jaw] == last[jaw]                # not restarted from calm (a jump of 8.9x its limit once)
    now += 0.02
    assert abs(ctl.step(now)[jaw] - last[jaw]) <= HEAD.max_velocity[jaw] * 0.02


def test_a_servo_that_went_limp_restarts_where_it_is():
    ctl = HeadController(HEAD, gaze=False)
    now = 0.0
    ctl.start(HEAD.calm)
    jaw = HEAD.index['jaw']
    present = ctl.goals.copy()
    present[jaw] += 400                               # browned out, the jaw fell open
    ctl.resync(present)
    assert ctl.goals[jaw] == present[jaw] and ctl.recovering[jaw]
    watch = Watch(ctl.goals, now)
    for _ in range(200):
        now += 0.02
        watch.check(ctl.step(now), now)
    assert not ctl.recovering.any() and abs(ctl.goals[jaw] - HEAD.calm[jaw]) < 1


def test_activate_after_an_estop_starts_from_the_present_pose():
    """e-stop -> deactivate -> activate once jumped the jaw 348 ticks in one cycle."""
    ctl, now, wide = driven(10, 1.0, 40)
    sagged = ctl.goals - 50.0                         # torque off: the face sagged
    assert np.allclose(ctl.start(sagged), np.clip(sagged, HEAD.min, HEAD.max))
    watch = Watch(ctl.goals, now)
    for _ in range(100):
        now += 0.02
        ctl.command(wide, now)
        watch.check(ctl.step(now), now)


def test_ease_to_calm_ends_at_calm_and_ignores_commands():
    ctl, now, smile = driven(8, 1.0, 30, gaze=True)     # corners up
    ctl.ease_to_calm()
    for _ in range(150):
        now += 0.02
        ctl.command(smile, now)
        ctl.step(now)
    assert ctl.calm_reached(HEAD.calm + 3)
    assert not ctl.calm_reached(HEAD.calm + 30)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.floats(-0.5, 1.5), min_size=11, max_size=11), min_size=1, max_size=8))
def test_the_batched_face_map_is_the_heads(rows):
    ctl = HeadController(HEAD)
    commands = np.array(rows)
    expected = np.array([HEAD.commands_to_goals(c)[FACIAL] for c in commands])
    assert np.allclose(ctl._facial_goals(commands), expected, atol=1e-9)
