"""The head's kinematic chain: parsed from the head YAML, turned into a URDF, and walked in plain Python.

    chain = head.kinematics                                  # Kinematics (from the YAML's `kinematics`)
    xml = head_urdf(head)                                    # the URDF robot_state_publisher publishes
    tree = UrdfTree(xml)
    T = tree.transform('base_link', 'eye_left_optical_frame', {'neck_yaw': 0.3})   # 4x4, metres
    radians = head.ticks_to_radians(ticks)                   # JointState units (per-joint zero and sign)

The URDF is generated from the YAML (the one source of truth): neck and eye joints
with the servos' ranges as limits, links down to the eye cameras' optical frames and
a `face` frame for the rviz markers, simple visual geometry. `UrdfTree` reads any
URDF's joints (fixed, revolute, continuous) so the forward kinematics is checked
without robot_state_publisher or tf2 (neither has a wheel).
"""
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

TICKS_PER_REV = 4096          # the YAML's unit: XM-series ticks, 2048 = centre
TICK_RAD = 2 * math.pi / TICKS_PER_REV
# Stall torque (N m @ 12 V, ROBOTIS e-Manual) for the URDF's effort limits; unknown models get 1 N m.
STALL_TORQUE_NM = {'XM430-W350': 4.1, 'XM540-W270': 10.6}


@dataclass(frozen=True)
class Joint:
    name: str
    parent: str
    child: str
    xyz: Tuple[float, float, float]
    rpy: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    axis: Optional[Tuple[float, float, float]] = None   # None: fixed
    sign: float = 1.0
    zero: float = TICKS_PER_REV / 2


@dataclass(frozen=True)
class Kinematics:
    base_frame: str
    joints: List[Joint]            # servo-driven revolute joints (name = servo name) and fixed ones

    def joint(self, name: str) -> Optional[Joint]:
        return next((j for j in self.joints if j.name == name), None)


def _triple(value, where: str, errors: list, default=(0.0, 0.0, 0.0)):
    if value is None:
        return default
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 3 or not all(math.isfinite(v) for v in out):
        errors.append(f'{where}: expected three finite numbers, got {value!r}')
        return default
    return out


