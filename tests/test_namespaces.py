"""Two heads side by side: two coexpression graphs in their own namespaces, each node in its own process
(the launch-free runner), each head's messages and TF frames apart from the other's."""
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('emo_bringup')
pytest.importorskip('mediapipe')

pytestmark = pytest.mark.ros


def test_two_namespaced_graphs_run_apart(ros_context, tmp_path):
    from emo_msgs.msg import FaceLandmarks, MotorCommands
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import JointState

    from emo_bringup.runner import RunningGraph
    from emo_common.testing import spin_until
    node = rclpy.create_node('two_heads', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    got = {}
    for ns in ('head_a', 'head_b'):
        for kind, topic in ((MotorCommands, 'emo/motor_commands'), (JointState, 'emo/joint_states'),
                            (FaceLandmarks, 'emo/face/landmarks'), (FaceLandmarks, 'emo/robot/face/landmarks')):
            key = f'/{ns}/{topic}'
            got[key] = []
            node.create_subscription(kind, key, got[key].append, 50)
    graphs = []
    try:
        for ns in ('head_a', 'head_b'):
            (tmp_path / ns).mkdir()
            graphs.append(RunningGraph('coexpress', {'namespace': ns, 'camera': 'demo', 'loop': 'true', 'plant': 'ideal'},
                                str(tmp_path / ns)).start())
        assert spin_until(ex, lambda: all(len(v) >= 10 for v in got.values()), timeout_s=120.0), \
            {k: len(v) for k, v in got.items()}
        for g in graphs:
            assert all(g.alive().values()), g.alive()
        # Nothing in the root namespace: each head's topics are its own.
        for topic in ('/emo/motor_commands', '/emo/joint_states', '/emo/face/landmarks'):
            assert node.count_publishers(topic) == 0, topic
        assert node.count_publishers('/head_a/emo/motor_commands') == 1
        readers = {(i.node_name, i.node_namespace) for i in node.get_subscriptions_info_by_topic('/head_b/emo/motor_commands')}
        assert readers == {('driver_node', '/head_b'), ('two_heads', '/')}    # head_b's driver (and this test)
        nodes = {'eye_camera_left', 'landmark_node', 'predictor_node', 'inverse_node', 'driver_node', 'robot_face_node'}
        wanted = {(n, f'/{ns}') for n in nodes for ns in ('head_a', 'head_b')}
        assert spin_until(ex, lambda: wanted <= set(node.get_node_names_and_namespaces()), timeout_s=20.0), \
            wanted - set(node.get_node_names_and_namespaces())
        # TF frames carry the head's prefix (one /tf for both heads).
        for ns in ('head_a', 'head_b'):
            assert got[f'/{ns}/emo/face/landmarks'][-1].header.frame_id == f'{ns}/eye_left_optical_frame'
            assert got[f'/{ns}/emo/robot/face/landmarks'][-1].header.frame_id == f'{ns}/face'
        # One head stopping leaves the other running.
        graphs[0].stop()
        before = len(got['/head_b/emo/joint_states'])
        assert spin_until(ex, lambda: len(got['/head_b/emo/joint_states']) > before + 20, timeout_s=30.0)
        assert all(graphs[1].alive().values())
    finally:
        for g in graphs:
            g.stop()
        ex.shutdown()
        node.destroy_node()
