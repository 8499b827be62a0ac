"""The head description: servos, their limits and calm pose, the 11-command map, gaze, constraints.

    head = load_head('my_head.yaml')                   # or load_head() for the built-in Emo head
    goals = head.commands_to_goals(head.calm_commands) # == head.calm, in servo ticks
    head.ticks_to_radians(goals)                       # JointState units (the URDF's joint angles)

Configuration is data: a new head is a new YAML file (see data/emo_head.yaml
and the README). Everything is checked once, at load, and every problem is
reported at once (duplicate ids, min > max, calm outside its range, unknown
names, a calm face that breaks a constraint, ...).
"""
from dataclasses import dataclass
from importlib import resources
from typing import Dict, List

import numpy as np
import yaml

from emo_description.kinematics import TICK_RAD, TICKS_PER_REV, Kinematics, parse_kinematics

# The 11 commands of emo_msgs/MotorCommands, in message order (2 eyebrow, 2 eyelid, 6 mouth, 1 jaw).
COMMAND_NAMES = ('brow_inner', 'brow_outer', 'eyelid_upper', 'eyelid_lower', 'lip_upper', 'lip_lower',
                 'lip_side', 'lip_pucker', 'corner_raise', 'corner_stretch', 'jaw')
GROUPS = ('neck', 'gaze', 'upper_face', 'mouth')
FACIAL_GROUPS = ('upper_face', 'mouth')


class HeadConfigError(ValueError):
    """The head description is invalid; the message lists every problem found."""


@dataclass(frozen=True)
class Servo:
    name: str
    id: int
    model: str
    group: str
    min: int
    max: int
    calm: int
    direction: int
    max_velocity: float


@dataclass(frozen=True)
class Constraint:
    name: str
    coefficients: np.ndarray   # (11,)
    max: float


@dataclass(frozen=True)
class Dynamics:
    """How the head moves (the `dynamics` section of the head YAML), per servo in head order.

    max_acceleration: ticks/s^2, written to each servo as its Profile Acceleration (the firmware's
    trapezoid; Profile Velocity is the servo's max_velocity). load_speed: ticks/s, the fastest the
    servo turns under the face's load (datasheet torque-speed line). skin_order / skin_time_constant_s:
    the silicone skin follows the linkages through this many first-order stages of this time constant.
    """
    max_acceleration: np.ndarray
    load_speed: np.ndarray
    skin_order: int = 0
    skin_time_constant_s: float = 0.0

    @staticmethod
    def unlimited(n: int) -> 'Dynamics':
        return Dynamics(np.full(n, np.inf), np.full(n, np.inf))

    def summary(self, names) -> dict:
        """JSON-friendly figures (for reports)."""
        return {'max_acceleration_ticks_s2': dict(zip(names, self.max_acceleration.tolist())),
                'load_speed_ticks_s': dict(zip(names, np.round(self.load_speed, 1).tolist())),
                'skin_order': self.skin_order, 'skin_time_constant_s': self.skin_time_constant_s}


RPM_TO_TICKS_S = TICKS_PER_REV / 60.0


@dataclass(frozen=True)
class HealthLimits:
    # XM430/XM540 Temperature Limit is 80 C by default (e-Manual, address 31); act before the firmware does.
    derate_c: float = 70.0
    off_c: float = 78.0
    derate_min: float = 0.3
    reboot_retries: int = 3
    reboot_backoff_s: float = 1.0
    # Min Voltage Limit 9.5 V by default (e-Manual, address 34): below it the servo is in trouble.
    min_voltage_v: float = 9.5

    @staticmethod
    def from_yaml(raw, errors: list) -> 'HealthLimits':
        if not raw:
            return HealthLimits()
        if not isinstance(raw, dict):
            errors.append('health: expected a mapping')
            return HealthLimits()
        known = HealthLimits.__dataclass_fields__
        unknown = sorted(set(raw) - set(known))
        if unknown:
            errors.append(f'health: unknown key(s) {", ".join(unknown)}')
        try:
            limits = HealthLimits(**{k: type(getattr(HealthLimits, k))(v) for k, v in raw.items() if k in known})
        except (TypeError, ValueError) as err:
            errors.append(f'health: {err}')
            return HealthLimits()
        if not (limits.derate_c < limits.off_c and 0 < limits.derate_min <= 1 and limits.reboot_retries >= 0
                and limits.reboot_backoff_s > 0):
            errors.append('health: needs derate_c < off_c, 0 < derate_min <= 1, reboot_retries >= 0, '
                          'reboot_backoff_s > 0')
        return limits



