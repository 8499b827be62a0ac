"""The servo health policy on its own: derating, torque off when hot, REBOOT with bounded retries,
restart once a fault clears, a brown-out restarts the head; and its YAML section."""
import numpy as np
import pytest
import yaml

from emo_servo_driver.bus import ServoHealth
from emo_description.head import HeadConfigError, default_head_path, load_head, parse_head
from emo_servo_driver.health import ERROR, OK, WARN, HealthPolicy

HEAD = load_head()
JAW = HEAD.index['jaw']


def seen(temperature=40.0, error=0, torque_on=True, voltage=12.0):
    return ServoHealth(temperature_c=temperature, voltage_v=voltage, hardware_error=error, answered=True,
                       torque_on=torque_on)


def test_a_warm_servo_is_derated_linearly():
    policy = HealthPolicy(HEAD)
    lim = policy.limits
    assert policy.observe(JAW, seen(lim.derate_c), 0.0) == [] and policy.speed_scale[JAW] == 1.0
    policy.observe(JAW, seen((lim.derate_c + lim.off_c) / 2), 0.0)
    assert policy.speed_scale[JAW] == pytest.approx((1 + lim.derate_min) / 2)
    assert policy.status(JAW)[0] == WARN and 'derated' in policy.status(JAW)[1]
    policy.observe(JAW, seen(40.0), 1.0)
    assert policy.speed_scale[JAW] == 1.0 and policy.status(JAW) == (OK, 'ok')


def test_a_hot_servo_goes_off_alone_then_restarts_once_cool():
    policy = HealthPolicy(HEAD)
    lim = policy.limits
    assert policy.observe(JAW, seen(lim.off_c + 1, torque_on=False), 0.0) == [('torque_off', JAW)]
    assert policy.off()[JAW] and policy.off().sum() == 1 and policy.status(JAW)[0] == ERROR
    assert policy.observe(JAW, seen(lim.off_c - 1, torque_on=False), 1.0) == []      # not cool enough yet
    assert policy.observe(JAW, seen(lim.derate_c, torque_on=False), 2.0) == [('restart', JAW)]
    assert not policy.off().any() and policy.status(JAW)[0] == OK


def test_hardware_errors_reboot_with_backoff_then_give_up():
    policy = HealthPolicy(HEAD)
    lim = policy.limits
    overload = 1 << 5
    assert policy.observe(JAW, seen(error=overload), 0.0) == [('torque_off', JAW), ('reboot', JAW)]
    assert policy.observe(JAW, seen(error=overload), 0.5) == []                      # backing off
    t, reboots = 0.5, 1
    while t < 60:
        t += 0.5
        reboots += ('reboot', JAW) in policy.observe(JAW, seen(error=overload), t)
    assert reboots == lim.reboot_retries and policy.failed[JAW]
    assert policy.status(JAW)[0] == ERROR and 'failed' in policy.status(JAW)[1]
    # Somebody fixes it (power cycled): the error is gone, the servo comes back.
    assert policy.observe(JAW, seen(torque_on=False), t + 1) == [('restart', JAW)]
    assert policy.status(JAW) == (OK, 'ok') and policy.reboots[JAW] == 0


def test_a_reboot_that_clears_the_error_restarts_the_servo():
    policy = HealthPolicy(HEAD)
    policy.observe(JAW, seen(error=1 << 4), 0.0)
    assert policy.observe(JAW, seen(torque_on=False), 0.5) == [('restart', JAW)]


def test_torque_found_off_is_a_brownout():
    policy = HealthPolicy(HEAD)
    assert policy.observe(JAW, seen(torque_on=False, voltage=7.0), 0.0) == [('brownout', JAW)]
    assert policy.status(JAW)[0] == WARN and 'voltage' in policy.status(JAW)[1]
    assert policy.observe(JAW, ServoHealth(), 0.1) == []                             # no answer: no action


def test_the_health_section_is_checked_at_load():
    with open(default_head_path()) as f:
        doc = yaml.safe_load(f)
    assert load_head().health.off_c == doc['health']['off_c']
    doc['health'] = {'derate_c': 80, 'off_c': 70, 'reboot_tries': 2}
    with pytest.raises(HeadConfigError) as err:
        parse_head(doc)
    assert 'derate_c < off_c' in str(err.value) and 'unknown key(s) reboot_tries' in str(err.value)
    del doc['health']
    assert np.isclose(parse_head(doc).health.off_c, 78.0)                           # defaults
