"""HeadController: the control policy of the head, with no ROS and no bus in it.

    ctl = HeadController(head, watchdog_s=0.5)
    goals = ctl.start(present)          # before torque on: goal = where each servo is (no jump)
    ctl.command(values, now)            # 11 commands; CommandError if invalid; projected into the constraints
    ctl.look_at((0.6, 0.4), now)        # the face in the eye camera (None: no face)
    goals = ctl.step(now)               # the next goal set to write, every write
    ctl.resync(present)                 # after a bus reconnect: state kept, moved servos restart where they are
    ctl.restart(servos, present)        # servos whose torque comes back on start where they are
    ctl.ease_to_calm(); ... ctl.step(now) ...; ctl.calm_reached(present)

Each step: the last valid commands (calm once `watchdog_s` passes without any),
rested where a servo has held an end of its range too long (HoldTimers), are
the target face. The facial servos move toward it along the straight line in
command space, as far as every facial servo's motion limits allow (safety.step_caps):
the constraint set is convex, so every face on the way satisfies the head's
constraints, and every goal set written is the face of commands that do.
Eyes and neck follow the gaze, each within its own limits. The state (goals,
their velocities, the face the facial servos show, the hold timers) belongs to
the controller, not to the bus: a reconnect or an e-stop does not reset it.
"""
import numpy as np

from emo_servo_driver.gaze import Gaze
from emo_description.head import Head
from emo_servo_driver.safety import MAX_DT, Constraints, HoldTimers, check_commands, step_caps

BISECTIONS = 20      # the share of the way to the rested target face, to 1e-6
# Shares of the way to the target face tried first (then refined between neighbours): from a share
# that moves a servo at rest by a fraction of a tick to the whole way.
COARSE = np.unique(np.concatenate([[0.0], np.linspace(0.0, 1.0, 33), 2.0 ** -np.arange(1, 21)]))


def command_groups(head: Head) -> list:
    """[(commands mask (11,), facial servos mask (n_facial,))]: the commands that share servos, joined
    (the lips' four commands drive the same six servos), each with the servos it drives."""
    w = head.command_weights[head.facial] != 0                  # (n_facial, 11)
    k = w.shape[1]
    group = list(range(k))

    def root(i):
        while group[i] != i:
            i = group[i]
        return i
    for servo in w:
        shared = np.flatnonzero(servo)
        for j in shared[1:]:
            group[root(j)] = root(shared[0])
    out = []
    for r in sorted({root(i) for i in range(k)}):
        commands = np.array([root(i) == r for i in range(k)])
        out.append((commands, w[:, commands].any(axis=1)))
    return out


