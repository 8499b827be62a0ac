"""The URDF: generated from the head YAML, its limits from the servo ranges, and its chain walked in plain
Python (no robot_state_publisher, no tf2): the eye cameras' frames move as the neck's joint states say."""
import math
import pathlib

import numpy as np
import pytest
import yaml

from emo_description.head import HeadConfigError, default_head_path, load_head, parse_head
from emo_description.kinematics import TICK_RAD, UrdfTree, head_urdf
from emo_description.urdf import main as urdf_main

HEAD = load_head()
URDF = head_urdf(HEAD)
TREE = UrdfTree(URDF)
SHIPPED = pathlib.Path(__file__).parents[1] / 'urdf' / 'emo_head.urdf'


def test_the_shipped_urdf_is_the_one_the_yaml_makes(tmp_path):
    assert SHIPPED.read_text() == URDF, 'regenerate: python -m emo_description.urdf --out urdf/emo_head.urdf'
    out = tmp_path / 'head.urdf'
    assert urdf_main(['--out', str(out)]) == 0 and out.read_text() == URDF


def test_every_frame_the_stack_names_is_in_the_tree():
    for frame in ('base_link', 'head_link', 'face', 'eye_left_optical_frame', 'eye_right_optical_frame'):
        assert frame in TREE.links
    # one tree: every link reaches base_link
    for link in TREE.links:
        TREE.transform('base_link', link)


def test_joint_limits_are_the_servo_ranges_in_radians():
    import xml.etree.ElementTree as ET
    joints = {j.get('name'): j for j in ET.fromstring(URDF).findall('joint')}
    for name in ('neck_yaw', 'neck_pitch', 'neck_roll', 'eye_yaw_r', 'eye_pitch_r', 'eye_yaw_l', 'eye_pitch_l'):
        i = HEAD.index[name]
        limit = joints[name].find('limit')
        ends = sorted(HEAD.ticks_to_radians(np.where(np.arange(len(HEAD.names)) == i, v, HEAD.calm))[i]
                      for v in (HEAD.min[i], HEAD.max[i]))
        assert float(limit.get('lower')) == pytest.approx(ends[0], abs=1e-5)
        assert float(limit.get('upper')) == pytest.approx(ends[1], abs=1e-5)
        assert float(limit.get('velocity')) == pytest.approx(HEAD.max_velocity[i] * TICK_RAD, rel=1e-5)
        assert joints[name].get('type') == 'revolute'


def test_ticks_and_radians_round_trip_with_each_joints_zero_and_sign():
    ticks = np.random.default_rng(0).uniform(HEAD.min, HEAD.max)
    assert np.allclose(HEAD.radians_to_ticks(HEAD.ticks_to_radians(ticks)), ticks)
    centre = np.full(len(HEAD.names), 2048.0)
    assert np.allclose(HEAD.ticks_to_radians(centre), 0.0)
    up = centre + 100
    rad = HEAD.ticks_to_radians(up)
    assert rad[HEAD.index['eye_pitch_l']] == pytest.approx(-100 * TICK_RAD)    # mirrored mounting
    assert rad[HEAD.index['eye_pitch_r']] == pytest.approx(100 * TICK_RAD)
    assert rad[HEAD.index['jaw']] == pytest.approx(100 * TICK_RAD)             # no joint: from the centre


def joint_positions(ticks):
    return dict(zip(HEAD.names, HEAD.ticks_to_radians(ticks)))


def test_the_left_eye_camera_moves_as_the_neck_joint_state_says():
    calm = joint_positions(HEAD.calm)
    at_rest = TREE.transform('base_link', 'eye_left_optical_frame', calm)
    # The optical frame looks forward (z = base x), x to the right (-base y), y down (-base z).
    assert np.allclose(at_rest[:3, 2], [1, 0, 0], atol=1e-6)
    assert np.allclose(at_rest[:3, 0], [0, -1, 0], atol=1e-6)
    assert np.allclose(at_rest[:3, 1], [0, 0, -1], atol=1e-6)
    assert at_rest[1, 3] > 0 and at_rest[0, 3] > 0          # the left eye: left of and ahead of the neck axis
    # The neck's yaw servo turns 200 ticks: the camera turns and swings about the neck's vertical axis.
    ticks = HEAD.calm.copy()
    ticks[HEAD.index['neck_yaw']] += 200
    turned = TREE.transform('base_link', 'eye_left_optical_frame', joint_positions(ticks))
    angle = 200 * TICK_RAD
    rz = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
    assert np.allclose(turned[:3, :3], rz @ at_rest[:3, :3], atol=1e-9)
    assert np.allclose(turned[:3, 3], rz @ at_rest[:3, 3], atol=1e-9)
    assert not np.allclose(turned, at_rest)
    # Pitch tilts the camera's view down or up; the right eye is the left one mirrored.
    ticks = HEAD.calm.copy()
    ticks[HEAD.index['neck_pitch']] += 150
    pitched = TREE.transform('base_link', 'eye_left_optical_frame', joint_positions(ticks))
    assert abs(pitched[2, 2]) > 0.1                          # the optical axis left the horizontal
    right = TREE.transform('base_link', 'eye_right_optical_frame', calm)
    assert right[1, 3] == pytest.approx(-at_rest[1, 3]) and right[0, 3] == pytest.approx(at_rest[0, 3])


def test_an_eye_joint_turns_only_its_own_camera():
    ticks = HEAD.calm.copy()
    ticks[HEAD.index['eye_yaw_l']] += 300
    calm = joint_positions(HEAD.calm)
    moved = joint_positions(ticks)
    assert not np.allclose(TREE.transform('base_link', 'eye_left_optical_frame', moved),
                           TREE.transform('base_link', 'eye_left_optical_frame', calm))
    assert np.allclose(TREE.transform('base_link', 'eye_right_optical_frame', moved),
                       TREE.transform('base_link', 'eye_right_optical_frame', calm))
    assert np.allclose(TREE.transform('base_link', 'face', moved), TREE.transform('base_link', 'face', calm))


def _doc():
    with open(default_head_path()) as f:
        return yaml.safe_load(f)


def test_a_bad_chain_is_reported_at_load():
    doc = _doc()
    doc['kinematics']['joints'].append({'name': 'tail_wag', 'parent': 'nowhere', 'child': 'tail', 'axis': [0, 0, 2]})
    with pytest.raises(HeadConfigError) as err:
        parse_head(doc)
    text = str(err.value)
    assert "'tail_wag' is no servo" in text and "parent 'nowhere'" in text and 'not a unit vector' in text


def test_a_head_without_a_chain_loads_but_has_no_urdf():
    doc = _doc()
    del doc['kinematics']
    head = parse_head(doc)
    assert head.kinematics is None
    assert np.allclose(head.ticks_to_radians(np.full(len(head.names), 2048.0)), 0.0)
    with pytest.raises(ValueError, match='no kinematics'):
        head_urdf(head)
