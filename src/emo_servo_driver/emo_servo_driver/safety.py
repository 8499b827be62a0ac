"""The safety rules every goal obeys: valid commands, the head's constraints, motion limits, hold time.

    commands = check_commands(msg.commands)          # CommandError on NaN, inf, wrong length
    constraints = Constraints(head)
    commands = constraints.project(commands)         # into [0, 1] and every head constraint
    up, down = step_caps(goals, velocity, head, dt)  # how far each servo may move this write
    hold = HoldTimers(head); tired = hold.update(goals, dt)

HeadController (controller.py) applies them; they are here, apart, so each rule
can be tested and read on its own.

Motion limits per servo and per write (ticks): no faster than its max_velocity;
its goal speed in a direction rises by at most max_acceleration x dt per write
(a reversal restarts from rest); and never faster toward an end of its range
than it can brake to a stop before that end at max_acceleration, so the
firmware's profile (which brakes at that rate) cannot carry it past its range.
Braking in the goal stream is not limited: the servo's own profile decelerates.
"""
import numpy as np

from emo_description.head import COMMAND_NAMES, Head

# Longest time step one write may take credit for: a long pause does not license a jump.
MAX_DT = 0.2


class CommandError(ValueError):
    """A command message that must not reach the servos (wrong length, NaN, inf)."""


def check_commands(values) -> np.ndarray:
    c = np.asarray(values, dtype=np.float64).ravel()
    if c.size != len(COMMAND_NAMES):
        raise CommandError(f'expected {len(COMMAND_NAMES)} commands, got {c.size}')
    bad = [COMMAND_NAMES[i] for i in np.flatnonzero(~np.isfinite(c))]
    if bad:
        raise CommandError(f'non-finite commands: {", ".join(bad)}')
    return c


class Constraints:
    """The head's linear constraints on the 11 commands (a convex set with the [0, 1] box)."""

    def __init__(self, head: Head):
        self.head = head
        self.a = np.array([k.coefficients for k in head.constraints]).reshape(-1, len(COMMAND_NAMES))
        self.b = np.array([k.max for k in head.constraints])

    def holds(self, commands: np.ndarray, tol: float = 1e-6) -> bool:
        c = np.asarray(commands, dtype=np.float64)
        return bool(np.all(c >= -tol) and np.all(c <= 1 + tol) and np.all(self.a @ c <= self.b + tol))

    def project(self, commands: np.ndarray, iterations: int = 100) -> np.ndarray:
        """The nearest commands in [0, 1]^11 that satisfy every constraint (alternating projections).

        Falls back to the calm commands (which satisfy every constraint, checked at load)
        if the projection does not settle.
        """
        c = np.clip(np.asarray(commands, dtype=np.float64), 0.0, 1.0)
        if not len(self.b):
            return c
        for _ in range(iterations):
            excess = self.a @ c - self.b
            if (excess <= 1e-9).all():
                return c
            for a, e in zip(self.a, excess):
                if e > 0:
                    c = c - (e + 1e-9) * a / (a @ a)
            c = np.clip(c, 0.0, 1.0)
        return c if self.holds(c) else self.head.calm_commands


def step_caps(goals: np.ndarray, velocity: np.ndarray, head: Head, dt: float, speed_scale=1.0):
    """(up, down): the most each servo's goal may rise / fall in this write (ticks, >= 0).
    speed_scale (<= 1, per servo): a derated servo's share of its max_velocity."""
    dt = float(np.clip(dt, 0.0, MAX_DT)) if np.isfinite(dt) else 0.0
    a = head.dynamics.max_acceleration
    speed = head.max_velocity * np.clip(speed_scale, 0.0, 1.0) * dt
    caps = []
    for sign, room in ((1.0, head.max - goals), (-1.0, goals - head.min)):
        room = np.maximum(room, 0.0)
        # Speed-up: from the present speed in this direction (0 after a reversal), by a x dt at most.
        going = np.maximum(velocity * sign, 0.0)
        with np.errstate(invalid='ignore'):
            ramp = np.where(np.isfinite(a), (going + a * dt) * dt, np.inf)
            # Braking: the largest step d after which it can still stop within the room left,
            # d / dt <= sqrt(2 a (room - d))  <=>  d <= -a dt^2 + sqrt((a dt^2)^2 + 2 a dt^2 room).
            adt2 = a * dt * dt
            brake = np.where(np.isfinite(a), -adt2 + np.sqrt(adt2 * adt2 + 2 * adt2 * room), room)
        caps.append(np.clip(np.minimum(np.minimum(speed, ramp), np.minimum(brake, room)), 0.0, None))
    return caps[0], caps[1]


class HoldTimers:
    """How long each servo's goal has stayed near an end of its range; a servo past
    `extreme_hold.max_seconds` there is tired and rests away from that end for as long again.
    An end that is also the calm pose (a closed jaw) is where the servo rests, not an extreme."""

    def __init__(self, head: Head):
        self.head = head
        hold, span = head.extreme_hold, head.max - head.min
        self.low_end = head.min + hold['margin'] * span
        self.high_end = head.max - hold['margin'] * span
        self.low_release = head.min + hold['release'] * span
        self.high_release = head.max - hold['release'] * span
        self.calm_low = head.calm <= self.low_end
        self.calm_high = head.calm >= self.high_end
        self.at_end_s = np.zeros(len(head.servos))
        self.cooling_s = np.zeros(len(head.servos))
        self.tired_low = np.zeros(len(head.servos), dtype=bool)

    def at_end(self, goals: np.ndarray) -> np.ndarray:
        return ((goals <= self.low_end) & ~self.calm_low) | ((goals >= self.high_end) & ~self.calm_high)

    def update(self, goals: np.ndarray, dt: float) -> np.ndarray:
        """Advance the timers by dt with these goals; returns which servos are tired."""
        dt = max(float(dt), 0.0) if np.isfinite(dt) else 0.0
        limit = self.head.extreme_hold['max_seconds']
        self.at_end_s = np.where(self.at_end(goals), self.at_end_s + dt, 0.0)
        became = self.at_end_s > limit
        self.tired_low = np.where(became, goals < (self.head.min + self.head.max) / 2, self.tired_low)
        self.cooling_s = np.where(became, limit, np.maximum(self.cooling_s - dt, 0.0))
        return self.cooling_s > 0

    def rested(self, targets: np.ndarray, tired: np.ndarray) -> np.ndarray:
        """Targets with each tired servo kept at least `release` away from the end it tired at."""
        t = np.where(tired & self.tired_low & ~self.calm_low, np.maximum(targets, self.low_release), targets)
        return np.where(tired & ~self.tired_low & ~self.calm_high, np.minimum(t, self.high_release), t)

    def respects(self, targets: np.ndarray, tired: np.ndarray, tol: float = 0.5) -> bool:
        return bool(np.all(np.abs(self.rested(targets, tired) - targets) <= tol))
