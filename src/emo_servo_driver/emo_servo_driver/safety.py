"""The safety filter: every path to a servo goes through here, every cycle.

    safety = SafetyFilter(head, start=present_positions)
    commands = safety.check_commands(msg.commands)     # CommandError on NaN, inf, wrong length
    commands = safety.project(commands)                 # into [0, 1] and every head constraint
    goals = safety.step(head.commands_to_goals(commands, gaze_goals), dt)

`step` is the last word before the bus: it clamps to each servo's range,
limits each servo's speed to its max_velocity (a goal never jumps), eases a
servo back from an end of its range where it has stayed too long, and refuses
non-finite goals by holding the last safe ones.
"""
import numpy as np

from emo_servo_driver.head import COMMAND_NAMES, Head


class CommandError(ValueError):
    """A command message that must not reach the servos (wrong length, NaN, inf)."""


class SafetyFilter:
    def __init__(self, head: Head, start=None):
        self.head = head
        self.goals = np.clip(np.asarray(head.calm if start is None else start, dtype=np.float64), head.min, head.max)
        self._at_end_s = np.zeros(len(head.servos))
        self._cooling_s = np.zeros(len(head.servos))
        self._a = np.array([k.coefficients for k in head.constraints]).reshape(-1, len(COMMAND_NAMES))
        self._b = np.array([k.max for k in head.constraints])

    @staticmethod
    def check_commands(values) -> np.ndarray:
        c = np.asarray(values, dtype=np.float64).ravel()
        if c.size != len(COMMAND_NAMES):
            raise CommandError(f'expected {len(COMMAND_NAMES)} commands, got {c.size}')
        bad = [COMMAND_NAMES[i] for i in np.flatnonzero(~np.isfinite(c))]
        if bad:
            raise CommandError(f'non-finite commands: {", ".join(bad)}')
        return c

    def project(self, commands: np.ndarray, iterations: int = 100) -> np.ndarray:
        """The nearest commands in [0, 1]^11 that satisfy every constraint (alternating projections).

        Falls back to the calm commands (which satisfy every constraint, checked at load)
        if the projection does not settle.
        """
        c = np.clip(np.asarray(commands, dtype=np.float64), 0.0, 1.0)
        if not len(self._b):
            return c
        for _ in range(iterations):
            excess = self._a @ c - self._b
            if (excess <= 1e-9).all():
                return c
            for a, e in zip(self._a, excess):
                if e > 0:
                    c = c - (e + 1e-9) * a / (a @ a)
            c = np.clip(c, 0.0, 1.0)
        return c if (self._a @ c - self._b <= 1e-6).all() else self.head.calm_commands

    def step(self, targets: np.ndarray, dt: float) -> np.ndarray:
        """The next goals: clamped, extreme-hold limited, speed limited. Keeps them for the next cycle."""
        head = self.head
        t = np.asarray(targets, dtype=np.float64)
        t = np.where(np.isfinite(t), t, self.goals)  # a non-finite target holds the last safe goal
        t = np.clip(t, head.min, head.max)
        t = self._limit_time_at_ends(t, dt)
        dt = float(np.clip(dt, 0.0, 0.2)) if np.isfinite(dt) else 0.0  # a long pause does not license a jump
        step = np.clip(t - self.goals, -head.max_velocity * dt, head.max_velocity * dt)
        self.goals = np.clip(self.goals + step, head.min, head.max)
        return self.goals.copy()

    def _limit_time_at_ends(self, t: np.ndarray, dt: float) -> np.ndarray:
        head, hold = self.head, self.head.extreme_hold
        span = head.max - head.min
        # An end of travel that is also the calm pose (a closed jaw) is where the servo rests, not an extreme.
        calm_low = head.calm <= head.min + hold['margin'] * span
        calm_high = head.calm >= head.max - hold['margin'] * span
        near_low = (self.goals <= head.min + hold['margin'] * span) & ~calm_low
        near_high = (self.goals >= head.max - hold['margin'] * span) & ~calm_high
        at_end = near_low | near_high
        self._at_end_s = np.where(at_end, self._at_end_s + max(dt, 0.0), 0.0)
        # A servo that stayed at an end too long rests away from it for as long again.
        self._cooling_s = np.where(self._at_end_s > hold['max_seconds'], hold['max_seconds'],
                                   np.maximum(self._cooling_s - max(dt, 0.0), 0.0))
        tired = self._cooling_s > 0
        side_low = self.goals < (head.min + head.max) / 2
        near_low, near_high = tired & side_low & ~calm_low, tired & ~side_low & ~calm_high
        low_release = head.min + hold['release'] * span
        high_release = head.max - hold['release'] * span
        t = np.where(near_low, np.maximum(t, low_release), t)
        t = np.where(near_high, np.minimum(t, high_release), t)
        return t
