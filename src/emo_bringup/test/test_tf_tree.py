"""One TF tree: every frame the graph's messages and the rviz config name is a link of the head's URDF,
and the launch-free runner hands robot_state_publisher the URDF and the driver's joint states."""
import pathlib

import yaml

from emo_bringup.graph import config_dir, state_publisher
from emo_bringup.runner import node_command
from emo_description.head import load_head
from emo_description.kinematics import UrdfTree, head_urdf

LINKS = UrdfTree(head_urdf(load_head())).links
RVIZ = pathlib.Path(config_dir()).parent / 'rviz' / 'coexpress.rviz'


def test_the_rviz_config_names_only_frames_of_the_urdf():
    doc = yaml.safe_load(RVIZ.read_text())
    manager = doc['Visualization Manager']
    assert manager['Global Options']['Fixed Frame'] in LINKS
    classes = [d['Class'] for d in manager['Displays']]
    assert 'rviz_default_plugins/RobotModel' in classes and 'rviz_default_plugins/TF' in classes
    frames = [v for d in manager['Displays'] for k, v in d.items() if 'frame' in k.lower() and isinstance(v, str)]
    assert all(f in LINKS for f in frames), frames


def test_the_frames_the_nodes_stamp_are_links_of_the_urdf():
    from emo_inverse.robot_face_node import FACE_FRAME
    camera = yaml.safe_load(pathlib.Path(config_dir(), 'eye_camera.yaml').read_text())
    for section in camera.values():
        p = section['ros__parameters']
        assert (p.get('frame_id') or f"eye_{p.get('eye', 'left')}_optical_frame") in LINKS
    assert FACE_FRAME in LINKS
    assert {'eye_left_optical_frame', 'eye_right_optical_frame'} <= LINKS


def test_the_state_publisher_gets_the_urdf_and_the_joint_states(tmp_path):
    spec = state_publisher({'head_config': ''})
    assert spec.overrides['robot_description'] == head_urdf(load_head())
    assert spec.remaps == {'joint_states': 'emo/joint_states'} and spec.optional
    # The runner passes the multi-line URDF through a parameter file (a -p value is one line of YAML).
    spec = spec.__class__('emo_description', 'urdf', spec.name, spec.config, spec.overrides, spec.remaps)
    cmd = node_command(spec, str(tmp_path))
    assert 'joint_states:=emo/joint_states' in cmd
    params = cmd[cmd.index('--params-file') + 1]
    doc = yaml.safe_load(pathlib.Path(params).read_text())
    assert doc['/**']['ros__parameters']['robot_description'] == head_urdf(load_head())
    assert not any(a.startswith('robot_description:=') for a in cmd)
    # A namespaced head: its frames are prefixed, so two heads share one /tf.
    spec = state_publisher({'namespace': 'head_a'})
    assert spec.overrides['frame_prefix'] == 'head_a/' and spec.namespace == 'head_a'
