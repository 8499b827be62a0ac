"""Servo health policy (the `health` section of the head YAML): what the driver does about a hot,
faulted or reset servo. No ROS and no bus here: observe() returns actions, the driver carries them out.

    policy = HealthPolicy(head)
    for action, i in policy.observe(i, bus.read_health_of(i), now): ...
        # 'torque_off' | 'reboot' | 'restart' (this servo) | 'brownout' (the whole head, calm first)
    policy.speed_scale                   # per servo, for the controller's speed limit (derating)
    policy.status(i)                     # (level 0 OK / 1 WARN / 2 ERROR, message) for /diagnostics

- Temperature: above `derate_c` the servo's speed limit falls linearly, to `derate_min` of
  it at `off_c`; at `off_c` its torque goes off (the others carry on), and it is
  restarted once it has cooled to `derate_c`.
- Hardware error bits: REBOOT, at most `reboot_retries` times, `reboot_backoff_s` apart
  (doubling); a servo still in error after that stays off and is reported failed.
- Torque found off on a servo that should be on (it browned out and reset): the whole head
  restarts through the calm-first path of activation (profiles written again, every goal =
  its present position, torque on, the face eases to calm, then follows the commands).
After a fault clears, its servo restarts alone: profile written, goal = present position,
torque on, back onto the face within its limits. A status returns to OK when its fault clears.
"""

import numpy as np

from emo_description.head import HealthLimits   # the health section of the head YAML, parsed with it
from emo_servo_driver.control_table import decode_hardware_error

OK, WARN, ERROR = 0, 1, 2


class HealthPolicy:
    def __init__(self, head, limits: HealthLimits = None):
        self.limits = limits or getattr(head, 'health', None) or HealthLimits()
        self.names = list(head.names)
        n = len(self.names)
        self.speed_scale = np.ones(n)
        self.hot = np.zeros(n, dtype=bool)          # torque off until it cools
        self.faulted = np.zeros(n, dtype=bool)      # hardware error seen, rebooting
        self.failed = np.zeros(n, dtype=bool)       # still in error after every reboot: left off
        self.reboots = np.zeros(n, dtype=int)
        self.next_reboot = np.zeros(n)
        self.restarts = np.zeros(n, dtype=int)
        self.low_voltage = np.zeros(n, dtype=bool)
        self.last = [None] * n

    def off(self) -> np.ndarray:
        """Servos the policy keeps torque off on."""
        return self.hot | self.faulted | self.failed

    def observe(self, i: int, health, now: float) -> list:
        """Actions [(name, servo index)] for what servo i just reported."""
        if not health.answered:
            return []
        lim, actions = self.limits, []
        self.last[i] = health
        t = health.temperature_c
        if np.isfinite(t):
            warmth = (t - lim.derate_c) / (lim.off_c - lim.derate_c)      # 0 at derate_c, 1 at off_c
            self.speed_scale[i] = float(np.clip(1 - (1 - lim.derate_min) * warmth, lim.derate_min, 1.0))
        self.low_voltage[i] = np.isfinite(health.voltage_v) and health.voltage_v < lim.min_voltage_v
        if health.hardware_error:
            if self.failed[i]:
                return []
            if not self.faulted[i]:
                self.faulted[i] = True
                actions.append(('torque_off', i))
            if now >= self.next_reboot[i]:
                if self.reboots[i] >= lim.reboot_retries:
                    self.failed[i] = True
                    return actions
                self.reboots[i] += 1
                self.next_reboot[i] = now + lim.reboot_backoff_s * 2 ** (self.reboots[i] - 1)
                actions.append(('reboot', i))
            return actions
        was_off = self.off()[i]
        if self.failed[i] or self.faulted[i]:        # the error cleared (a reboot worked)
            self.failed[i] = self.faulted[i] = False
            self.reboots[i] = 0
        if np.isfinite(t) and t >= lim.off_c:
            if not self.hot[i]:
                self.hot[i] = True
                actions.append(('torque_off', i))
            return actions
        if self.hot[i] and np.isfinite(t) and t <= lim.derate_c:
            self.hot[i] = False
        if not self.off()[i] and was_off:               # back from a fault
            self.restarts[i] += 1
            actions.append(('restart', i))
        elif not self.off()[i] and health.torque_on is False:
            # Torque found off that should be on: the servo reset (a brown-out), and so, likely, did others.
            self.restarts[i] += 1
            actions.append(('brownout', i))
        return actions

    def status(self, i: int):
        h, lim = self.last[i], self.limits
        errors = ', '.join(decode_hardware_error(h.hardware_error)) if h is not None else ''
        if self.failed[i]:
            return ERROR, f'failed: hardware error after {self.reboots[i]} reboots ({errors}); torque off'
        if self.faulted[i]:
            return ERROR, f'hardware error ({errors}): rebooting ({self.reboots[i]} of {lim.reboot_retries})'
        if self.hot[i]:
            return ERROR, f'too hot ({h.temperature_c:.0f} C >= {lim.off_c:.0f}): torque off until {lim.derate_c:.0f} C'
        if self.speed_scale[i] < 1:
            return WARN, f'warm ({h.temperature_c:.0f} C): speed derated to {self.speed_scale[i]:.0%}'
        if self.low_voltage[i]:
            return WARN, f'low input voltage ({h.voltage_v:.1f} V < {lim.min_voltage_v:.1f})'
        return OK, 'ok'