def parse_kinematics(raw, servo_names, errors: list) -> Optional[Kinematics]:
    """The `kinematics` section (absent: None, a head without a URDF); problems go to errors."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        errors.append('kinematics: expected a mapping')
        return None
    joints = []
    for kind in ('joints', 'fixed'):
        for i, j in enumerate(raw.get(kind) or []):
            where = f'kinematics.{kind}[{i}]'
            if not isinstance(j, dict) or not all(k in j for k in ('name', 'parent', 'child')):
                errors.append(f'{where}: needs name, parent and child')
                continue
            axis = None
            if kind == 'joints':
                if j['name'] not in servo_names:
                    errors.append(f"{where}: {j['name']!r} is no servo (a joint is driven by the servo of its name)")
                axis = _triple(j.get('axis'), f'{where}.axis', errors, (0.0, 0.0, 1.0))
                if not np.isclose(np.linalg.norm(axis), 1.0):
                    errors.append(f'{where}.axis: not a unit vector')
                if float(j.get('sign', 1)) not in (1.0, -1.0):
                    errors.append(f'{where}.sign: must be 1 or -1')
            joints.append(Joint(str(j['name']), str(j['parent']), str(j['child']), _triple(j.get('xyz'), f'{where}.xyz', errors),
                                _triple(j.get('rpy'), f'{where}.rpy', errors), axis, float(j.get('sign', 1)),
                                float(j.get('zero', TICKS_PER_REV / 2))))
    base = str(raw.get('base_frame', 'base_link'))
    children = [j.child for j in joints]
    for name in {c for c in children if children.count(c) > 1}:
        errors.append(f'kinematics: link {name!r} has more than one parent')
    names = [j.name for j in joints]
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f'kinematics: joint {name!r} appears twice')
    links = {base} | set(children)
    for j in joints:
        if j.parent not in links:
            errors.append(f'kinematics: joint {j.name}: parent {j.parent!r} is not {base} nor a child of a joint')
    if base in children:
        errors.append(f'kinematics: the base frame {base} cannot be a child')
    return Kinematics(base, joints)


# --- the URDF --------------------------------------------------------------------------------
def _fmt(values) -> str:
    return ' '.join(f'{v:.10g}' for v in values)


def head_urdf(head) -> str:
    """The URDF of a head (emo_description.head.Head with a kinematics section), as XML text."""
    k = head.kinematics
    if k is None:
        raise ValueError(f'head {head.name} has no kinematics section: no URDF')
    robot = ET.Element('robot', name=head.name)
    robot.append(ET.Comment(' Generated by emo_description from the head YAML (python -m emo_description.urdf); '
                            'edit the YAML, not this file. '))
    links = [k.base_frame] + [j.child for j in k.joints]
    for name in links:
        link = ET.SubElement(robot, 'link', name=name)
        shape = _visual(name)
        if shape is not None:
            visual = ET.SubElement(link, 'visual')
            ET.SubElement(visual, 'origin', xyz=_fmt(shape[1]), rpy='0 0 0')
            geometry = ET.SubElement(visual, 'geometry')
            ET.SubElement(geometry, shape[0][0], **shape[0][1])
    for j in k.joints:
        joint = ET.SubElement(robot, 'joint', name=j.name, type='fixed' if j.axis is None else 'revolute')
        ET.SubElement(joint, 'parent', link=j.parent)
        ET.SubElement(joint, 'child', link=j.child)
        ET.SubElement(joint, 'origin', xyz=_fmt(j.xyz), rpy=_fmt(j.rpy))
        if j.axis is not None:
            i = head.index[j.name]
            ends = sorted(j.sign * (np.array([head.min[i], head.max[i]]) - j.zero) * TICK_RAD)
            ET.SubElement(joint, 'axis', xyz=_fmt(j.axis))
            ET.SubElement(joint, 'limit', lower=f'{ends[0]:.6g}', upper=f'{ends[1]:.6g}',
                          velocity=f'{head.max_velocity[i] * TICK_RAD:.6g}',
                          effort=f'{STALL_TORQUE_NM.get(head.servos[i].model, 1.0):.6g}')
    ET.indent(robot)
    return '<?xml version="1.0"?>\n' + ET.tostring(robot, encoding='unicode') + '\n'


def _visual(link: str):
    """Simple geometry: a neck column, a head box, eyeballs; frames get none."""
    if link == 'neck_yaw_link':
        return ('cylinder', {'radius': '0.03', 'length': '0.05'}), (0, 0, 0.025)
    if link == 'head_link':
        return ('box', {'size': '0.16 0.14 0.2'}), (0.0, 0, 0.1)
    if link in ('eye_r_link', 'eye_l_link'):
        return ('sphere', {'radius': '0.012'}), (0, 0, 0)
    return None


# --- forward kinematics, no tf2 --------------------------------------------------------------
def _rotation(rpy) -> np.ndarray:
    r, p, y = rpy
    rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
    ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    return rz @ ry @ rx           # URDF: fixed-axis roll, then pitch, then yaw


def _axis_angle(axis, angle) -> np.ndarray:
    x, y, z = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + s * k + (1 - c) * k @ k


def _homogeneous(rot, xyz) -> np.ndarray:
    t = np.eye(4)
    t[:3, :3], t[:3, 3] = rot, xyz
    return t


class UrdfTree:
    """The joints of a URDF (any: parsed from its XML), for transforms between its links."""

    def __init__(self, urdf_xml: str):
        root = ET.fromstring(urdf_xml)
        self.links = {link.get('name') for link in root.findall('link')}
        self.parent: Dict[str, tuple] = {}          # child link -> (joint name, type, parent, origin 4x4, axis)
        for j in root.findall('joint'):
            origin = j.find('origin')
            xyz = [float(v) for v in (origin.get('xyz', '0 0 0') if origin is not None else '0 0 0').split()]
            rpy = [float(v) for v in (origin.get('rpy', '0 0 0') if origin is not None else '0 0 0').split()]
            axis = j.find('axis')
            self.parent[j.find('child').get('link')] = (
                j.get('name'), j.get('type'), j.find('parent').get('link'), _homogeneous(_rotation(rpy), xyz),
                [float(v) for v in axis.get('xyz').split()] if axis is not None else [1.0, 0.0, 0.0])

    def _to_root(self, link: str, positions: dict) -> np.ndarray:
        if link not in self.links:
            raise KeyError(f'no link {link!r} in the URDF')
        t = np.eye(4)
        while link in self.parent:
            name, kind, parent, origin, axis = self.parent[link]
            motion = np.eye(4)
            if kind in ('revolute', 'continuous'):
                motion[:3, :3] = _axis_angle(axis, float(positions.get(name, 0.0)))
            elif kind == 'prismatic':
                motion[:3, 3] = np.asarray(axis) * float(positions.get(name, 0.0))
            t = origin @ motion @ t
            link = parent
        return t

    def transform(self, source: str, target: str, positions: dict = None) -> np.ndarray:
        """The pose of `target` in `source` (4x4): a point p in target is source_T_target @ p in source."""
        positions = positions or {}
        return np.linalg.inv(self._to_root(source, positions)) @ self._to_root(target, positions)
