"""Plant realism: the firmware's velocity profile, the profile registers, speed under load from the datasheet."""
import copy
import math

import numpy as np
import pytest
import yaml

from emo_sim import dxl_sim
from emo_servo_driver.control_table import PROFILE_ACCELERATION_TICKS_S2, PROFILE_VELOCITY_TICKS_S, X_SERIES
from emo_sim.dxl_sim import SimServo, profile_motion
from emo_description.head import HeadConfigError, default_head_path, load_head, parse_head

HEAD = load_head()


def run(p, v, goals, v_max, a_max, dt=0.02):
    """Positions and velocities of a servo chasing goals[k] during cycle k."""
    ps, vs = [p], [v]
    for g in goals:
        p, v = profile_motion(p, v, g, v_max, a_max, dt)
        ps.append(p)
        vs.append(v)
    return np.array(ps), np.array(vs)


def test_profile_units_are_the_e_manuals():
    # X-series e-Manual: Profile Velocity unit 0.229 rev/min, Profile Acceleration unit 214.577 rev/min^2.
    assert PROFILE_VELOCITY_TICKS_S == pytest.approx(15.63, abs=0.01)
    assert PROFILE_ACCELERATION_TICKS_S2 == pytest.approx(244.14, abs=0.01)


def test_a_trapezoid_reaches_the_goal_within_its_limits():
    v_max, a_max, dt, goal = 1500.0, 12000.0, 0.02, 1000.0
    ps, vs = run(0.0, 0.0, [goal] * 60, v_max, a_max, dt)
    assert ps[-1] == goal and vs[-1] == 0.0                        # stops on the goal
    assert np.all(np.abs(vs) <= v_max + 1e-9)
    assert np.all(np.abs(np.diff(vs)) <= a_max * dt + 1e-6)         # never accelerates or brakes harder
    # Braking toward the goal, integrated in 2 ms sub-steps, overshoots by a few ticks (2.7 here) before
    # stopping on it; the firmware's planned trapezoid does not. Less than 0.5 % of this move.
    assert ps.max() - goal < 5.0
    assert np.all(np.diff(ps)[:30] > 0)
    assert vs.max() == pytest.approx(v_max)                          # long enough a move to cruise
    duration = goal / v_max + v_max / a_max                           # the trapezoid's: 0.79 s
    assert np.flatnonzero(np.abs(ps - goal) < 5.0)[0] * dt == pytest.approx(duration, abs=2 * dt)
    assert np.flatnonzero(ps == goal)[0] * dt <= duration + 0.1        # and then stops on it


def test_a_moved_goal_is_re_planned_from_the_present_velocity():
    v_max, a_max, dt = 1500.0, 12000.0, 0.02
    ps, vs = run(0.0, 0.0, [1000.0] * 10 + [-500.0] * 60, v_max, a_max, dt)
    assert vs[10] > 1000                                             # moving fast toward the first goal
    assert np.all(np.abs(np.diff(vs)) <= a_max * dt + 1e-6)         # turns back without a velocity jump
    assert ps[11] > ps[10]                                           # still carried on by its speed
    assert ps[-1] == -500.0 and vs[-1] == 0.0


def test_the_ideal_plant_moves_at_constant_speed():
    ps, vs = run(0.0, 0.0, [100.0] * 10, 1000.0, math.inf, 0.02)
    assert np.allclose(np.diff(ps)[:5], 20.0) and vs[1] == pytest.approx(1000.0)
    assert ps[5] == pytest.approx(100.0) and ps[-1] == pytest.approx(100.0)


class FakeClock:
    t = 100.0

    @classmethod
    def monotonic(cls):
        return cls.t


@pytest.fixture
def servo(monkeypatch):
    """A simulated XM430 under load (2000 ticks/s) whose clock the test moves."""
    monkeypatch.setattr(dxl_sim, 'time', FakeClock)
    s = SimServo(5, 'XM430-W350', 2048, speed_ticks_s=2000.0, profile=True)
    s._put('torque_enable', 1)
    return s


def move(s, goal, seconds):
    s.write(X_SERIES['goal_position'][0], int(goal).to_bytes(4, 'little'))
    FakeClock.t += seconds
    s.advance()
    return s.position - 2048


def test_a_sim_servo_honours_the_profile_registers(servo):
    servo._put('profile_velocity', 64)                                # 64 x 15.63 = 1000 ticks/s
    assert servo.limits() == (pytest.approx(64 * PROFILE_VELOCITY_TICKS_S), math.inf)
    assert move(servo, 2548, 0.1) == pytest.approx(0.1 * 64 * PROFILE_VELOCITY_TICKS_S, rel=1e-6)


