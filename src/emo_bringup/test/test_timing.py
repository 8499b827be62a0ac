"""Arrival timing of the person's and the robot's faces (the demo's summary)."""
import numpy as np
import pytest

from emo_bringup.timing import Curves, arrival_gaps, compare_modes, expression_stretches

FPS = 30.0


def _expression(t, start, rise_s, level=1.0):
    tau = np.clip((t - start) / rise_s, 0.0, 1.0)
    return level * (10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5)    # minimum jerk


def _curves(delay_s, overshoot=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(0, 12, 1 / FPS)
    human = _expression(t, 2.0, 0.5) - _expression(t, 4.0, 0.3) + _expression(t, 7.0, 1.2, 0.6) \
        - _expression(t, 9.5, 0.3, 0.6)
    robot = np.interp(t - delay_s, t, human, left=0.0)
    # A brief overshoot on the way (as a robot told a slightly exaggerated target shows).
    robot += overshoot * np.exp(-0.5 * ((t - (2.45 + delay_s)) / 0.05) ** 2)
    noise = lambda: rng.normal(0, 0.005, len(t))  # noqa: E731
    return Curves(t, human + noise(), t, robot + noise())


@pytest.mark.parametrize('delay_s', [-0.2, 0.0, 0.15, 0.3])
def test_the_gap_is_the_robots_delay(delay_s):
    result = arrival_gaps(_curves(delay_s), windows=[(1.9, 3.3), (6.9, 9.0)])
    gaps = [e['gap_s'] for e in result['expressions']]
    assert gaps == pytest.approx([delay_s, delay_s], abs=1.5 / FPS)
    assert result['median_abs_gap_s'] == pytest.approx(abs(delay_s), abs=1.5 / FPS)


def test_an_overshoot_on_the_way_does_not_set_the_target():
    result = arrival_gaps(_curves(0.15, overshoot=0.6), windows=[(1.9, 3.3)])
    assert result['expressions'][0]['gap_s'] == pytest.approx(0.15, abs=1.5 / FPS)


def test_expressions_are_found_without_known_windows():
    c = _curves(0.1)
    spans = expression_stretches(c.human_t, c.human)
    assert len(spans) == 2
    assert spans[0][0] == pytest.approx(2.2, abs=0.15) and spans[1][0] == pytest.approx(7.5, abs=0.3)
    gaps = [e['gap_s'] for e in arrival_gaps(c)['expressions']]
    assert gaps == pytest.approx([0.1, 0.1], abs=1.5 / FPS)


def test_compare_modes_says_how_much_earlier_coexpression_arrives():
    windows = [(1.9, 3.3), (6.9, 9.0)]
    coexpression = arrival_gaps(_curves(-0.05, seed=1), windows)
    mimicry = arrival_gaps(_curves(0.2, seed=2), windows)
    versus = compare_modes(coexpression, mimicry)
    assert versus['expressions_compared'] == 2 and versus['expressions_earlier'] == 2
    assert versus['median_advance_s'] == pytest.approx(0.25, abs=2 / FPS)
    later = compare_modes(mimicry, coexpression)
    assert later['expressions_earlier'] == 0 and later['median_advance_s'] < 0


def test_a_robot_that_never_moves_has_no_arrival():
    c = _curves(0.0)
    still = Curves(c.human_t, c.human, c.robot_t, np.full_like(c.robot, 0.02))
    result = arrival_gaps(still, windows=[(1.9, 3.3)])
    assert result['expressions'][0]['robot_arrival'] is None and result['median_gap_s'] is None
    assert compare_modes(result, result)['median_advance_s'] is None
