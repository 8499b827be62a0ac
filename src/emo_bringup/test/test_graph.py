"""The graph description, the launch files and the recorded topics (timing: test_timing.py)."""
import pathlib

import pytest
import yaml

from emo_bringup.graph import RECORD_TOPICS, config_dir, graph_nodes


def test_the_coexpression_graph_is_the_papers_pipeline():
    names = [s.name for s in graph_nodes('coexpress')]
    assert names == ['eye_camera_left', 'landmark_node', 'predictor_node', 'inverse_node', 'simulated_bus',
                     'driver_node', 'robot_face_node']
    assert [s.name for s in graph_nodes('coexpress', {'bus': 'dynamixel'})] == [
        'eye_camera_left', 'landmark_node', 'predictor_node', 'inverse_node', 'driver_node', 'robot_face_node']
    modes = {g: next(s for s in graph_nodes(g) if s.name == 'predictor_node').overrides['mode']
             for g in ('coexpress', 'mimicry')}
    assert modes == {'coexpress': 'anticipate', 'mimicry': 'mimic'}


def test_arguments_reach_the_right_nodes():
    specs = {s.name: s for s in graph_nodes('coexpress', {'camera': 'file', 'camera_path': 'clip.mp4', 'bus': 'dynamixel',
                                                          'port': '/dev/ttyUSB1', 'head_config': 'h.yaml'})}
    assert specs['eye_camera_left'].overrides['source'] == 'clip.mp4'
    assert specs['driver_node'].overrides == {'port': '/dev/ttyUSB1', 'head_config': 'h.yaml'}
    assert 'simulated_bus' not in specs                                       # the real servos
    assert specs['robot_face_node'].overrides == {'head_config': 'h.yaml', 'plant': 'real'}
    assert 'capture_latency_s' not in specs['eye_camera_left'].overrides      # the camera's config decides
    ideal = {s.name: s.overrides for s in graph_nodes('coexpress', {'plant': 'ideal'})}
    assert ideal['simulated_bus']['plant'] == ideal['robot_face_node']['plant'] == 'ideal'
    # bus:=sim: the driver opens the simulated chain's port, the same path the chain is given
    assert ideal['driver_node']['port'] == ideal['simulated_bus']['port'] != '/dev/ttyUSB0'
    assert ideal['driver_node']['latency_timer_ms'] == 8 and ideal['driver_node']['port_wait_s'] > 0
    ns = {s.name: s.overrides for s in graph_nodes('coexpress', {'namespace': 'left_head'})}
    assert ns['driver_node']['port'] != ideal['driver_node']['port']          # two heads, two chains
    with pytest.raises(ValueError, match='bus'):
        graph_nodes('coexpress', {'bus': 'can'})
    assert ideal['eye_camera_left']['capture_latency_s'] == 0.0
    device = {s.name: s.overrides for s in graph_nodes('coexpress', {'plant': 'ideal', 'camera': 'device'})}
    assert 'capture_latency_s' not in device['eye_camera_left']              # a real camera keeps its latency
    with pytest.raises(ValueError, match='plant'):
        graph_nodes('coexpress', {'plant': 'fast'})
    with pytest.raises(ValueError, match='camera_path'):
        graph_nodes('coexpress', {'camera': 'file'})
    with pytest.raises(ValueError, match='mode'):
        graph_nodes('coexpress', {'mode': 'guess'})


def test_every_node_has_its_parameter_file_with_its_section():
    for graph in ('coexpress', 'babble'):
        for spec in graph_nodes(graph):
            doc = yaml.safe_load(pathlib.Path(spec.params_file).read_text())
            assert spec.name in doc and 'ros__parameters' in doc[spec.name], spec.params_file
            declared = doc[spec.name]['ros__parameters']
            assert set(spec.overrides) <= set(declared), (spec.name, set(spec.overrides) - set(declared))


