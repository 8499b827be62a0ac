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
    from emo_sim.robot_face_node import FACE_FRAME
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


def _compose(edges: dict, source: str, target: str):
    """source_T_target from TF edges {child: (parent, 4x4 parent_T_child)}."""
    import numpy as np

    def to_root(frame):
        t = np.eye(4)
        while frame in edges:
            parent, pt = edges[frame]
            t = pt @ t
            frame = parent
        return t, frame
    ts, root_s = to_root(source)
    tt, root_t = to_root(target)
    assert root_s == root_t, f'{source} and {target} are not in one TF tree'
    return np.linalg.inv(ts) @ tt


def test_robot_state_publisher_publishes_the_heads_tree_as_the_joint_states_say(ros_node, tmp_path):
    """The TF path on a system ROS (or a build beside the workspace): robot_state_publisher, started as
    the runner starts it (URDF through a parameter file, joint_states remapped to emo/joint_states),
    turns joint states into /tf that compose base_link -> eye_left_optical_frame exactly as the plain
    kinematics do, and the camera frame moves when the neck's joint state does."""
    import subprocess

    import numpy as np
    import pytest
    pytest.importorskip('tf2_msgs', reason='tf2_msgs has no wheel: a system ROS (or /work/sidecar2) has it')
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    try:
        get_package_prefix('robot_state_publisher')
    except PackageNotFoundError:
        pytest.skip('robot_state_publisher is not installed (no wheel: a system ROS package)')
    from rclpy.qos import DurabilityPolicy, QoSProfile
    from scipy.spatial.transform import Rotation
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Header
    from tf2_msgs.msg import TFMessage

    from emo_common.testing import spin_until
    node, executor = ros_node
    head = load_head()
    tree = UrdfTree(head_urdf(head))
    static, moving = {}, {}

    def keep(edges):
        def on_tf(msg):
            for t in msg.transforms:
                m = np.eye(4)
                q = t.transform.rotation
                m[:3, :3] = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()
                m[:3, 3] = [t.transform.translation.x, t.transform.translation.y, t.transform.translation.z]
                edges[t.child_frame_id] = (t.header.frame_id, m)
        return on_tf
    node.create_subscription(TFMessage, '/tf', keep(moving), 100)
    node.create_subscription(TFMessage, '/tf_static', keep(static),
                             QoSProfile(depth=100, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    pub = node.create_publisher(JointState, '/emo/joint_states', 10)
    cmd = node_command(state_publisher({'head_config': ''}), str(tmp_path))
    log = open(tmp_path / 'rsp.log', 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        for neck_yaw_ticks in (0, 250):
            ticks = head.calm.copy()
            ticks[head.index['neck_yaw']] += neck_yaw_ticks
            positions = dict(zip(head.names, head.ticks_to_radians(ticks)))
            expect = tree.transform('base_link', 'eye_left_optical_frame', positions)
            moving.clear()

            def matches():
                pub.publish(JointState(header=Header(stamp=node.get_clock().now().to_msg()),
                                       name=list(head.names), position=[float(positions[n]) for n in head.names]))
                try:
                    return np.allclose(_compose({**static, **moving}, 'base_link', 'eye_left_optical_frame'),
                                       expect, atol=1e-5)
                except AssertionError:
                    return False
            assert spin_until(executor, matches, 20.0), (proc.poll(), (tmp_path / 'rsp.log').read_text()[-2000:])
            if neck_yaw_ticks:
                assert not np.allclose(expect, tree.transform('base_link', 'eye_left_optical_frame',
                                                              dict(zip(head.names, head.ticks_to_radians(head.calm)))))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