@dataclass
class Head:
    name: str
    servos: List[Servo]
    command_calm: np.ndarray        # (11,)
    command_weights: np.ndarray     # (n_servos, 11) weight of each command on each servo
    gaze: dict
    constraints: List[Constraint]
    extreme_hold: dict
    dynamics: 'Dynamics' = None
    health: 'HealthLimits' = None
    kinematics: Kinematics = None      # the chain for the URDF (None: a head without one)

    def __post_init__(self):
        self.names = [s.name for s in self.servos]
        self.ids = np.array([s.id for s in self.servos])
        self.min = np.array([s.min for s in self.servos], dtype=np.float64)
        self.max = np.array([s.max for s in self.servos], dtype=np.float64)
        self.calm = np.array([s.calm for s in self.servos], dtype=np.float64)
        self.direction = np.array([s.direction for s in self.servos], dtype=np.float64)
        self.max_velocity = np.array([s.max_velocity for s in self.servos], dtype=np.float64)
        self.index: Dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.facial = np.array([s.group in FACIAL_GROUPS for s in self.servos])
        if self.dynamics is None:
            self.dynamics = Dynamics.unlimited(len(self.servos))
        if self.health is None:
            self.health = HealthLimits()
        joints = {j.name: j for j in self.kinematics.joints} if self.kinematics else {}
        self._zero = np.array([joints[n].zero if n in joints else TICKS_PER_REV / 2 for n in self.names])
        self._sign = np.array([joints[n].sign if n in joints else 1.0 for n in self.names])

    @property
    def calm_commands(self) -> np.ndarray:
        return self.command_calm.copy()

    def command_offsets(self, commands: np.ndarray) -> np.ndarray:
        """Each command's signed share of the way from its calm value to 1 (or to 0), in [-1, 1]."""
        c, c0 = np.asarray(commands, dtype=np.float64), self.command_calm
        up = np.where(c0 < 1.0, (c - c0) / np.where(c0 < 1.0, 1.0 - c0, 1.0), 0.0)
        down = np.where(c0 > 0.0, (c - c0) / np.where(c0 > 0.0, c0, 1.0), 0.0)
        return np.clip(np.where(c >= c0, up, down), -1.0, 1.0)

    def commands_to_goals(self, commands: np.ndarray, base: np.ndarray = None) -> np.ndarray:
        """Servo goals (ticks) of the facial servos for 11 commands; other servos keep `base` (calm)."""
        move = (self.command_weights @ self.command_offsets(commands)) * self.direction
        move = np.clip(move, -1.0, 1.0)
        goals = np.where(move >= 0, self.calm + move * (self.max - self.calm), self.calm + move * (self.calm - self.min))
        base = self.calm if base is None else np.asarray(base, dtype=np.float64)
        return np.clip(np.where(self.facial, goals, base), self.min, self.max)

    def ticks_to_radians(self, ticks) -> np.ndarray:
        """Servo ticks -> JointState radians: each URDF joint's angle (its zero and sign); a servo with no
        joint, radians from its centre (2048)."""
        return (np.asarray(ticks, dtype=np.float64) - self._zero) * self._sign * TICK_RAD

    def radians_to_ticks(self, radians) -> np.ndarray:
        return np.asarray(radians, dtype=np.float64) * self._sign / TICK_RAD + self._zero

    def violations(self, commands: np.ndarray, tol: float = 1e-6) -> List[str]:
        """Names of the constraints these commands break."""
        c = np.asarray(commands, dtype=np.float64)
        return [k.name for k in self.constraints if k.coefficients @ c > k.max + tol]