def test_the_parameter_files_match_what_the_nodes_declare(ros_context):
    """No parameter in config/ that its node does not declare (a typo would be silently ignored)."""
    rclpy = pytest.importorskip('rclpy')  # noqa: F841
    from emo_inverse.inverse_node import InverseNode
    from emo_prediction.predictor_node import PredictorNode
    from emo_servo_driver.driver_node import DriverNode
    for cls, name, cfg in [(PredictorNode, 'predictor_node', 'predictor.yaml'),
                           (InverseNode, 'inverse_node', 'inverse.yaml'),
                           (DriverNode, 'driver_node', 'driver.yaml')]:
        node = cls(context=ros_context)
        try:
            doc = yaml.safe_load((pathlib.Path(config_dir()) / cfg).read_text())[name]['ros__parameters']
            missing = [p for p in doc if not node.has_parameter(p)]
            assert not missing, (name, missing)
        finally:
            node.destroy_node()


def _launch_description(name: str):
    import importlib.util
    path = pathlib.Path(config_dir()).parent / 'launch' / f'{name}.launch.py'
    spec = importlib.util.spec_from_file_location(name.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def _visit(entities, context) -> list:
    """The actions these entities make: arguments, includes, descriptions and opaque functions are
    visited in turn (as `ros2 launch` would), processes and logs are collected, not run."""
    out = []
    for entity in entities:
        out.append(entity)
        if entity.__class__.__name__ in ('Node', 'LifecycleNode', 'ExecuteProcess', 'LogInfo'):
            continue
        produced = entity.visit(context) or []
        out += _visit([e for e in produced if e is not None], context)
    return out


@pytest.mark.parametrize('graph', ['coexpress', 'mimicry', 'babble'])
def test_each_launch_file_declares_its_arguments_and_launches_its_graph(graph):
    pytest.importorskip('launch_ros')
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    from launch_ros.actions import LifecycleNode, Node

    from emo_bringup.graph import graph_arguments
    ld = _launch_description(graph)
    declared = {a.name for a in ld.entities if isinstance(a, DeclareLaunchArgument)}
    assert declared == set(graph_arguments(graph))
    context = LaunchContext()
    context.launch_configurations.update({'namespace': 'head_a', 'log_level': 'debug', 'driver': 'false'})
    actions = _visit(ld.entities, context)
    nodes = [a for a in actions if isinstance(a, Node)]
    expected = [s for s in graph_nodes(graph, {'namespace': 'head_a', 'driver': 'false'})]
    assert [(n.node_package, n.node_executable) for n in nodes if n.node_package != 'robot_state_publisher'] == \
        [(s.package, s.executable) for s in expected]
    assert 'driver_node' not in [s.name for s in expected]
    assert any(n.node_package == 'robot_state_publisher' for n in nodes)
    assert context.launch_configurations['graph'] == graph
    ld = _launch_description(graph)
    context = LaunchContext()
    lifecycle = [a for a in _visit(ld.entities, context) if isinstance(a, LifecycleNode)]
    assert [n.node_executable for n in lifecycle] == ['driver_node']


def test_record_topics_are_emo_and_ros_types():
    assert all(t.count('/') == 2 for t in RECORD_TOPICS.values())


def test_the_demo_camera_gets_the_generated_face_detector_floor():
    from emo_bringup.graph import DEMO_ACTIVATION_MIN, graph_nodes
    from emo_prediction.detector import DetectorParams, GENERATED_FACE_PARAMS
    assert DEMO_ACTIVATION_MIN == GENERATED_FACE_PARAMS.activation_min
    demo = next(s for s in graph_nodes('coexpress', {'camera': 'demo'}) if s.name == 'predictor_node')
    real = next(s for s in graph_nodes('coexpress', {'camera': 'device'}) if s.name == 'predictor_node')
    assert demo.overrides['activation_min'] == DEMO_ACTIVATION_MIN
    assert 'activation_min' not in real.overrides            # predictor.yaml: the real-face floor
    assert DetectorParams().activation_min > DEMO_ACTIVATION_MIN


def test_record_images_records_the_cameras_jpegs_in_the_graphs_namespace():
    from emo_bringup.graph import record_topics
    plain = record_topics()
    assert set(plain) == set(RECORD_TOPICS) and not any('image' in t for t in plain)
    topics = record_topics({'record_images': 'true', 'namespace': 'head_a'})
    assert topics['/head_a/emo/eye_left/image_raw/compressed'] == 'sensor_msgs/msg/CompressedImage'
    assert '/head_a/emo/face/landmarks' in topics and '/diagnostics' in topics
    camera = next(s for s in graph_nodes('coexpress', {'record_images': 'true'}) if s.name == 'eye_camera_left')
    assert camera.overrides['publish_compressed'] is True