def test_an_unlimited_profile_runs_at_the_speed_under_load(servo):
    assert servo.limits() == (2000.0, math.inf)                       # factory 0 = unlimited: load speed
    servo._put('profile_velocity', 1000)                              # asks for more than the servo can
    assert servo.limits()[0] == 2000.0
    assert move(servo, 2548, 0.1) == pytest.approx(200.0)


def test_a_sim_servo_accelerates_at_the_profile_acceleration(servo):
    servo._put('profile_acceleration', 10)                            # 2441 ticks/s^2
    a = 10 * PROFILE_ACCELERATION_TICKS_S2
    assert servo.limits() == (2000.0, pytest.approx(a))
    assert move(servo, 2548, 0.1) == pytest.approx(0.5 * a * 0.1 ** 2, rel=0.05)   # from rest: a t^2 / 2


def test_a_servo_without_profile_ignores_the_registers(monkeypatch):
    monkeypatch.setattr(dxl_sim, 'time', FakeClock)
    s = SimServo(5, 'XM430-W350', 2048, speed_ticks_s=1500.0, profile=False)
    s._put('profile_velocity', 10)
    s._put('profile_acceleration', 10)
    assert s.limits() == (1500.0, math.inf)


def test_write_profiles_sets_the_registers_in_their_units():
    pytest.importorskip('dynamixel_sdk')
    from emo_servo_driver.bus import DynamixelBus
    sim = dxl_sim.SimulatedServoChain(HEAD.servos, dynamics=HEAD.dynamics).start()
    bus = DynamixelBus(HEAD.servos, sim.port, latency_timer_ms=8)
    try:
        assert bus.connect() == []
        velocity = HEAD.max_velocity.copy()
        acceleration = HEAD.dynamics.max_acceleration.copy()
        velocity[0], acceleration[1] = math.inf, 1.0                   # unlimited stays 0; tiny is 1, not 0
        assert bus.write_profiles(velocity, acceleration) == []
        got_v = np.array([sim.servos[i]._get('profile_velocity') for i in sim.order])
        got_a = np.array([sim.servos[i]._get('profile_acceleration') for i in sim.order])
    finally:
        bus.disconnect()
        sim.stop()
    rpm = 4096 / 60.0
    expect_v = [0] + [int(v // (0.229 * rpm)) for v in velocity[1:]]
    expect_a = [int(acceleration[0] // (214.577 * rpm / 60.0)), 1] + [int(a // (214.577 * rpm / 60.0))
                                                                     for a in acceleration[2:]]
    assert got_v.tolist() == expect_v and got_a.tolist() == expect_a
    brow = HEAD.index['brow_inner_r']                                 # 1200 ticks/s, 12000 ticks/s^2
    assert (got_v[brow], got_a[brow]) == (76, 49)


@pytest.fixture(scope='module')
def doc():
    with open(default_head_path()) as f:
        return yaml.safe_load(f)


def test_speed_under_load_is_the_datasheet_line(doc):
    d = doc['dynamics']
    for i, s in enumerate(HEAD.servos):
        m = d['models'][s.model]
        expect = m['no_load_rpm'] * 4096 / 60 * (1 - d['load_torque_nm'][s.group] / m['stall_torque_nm'])
        assert HEAD.dynamics.load_speed[i] == pytest.approx(expect)
        assert HEAD.dynamics.max_acceleration[i] == d['max_acceleration'][s.group]
    assert HEAD.dynamics.load_speed[HEAD.index['jaw']] == pytest.approx(2068.0, abs=0.1)   # XM430, 1.4 of 4.1 N m
    assert (HEAD.dynamics.skin_order, HEAD.dynamics.skin_time_constant_s) == (2, 0.04)


def test_dynamics_mistakes_are_all_listed(doc):
    bad = copy.deepcopy(doc)
    bad['dynamics']['load_torque_nm']['upper_face'] = 5.0              # above the XM430's 4.1 N m stall
    del bad['dynamics']['max_acceleration']['neck']
    with pytest.raises(HeadConfigError) as err:
        parse_head(bad)
    text = str(err.value)
    assert 'not below the stall torque 4.1' in text and 'lid_upper_r' in text
    assert 'dynamics.max_acceleration: no value for group(s) neck' in text


def test_a_head_without_dynamics_is_unlimited(doc):
    plain = copy.deepcopy(doc)
    del plain['dynamics']
    head = parse_head(plain)
    assert np.all(np.isinf(head.dynamics.max_acceleration)) and np.all(np.isinf(head.dynamics.load_speed))
    assert head.dynamics.skin_order == 0