def _check_servo(raw: dict, i: int, errors: list, known_models) -> Servo:
    where = f"servos[{i}] ({raw.get('name', '?')})" if isinstance(raw, dict) else f'servos[{i}]'
    if not isinstance(raw, dict):
        errors.append(f'{where}: expected a mapping')
        return None
    need = ('name', 'id', 'model', 'group', 'min', 'max', 'calm', 'direction', 'max_velocity')
    missing = [k for k in need if k not in raw]
    if missing:
        errors.append(f'{where}: missing {", ".join(missing)}')
        return None
    s = Servo(str(raw['name']), int(raw['id']), str(raw['model']), str(raw['group']), int(raw['min']),
              int(raw['max']), int(raw['calm']), int(raw['direction']), float(raw['max_velocity']))
    if not 0 <= s.id <= 252:
        errors.append(f'{where}: id {s.id} outside 0..252')
    if known_models is not None and s.model not in known_models:
        errors.append(f'{where}: unknown model {s.model!r} (known: {", ".join(sorted(known_models))})')
    if s.group not in GROUPS:
        errors.append(f'{where}: group {s.group!r} is not one of {GROUPS}')
    if s.min >= s.max:
        errors.append(f'{where}: min {s.min} >= max {s.max}')
    elif not s.min <= s.calm <= s.max:
        errors.append(f'{where}: calm {s.calm} outside [{s.min}, {s.max}]')
    if s.direction not in (1, -1):
        errors.append(f'{where}: direction must be 1 or -1, got {s.direction}')
    if s.max_velocity <= 0:
        errors.append(f'{where}: max_velocity must be positive')
    return s


def parse_head(doc: dict, known_models=None) -> Head:
    """A Head from a parsed YAML document; raises HeadConfigError listing every problem."""
    errors = []
    if not isinstance(doc, dict):
        raise HeadConfigError('head description: expected a YAML mapping at the top')
    servos = [_check_servo(r, i, errors, known_models) for i, r in enumerate(doc.get('servos') or [])]
    servos = [s for s in servos if s is not None]
    if not servos:
        errors.append('servos: none given')
    for attr in ('name', 'id'):
        seen = {}
        for s in servos:
            seen.setdefault(getattr(s, attr), []).append(s.name)
        errors += [f'duplicate servo {attr} {k!r}: {", ".join(v)}' for k, v in seen.items() if len(v) > 1]
    index = {s.name: i for i, s in enumerate(servos)}
    group = {s.name: s.group for s in servos}

    commands = doc.get('commands') or {}
    unknown = [c for c in commands if c not in COMMAND_NAMES]
    missing = [c for c in COMMAND_NAMES if c not in commands]
    if unknown:
        errors.append(f'commands: unknown {", ".join(unknown)} (the 11 are {", ".join(COMMAND_NAMES)})')
    if missing:
        errors.append(f'commands: missing {", ".join(missing)}')
    calm = np.zeros(len(COMMAND_NAMES))
    weights = np.zeros((len(servos), len(COMMAND_NAMES)))
    for k, name in enumerate(COMMAND_NAMES):
        spec = commands.get(name) or {}
        calm[k] = float(spec.get('calm', 0.0))
        if not 0.0 <= calm[k] <= 1.0:
            errors.append(f'commands.{name}: calm {calm[k]} outside [0, 1]')
        for servo, w in (spec.get('servos') or {}).items():
            if servo not in index:
                errors.append(f'commands.{name}: unknown servo {servo!r}')
            elif group[servo] not in FACIAL_GROUPS:
                errors.append(f'commands.{name}: servo {servo} is {group[servo]}, not a facial servo')
            elif not -1.0 <= float(w) <= 1.0:
                errors.append(f'commands.{name}: weight {w} of {servo} outside [-1, 1]')
            else:
                weights[index[servo], k] = float(w)

    gaze = doc.get('gaze') or {}
    for key in ('eye_yaw', 'eye_pitch'):
        for servo in gaze.get(key) or []:
            if servo not in index:
                errors.append(f'gaze.{key}: unknown servo {servo!r}')
    for key in ('neck_yaw', 'neck_pitch'):
        if gaze.get(key) is not None and gaze[key] not in index:
            errors.append(f'gaze.{key}: unknown servo {gaze[key]!r}')

    constraints = []
    for i, raw in enumerate(doc.get('constraints') or []):
        coef = np.zeros(len(COMMAND_NAMES))
        for name, a in (raw.get('coefficients') or {}).items():
            if name not in COMMAND_NAMES:
                errors.append(f"constraints[{i}] ({raw.get('name', '?')}): unknown command {name!r}")
            else:
                coef[COMMAND_NAMES.index(name)] = float(a)
        k = Constraint(str(raw.get('name', f'constraint_{i}')), coef, float(raw.get('max', 0.0)))
        if k.coefficients @ calm > k.max + 1e-9:
            errors.append(f'constraints[{i}] ({k.name}): the calm face breaks it')
        constraints.append(k)
    hold = {'margin': 0.05, 'max_seconds': 3.0, 'release': 0.15, **(doc.get('extreme_hold') or {})}
    if not 0 < hold['margin'] < hold['release'] < 0.5 or hold['max_seconds'] <= 0:
        errors.append('extreme_hold: needs 0 < margin < release < 0.5 and max_seconds > 0')
    dynamics = _parse_dynamics(doc.get('dynamics'), servos, errors)
    health = HealthLimits.from_yaml(doc.get('health'), errors)
    kinematics = parse_kinematics(doc.get('kinematics'), set(index), errors)
    if errors:
        raise HeadConfigError('invalid head description:\n  ' + '\n  '.join(errors))
    return Head(str(doc.get('name', 'head')), servos, calm, weights, gaze, constraints, hold, dynamics, health,
                kinematics)