class HeadController:
    def __init__(self, head: Head, watchdog_s: float = 0.5, gaze: bool = True):
        self.head = head
        self.watchdog_s = float(watchdog_s)
        self.constraints = Constraints(head)
        self.gaze = Gaze(head) if gaze else None
        self.hold = HoldTimers(head)
        self.facial = head.facial
        n = len(head.servos)
        self.goals = head.calm.copy()
        self.velocity = np.zeros(n)
        self.face = head.calm_commands        # the commands whose face the facial servos show
        self.recovering = np.zeros(n, dtype=bool)   # facial servos on their way back onto that face
        self.target = head.calm_commands
        self.command_time = -np.inf
        self.face_center = None
        self.face_time = -np.inf
        self.calming = False
        self.started = False
        self.speed_scale = np.ones(n)          # per servo, <= 1: derated (a warm servo)
        self.groups = command_groups(head)
        self._group_commands = np.array([c for c, _ in self.groups], dtype=np.float64)   # (groups, 11)
        self._group_servos = np.array([v for _, v in self.groups], dtype=np.float64).T   # (n_facial, groups)
        c0, f = head.command_calm, head.facial
        self._map = (c0, np.where(c0 < 1, 1 / np.where(c0 < 1, 1 - c0, 1), 0.0),
                     np.where(c0 > 0, 1 / np.where(c0 > 0, c0, 1), 0.0),
                     (head.command_weights * head.direction[:, None])[f].T,
                     head.calm[f], (head.max - head.calm)[f], (head.calm - head.min)[f])
        self._last_step = None

    # --- inputs ------------------------------------------------------------------------
    def command(self, values, now: float) -> np.ndarray:
        """Take 11 commands (CommandError if malformed); returns them projected into the constraints."""
        self.target = self.constraints.project(check_commands(values))
        self.command_time = now
        return self.target.copy()

    def look_at(self, center, now: float) -> None:
        self.face_center, self.face_time = center, now

    def fresh(self, now: float) -> bool:
        return now - self.command_time <= self.watchdog_s

    # --- starting, faults --------------------------------------------------------------
    def start(self, present: np.ndarray) -> np.ndarray:
        """Goals for torque on: each servo's present position (its last goal, or calm, where unknown).
        The facial servos then make their way to the calm face, each within its limits."""
        present = np.asarray(present, dtype=np.float64)
        known = np.isfinite(present)
        fallback = self.goals if self.started else self.head.calm
        self.goals = np.clip(np.where(known, present, fallback), self.head.min, self.head.max)
        self.velocity = np.zeros(len(self.goals))
        self.face = self.head.calm_commands
        self._mark_recovering()
        self.calming, self.started, self._last_step = False, True, None
        return self.goals.copy()

    def resync(self, present: np.ndarray) -> None:
        """After a bus reconnect. Goals, velocities and hold timers stay; a servo that answered from
        farther than a torqued servo lags its goal (it went limp) restarts from where it is; one that
        did not answer holds its last goal."""
        present = np.asarray(present, dtype=np.float64)
        moved = np.isfinite(present) & (np.abs(present - self.goals) > self.lag_tolerance())
        self.goals = np.where(moved, np.clip(present, self.head.min, self.head.max), self.goals)
        self.velocity = np.where(moved, 0.0, self.velocity)
        self._mark_recovering()

    def restart(self, servos: np.ndarray, present: np.ndarray) -> None:
        """Servos whose torque comes back on (after a reboot, overheating or a reset): each starts from
        its present position (its last goal where unknown) and makes its way back onto the face."""
        servos = np.asarray(servos, dtype=bool)
        present = np.asarray(present, dtype=np.float64)
        here = servos & np.isfinite(present)
        self.goals = np.where(here, np.clip(present, self.head.min, self.head.max), self.goals)
        self.velocity = np.where(servos, 0.0, self.velocity)
        self._mark_recovering()

    def lag_tolerance(self) -> np.ndarray:
        """How far a torqued servo can trail its goal: its braking distance plus 50 ms at full speed."""
        v, a = self.head.max_velocity, self.head.dynamics.max_acceleration
        with np.errstate(invalid='ignore', divide='ignore'):
            brake = np.where(np.isfinite(a), v * v / (2 * a), 0.0)
        return brake + 0.05 * v + 10.0

    def ease_to_calm(self) -> None:
        """From now on the target is the calm face, whatever commands arrive (until start())."""
        self.calming = True

    def calm_reached(self, present: np.ndarray = None, tol_ticks: float = 15.0) -> bool:
        if not np.allclose(self.goals, self.head.calm, atol=1.0):
            return False
        if present is None:
            return True
        present = np.asarray(present, dtype=np.float64)
        return bool(np.nanmax(np.abs(present - self.head.calm), initial=0.0) < tol_ticks)

    # --- the step ----------------------------------------------------------------------
    def step(self, now: float) -> np.ndarray:
        """The next goal set (ticks), and the controller moves on to it."""
        head = self.head
        # The first step after start() writes where the servos are; motion is timed from it.
        dt = 0.0 if self._last_step is None else now - self._last_step
        dt = float(np.clip(dt, 0.0, MAX_DT)) if np.isfinite(dt) else 0.0
        self._last_step = now
        tired = self.hold.update(self.goals, dt)
        calm = self.calming or not self.fresh(now)
        target_face = head.calm_commands if calm else self.target
        base = head.calm
        if self.gaze is not None:
            looking = not self.calming and now - self.face_time < 0.5
            base = self.gaze.update(self.face_center if looking else None, dt, head.calm)
        target_face = self._rested_face(target_face, tired)
        targets = self.hold.rested(np.clip(base, head.min, head.max), tired)

        up, down = step_caps(self.goals, self.velocity, head, dt, self.speed_scale)
        new = self.goals.copy()
        other = ~self.facial
        new[other] = self.goals[other] + np.clip(targets[other] - self.goals[other], -down[other], up[other])
        if self.recovering.any():
            # Back onto the face, each recovering servo on its own; the rest hold it.
            goal = head.commands_to_goals(self.face)
            r = self.recovering
            new[r] = self.goals[r] + np.clip(goal[r] - self.goals[r], -down[r], up[r])
            self.recovering = r & (np.abs(new - goal) > 1e-6)
        else:
            self.face, new[self.facial] = self._advance_face(target_face, up, down)
        new = np.clip(new, head.min, head.max)
        if dt > 0:
            self.velocity = (new - self.goals) / dt
        self.goals = new
        return new.copy()

    def _advance_face(self, target_face: np.ndarray, up: np.ndarray, down: np.ndarray):
        """The next face: each group of commands that share servos (the brows, the lids, the lips, the
        corners, the jaw) as far along its own straight line to the target as its servos allow, so a fast
        group does not wait for a slow one; where that combination would break a constraint, pulled back
        toward the step along the one straight line for all (always valid: the constraint set is convex)."""
        start = self.goals[self.facial]
        face, d = self.face, target_face - self.face
        up, down = up[self.facial] + 1e-9, down[self.facial] + 1e-9

        def fitting(candidates):
            """Which facial servos (columns) stay within their caps for each candidate face (rows)."""
            move = self._facial_goals(candidates) - start
            return (move <= up) & (-move <= down)

        shares = self._furthest_shares(face, d, fitting)
        apart = face + shares @ self._group_commands * d
        if self.constraints.holds(apart):                       # the usual case: no constraint in the way
            return apart, self._facial_goals(apart[None])[0]
        together = face + self._furthest(face, d, fitting) * d  # every servo's pace: valid, maybe slow
        # Blend from the valid step toward the group-wise one as far as the constraints and caps allow.
        blend = apart - together
        grid = np.linspace(0.0, 1.0, 33)
        candidates = together + grid[:, None] * blend
        ok = fitting(candidates).all(axis=1)
        ok &= np.all(candidates @ self.constraints.a.T <= self.constraints.b + 1e-9, axis=1)
        chosen = candidates[np.flatnonzero(ok)[-1]]             # grid[0] (the valid step) always passes
        return chosen, self._facial_goals(chosen[None])[0]

    def _furthest_shares(self, face, d, fitting) -> np.ndarray:
        """Per group, the largest share a in [0, 1] of its line (face + a * d on its commands) whose
        servos stay within their caps: the best of a coarse grid (linear, and halvings down to 2^-20
        for a servo starting from rest), refined within its bracket. The groups drive disjoint servos,
        so one candidate face carries every group's share at once and a grid costs one evaluation."""
        g = self._group_commands                                # (groups, 11) 0/1
        shares = np.ones(len(g))
        whole = self._group_fits(fitting((face + d)[None]))[0]
        if whole.all():
            return shares                   # the whole way (small changes, 30 times a second: the usual case)
        ok = self._group_fits(fitting(face + COARSE[:, None] * d))           # (len(COARSE), groups)
        idx = np.where(ok.any(axis=0), len(COARSE) - 1 - np.argmax(ok[::-1], axis=0), 0)
        lo = np.where(ok.any(axis=0), COARSE[idx], 0.0)
        hi = COARSE[np.minimum(idx + 1, len(COARSE) - 1)]
        grid = lo + np.linspace(0.0, 1.0, 33)[:, None] * (hi - lo)          # (33, groups)
        ok = self._group_fits(fitting(face + (grid @ g) * d))
        last = 32 - np.argmax(ok[::-1], axis=0)
        refined = np.where(ok.any(axis=0), grid[np.minimum(last, 32), np.arange(len(g))], lo)
        return np.where(whole, 1.0, np.where(lo >= 1.0, 1.0, refined))

    def _furthest(self, face, d, fitting) -> float:
        """The largest share a in [0, 1] of face + a * d that keeps every facial servo within its caps."""
        fits = lambda shares: fitting(face + shares[:, None] * d).all(axis=1)
        ok = fits(COARSE)
        lo = float(COARSE[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0
        if lo == 1.0:
            return lo
        grid = np.linspace(lo, COARSE[COARSE > lo][0], 33)
        ok = fits(grid)
        return float(grid[np.flatnonzero(ok)[-1]]) if ok.any() else lo

    def _group_fits(self, servo_ok: np.ndarray) -> np.ndarray:
        """(rows, groups): every servo of the group fits."""
        return ~((~servo_ok).astype(np.float64) @ self._group_servos > 0)

    def _facial_goals(self, commands: np.ndarray) -> np.ndarray:
        """head.commands_to_goals for many command vectors (rows) at once, facial servos only
        (the same arithmetic with its constants folded: it runs a dozen times a write)."""
        c0, inv_up, inv_down, weights, calm, up, down = self._map
        d = commands - c0
        offsets = np.clip(d * np.where(d >= 0, inv_up, inv_down), -1.0, 1.0)
        move = np.clip(offsets @ weights, -1.0, 1.0)
        return calm + move * np.where(move >= 0, up, down)

    def _rested_face(self, target_face: np.ndarray, tired: np.ndarray) -> np.ndarray:
        """The target face pulled toward calm until no tired facial servo is asked to stay at its end.
        Every face between calm and a valid face is valid (the constraint set is convex)."""
        tired = tired & self.facial
        if not tired.any():
            return target_face
        calm, d = self.head.calm_commands, target_face - self.head.calm_commands

        def rested(s):
            return self.hold.respects(self.head.commands_to_goals(calm + s * d), tired)

        if rested(1.0):
            return target_face
        lo, hi = 0.0, 1.0
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if rested(mid) else (lo, mid)
        return calm + lo * d

    def _mark_recovering(self) -> None:
        off_face = np.abs(self.goals - self.head.commands_to_goals(self.face)) > 1e-6
        self.recovering = self.facial & off_face