def _per_group(value, servos, where: str, errors: list) -> np.ndarray:
    """A number for every servo from a number or a {group: number} mapping."""
    if isinstance(value, dict):
        missing = sorted({s.group for s in servos} - set(value))
        if missing:
            errors.append(f'{where}: no value for group(s) {", ".join(missing)}')
        return np.array([float(value.get(s.group, np.nan)) for s in servos])
    return np.full(len(servos), float(value))


def _parse_dynamics(raw, servos, errors: list) -> Dynamics:
    """The dynamics section (absent: no limits beyond max_velocity, instant skin)."""
    n = len(servos)
    if not raw:
        return Dynamics.unlimited(n)
    if not isinstance(raw, dict):
        errors.append('dynamics: expected a mapping')
        return Dynamics.unlimited(n)
    try:
        accel = _per_group(raw.get('max_acceleration', np.inf), servos, 'dynamics.max_acceleration', errors)
        models = raw.get('models') or {}
        load = _per_group(raw.get('load_torque_nm', 0.0), servos, 'dynamics.load_torque_nm', errors)
        speed = np.full(n, np.inf)
        for i, s in enumerate(servos):
            m = models.get(s.model)
            if m is None:
                if models:
                    errors.append(f'dynamics.models: no entry for {s.model} ({s.name})')
                continue
            rpm, stall = float(m['no_load_rpm']), float(m['stall_torque_nm'])
            if not 0 <= load[i] < stall:
                errors.append(f'dynamics: load {load[i]} N m of {s.name} is not below the stall torque {stall} N m')
            # The datasheet's torque-speed line: no-load speed, falling linearly to 0 at stall.
            speed[i] = rpm * RPM_TO_TICKS_S * (1.0 - load[i] / stall)
        skin = raw.get('skin') or {}
        order, tau = int(skin.get('order', 0)), float(skin.get('time_constant_s', 0.0))
    except (KeyError, TypeError, ValueError) as err:
        errors.append(f'dynamics: {err!r}')
        return Dynamics.unlimited(n)
    if not (np.all(accel > 0) and order >= 0 and tau >= 0):
        errors.append('dynamics: max_acceleration must be positive, skin order and time constant not negative')
    return Dynamics(accel, speed, order, tau)


def default_head_path() -> str:
    return str(resources.files('emo_description').joinpath('data', 'emo_head.yaml'))


def load_head(path: str = None, known_models=None) -> Head:
    """Load and validate a head description (default: the built-in Emo head). known_models: the servo
    models the caller can drive (the driver passes its control tables); None accepts any."""
    path = path or default_head_path()
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except OSError as err:
        raise HeadConfigError(f'cannot read head description {path}: {err}') from err
    except yaml.YAMLError as err:
        raise HeadConfigError(f'head description {path} is not valid YAML: {err}') from err
    return parse_head(doc, known_models)
