"""The coexpression graph, described once: which nodes, their config files, and what each
launch argument changes. The launch files and the launch-free runner both read it.

    specs = graph_nodes('coexpress', {'camera': 'demo', 'mode': 'anticipate', 'bus': 'sim'})
    for spec in specs: spec.package, spec.executable, spec.name, spec.params_file, spec.overrides

eye camera -> landmarks -> predictor -> inverse -> driver (-> robot face, the simulated head)
bus:=sim puts emo_sim's simulated chain on a serial port for the driver; camera:=demo plays emo_sim's clip.
"""
import os
from dataclasses import dataclass, field

from emo_msgs.msg import AnticipatedFace, Topics

MODES = (AnticipatedFace.MODE_ANTICIPATE, AnticipatedFace.MODE_MIMIC)


@dataclass
class NodeSpec:
    package: str
    executable: str
    name: str
    config: str                      # file under emo_bringup/config ('' : none)
    overrides: dict = field(default_factory=dict)
    remaps: dict = field(default_factory=dict)
    optional: bool = False           # a system ROS package that may be absent (no wheel): skipped then
    namespace: str = ''              # '' : the root namespace (topics /emo/...)
    user_params: str = ''            # a parameter file applied after the defaults and the arguments
    log_level: str = 'info'
    lifecycle: bool = False

    @property
    def params_file(self) -> str:
        return os.path.join(config_dir(), self.config) if self.config else ''

    def parameters(self) -> dict:
        """Its section of the config file with the arguments' overrides on top. Passed as parameters of
        this node alone (not by node name: a namespaced node's full name is not the file's key)."""
        values = {}
        if self.config:
            import yaml
            with open(self.params_file) as f:
                values.update(yaml.safe_load(f)[self.name]['ros__parameters'])
        values.update(self.overrides)
        return values


def share_dir(folder: str) -> str:
    """A folder of emo_bringup's share/ (config, launch, rviz): the installed one, else the source tree's."""
    try:
        from ament_index_python.packages import get_package_share_directory
        path = os.path.join(get_package_share_directory('emo_bringup'), folder)
        if os.path.isdir(path):
            return path
    except Exception:  # not installed (source checkout)
        pass
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), folder)


def config_dir() -> str:
    return share_dir('config')


# The environment of every node process (a value the user set wins). The nodes do small
# matrix products at the frame rate, where BLAS/OpenMP worker threads gain nothing and,
# spinning between products, starve the loop: the inverse node took 63 % of a core with
# them and 5 % without (two-core machine, whole graph running).
NODE_ENV = {'OMP_NUM_THREADS': '1', 'OPENBLAS_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}


def profile_env_names() -> tuple:
    """The variables naming Fast DDS's XML profile file: FASTDDS_... (Fast DDS 3, Kilted), and on Jazzy
    (Fast DDS 2) FASTRTPS_..., which Fast DDS 3 reads too but warns about."""
    jazzy = os.environ.get('ROS_DISTRO') == 'jazzy'
    return ('FASTDDS_DEFAULT_PROFILES_FILE',) + (('FASTRTPS_DEFAULT_PROFILES_FILE',) if jazzy else ())


DEMO_ACTIVATION_MIN = 0.0045   # = emo_prediction.detector.GENERATED_FACE_PARAMS.activation_min (no import: launch files)

# Launch arguments and their defaults (the same names for `ros2 launch` and the runner).
ARGUMENTS = {
    'namespace': ('', 'namespace of the whole graph (topics /<namespace>/emo/..., TF frames <namespace>/...): '
                      'two heads side by side'),
    'use_sim_time': ('false', 'every node on /clock (a bag played with --clock)'),
    'params_file': ('', 'a parameter file applied after the defaults: any node\'s section (or /**) overrides them'),
    'log_level': ('info', 'debug | info | warn | error | fatal'),
    'autostart': ('true', 'the driver (a lifecycle node) configures and activates itself; false: wait for '
                          'ros2 lifecycle set'),
    'camera': ('demo', "eye camera source: demo | device | file"),
    'camera_path': ('', 'the device (0, /dev/video0) or video file when camera is device or file'),
    'mode': (MODES[0], f'{MODES[0]} (coexpression) | {MODES[1]} (delayed-mimicry baseline)'),
    'head_config': ('', 'head description YAML; empty = the built-in Emo head'),
    'bus': ('sim', 'servo bus: sim (a simulated Dynamixel chain on a pty, emo_sim) | dynamixel'),
    'port': ('/dev/ttyUSB0', 'serial port of the Dynamixel bus (bus:=dynamixel)'),
    'record': ('false', 'record an MCAP rosbag2 of the graph topics'),
    'record_path': ('', 'bag folder (default: emo_<date>_<time>)'),
    'record_images': ('false', "also record the eye camera's frames as JPEG (image_raw/compressed), for datasets"),
    'loop': ('true', 'replay file/demo sources in a loop'),
    'plant': ('real', 'simulated parts as slow as a real head (camera capture latency, servo profile under '
                      'load, skin lag; the values and their sources are in the config files) | ideal (instant)'),
}
# Per node: run it (true) or not (false: bring your own, e.g. driver:=false for another driver).
ENABLE = {'eye_camera': 'eye_camera_left', 'landmarks': 'landmark_node', 'predictor': 'predictor_node',
          'inverse': 'inverse_node', 'driver': 'driver_node', 'robot_face': 'robot_face_node',
          'babble': 'babble_node', 'state_publisher': 'robot_state_publisher'}
ARGUMENTS.update({arg: ('true', f'run {node} (false: leave it out)') for arg, node in ENABLE.items()})
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')
GRAPHS = ('coexpress', 'mimicry', 'babble')
_CAMERA_AND_PREDICTION = ('camera', 'camera_path', 'loop', 'eye_camera', 'landmarks', 'predictor', 'inverse')


def graph_arguments(graph: str) -> list:
    """The launch arguments a graph uses (each launch file declares these and no others)."""
    if graph not in GRAPHS:
        raise ValueError(f'unknown graph {graph!r}')
    skip = {'coexpress': ('babble',), 'mimicry': ('babble', 'mode'),
            'babble': _CAMERA_AND_PREDICTION + ('mode', 'record_images')}[graph]
    return [name for name in ARGUMENTS if name not in skip]


def _bool(value) -> bool:
    return str(value).lower() in ('1', 'true', 'yes', 'on')


def camera_source(args: dict) -> str:
    camera = args.get('camera', 'demo')
    if camera == 'demo':
        from emo_sim.demo_video import demo_clip       # rendered into the cache on first use
        return str(demo_clip(progress=False).video_path)
    if camera in ('device', 'file'):
        path = args.get('camera_path') or ('0' if camera == 'device' else '')
        if not path:
            raise ValueError('camera:=file needs camera_path:=<video file>')
        return path
    raise ValueError(f"camera must be demo, device or file, got {camera!r}")


def _arguments(args: dict) -> dict:
    a = {k: v[0] for k, v in ARGUMENTS.items()}
    a.update({k: v for k, v in (args or {}).items() if v is not None})
    a['namespace'] = a['namespace'].strip('/')
    if a['log_level'] not in LOG_LEVELS:
        raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {a['log_level']!r}")
    return a


def frame_prefix(namespace: str) -> str:
    """TF frames of a namespaced head: <namespace>/eye_left_optical_frame (robot_state_publisher's
    frame_prefix), so two heads share one /tf."""
    return f'{namespace}/' if namespace else ''


def _common(specs: list, a: dict) -> list:
    """What every node gets from the graph-wide arguments; the nodes switched off are left out."""
    off = {node for arg, node in ENABLE.items() if not _bool(a[arg])}
    out = []
    for spec in specs:
        if spec.name in off:
            continue
        spec.namespace, spec.user_params, spec.log_level = a['namespace'], a['params_file'], a['log_level']
        if _bool(a['use_sim_time']):
            spec.overrides['use_sim_time'] = True
        out.append(spec)
    return out


def graph_nodes(graph: str, args: dict = None) -> list:
    """The nodes of a graph ('coexpress', 'mimicry', 'babble') with the launch arguments applied."""
    a = _arguments(args)
    return _common(_graph_nodes(graph, a), a)


def simulated_port(namespace: str) -> str:
    """Where bus:=sim's simulated chain appears for the driver: one path per graph process and namespace."""
    import tempfile
    return os.path.join(tempfile.gettempdir(), f'emo_sim_{os.getuid()}', f"{os.getpid()}_{namespace or 'root'}",
                        'ttyDXL')


def _bus_nodes(a: dict, head: dict) -> list:
    """The driver, and for bus:=sim the simulated chain it drives (the driver runs the same code as on
    hardware: the chain is a serial port)."""
    if a['bus'] not in ('sim', 'dynamixel'):
        raise ValueError(f"bus must be sim or dynamixel, got {a['bus']!r}")
    driver = NodeSpec('emo_servo_driver', 'driver_node', 'driver_node', 'driver.yaml', {'port': a['port'], **head},
                      lifecycle=True)
    if not _bool(a['autostart']):
        driver.overrides['autostart'] = False
    if a['bus'] == 'dynamixel':
        return [driver]
    port = simulated_port(a['namespace'])
    # The chain answers from Python: packet timeouts for an 8 ms latency timer; the driver waits for it to come up.
    driver.overrides.update(port=port, latency_timer_ms=8, port_wait_s=30.0)
    chain = NodeSpec('emo_sim', 'simulated_bus_node', 'simulated_bus', 'simulated_bus.yaml',
                     {'port': port, 'plant': a['plant'], **head})
    return [chain, driver]


def _graph_nodes(graph: str, a: dict) -> list:
    head = {'head_config': a['head_config']} if a['head_config'] else {}
    if a['plant'] not in ('real', 'ideal'):
        raise ValueError(f"plant must be real or ideal, got {a['plant']!r}")
    prefix = frame_prefix(a['namespace'])
    bus = _bus_nodes(a, head)
    robot_face = NodeSpec('emo_sim', 'robot_face_node', 'robot_face_node', 'robot_face.yaml',
                          {'plant': a['plant'], **head, **({'frame_prefix': prefix} if prefix else {})})
    if graph == 'babble':
        return bus + [robot_face, NodeSpec('emo_inverse', 'babble_node', 'babble_node', 'babble.yaml', dict(head))]
    if graph not in ('coexpress', 'mimicry'):
        raise ValueError(f'unknown graph {graph!r}')
    mode = AnticipatedFace.MODE_MIMIC if graph == 'mimicry' else a['mode']
    if mode not in MODES:
        raise ValueError(f"mode must be anticipate or mimic, got {mode!r}")
    predictor = {'mode': mode}
    if a['camera'] == 'demo':
        # The demo clip is a rendered face: no head turns, hands or talking, only the landmark
        # jitter, like generated faces; its detector floor is theirs (emo_prediction.detector
        # GENERATED_FACE_PARAMS). Real cameras keep the floor chosen on real people (predictor.yaml).
        predictor['activation_min'] = DEMO_ACTIVATION_MIN
    camera = {'source': camera_source(a), 'loop': _bool(a['loop'])}
    if _bool(a['record_images']):
        camera['publish_compressed'] = True
    if prefix:
        camera['frame_id'] = f'{prefix}eye_left_optical_frame'
    if a['plant'] == 'ideal' and a['camera'] != 'device':
        camera['capture_latency_s'] = 0.0       # a simulated camera with no latency (a real one keeps its own)
    return [
        NodeSpec('emo_perception', 'eye_camera_node', 'eye_camera_left', 'eye_camera.yaml', camera),
        NodeSpec('emo_perception', 'landmark_node', 'landmark_node', 'landmark.yaml'),
        NodeSpec('emo_prediction', 'predictor_node', 'predictor_node', 'predictor.yaml', predictor),
        NodeSpec('emo_inverse', 'inverse_node', 'inverse_node', 'inverse.yaml'),
    ] + bus + [robot_face]


def state_publisher(args: dict = None) -> NodeSpec:
    """robot_state_publisher on the head's URDF (emo_description, generated from the head YAML), fed by
    the driver's joint states: the TF tree of the neck, the eyes, the eye cameras' optical frames and
    the `face` frame. A system ROS package (no wheel): the runner skips it when it is not installed."""
    from emo_description.urdf import robot_description
    a = _arguments(args)
    params = {'robot_description': robot_description(a['head_config'])}
    if a['namespace']:
        params['frame_prefix'] = frame_prefix(a['namespace'])
    spec = NodeSpec('robot_state_publisher', 'robot_state_publisher', 'robot_state_publisher', '', params,
                    {'joint_states': Topics.JOINT_STATES}, optional=True)
    specs = _common([spec], a)
    return specs[0] if specs else None


# Topics a recording keeps (images are left out: they are large, and the landmarks carry their stamps).
RECORD_TOPICS = {
    '/' + Topics.FACE_LANDMARKS: 'emo_msgs/msg/FaceLandmarks',
    '/' + Topics.FACE_ANTICIPATED: 'emo_msgs/msg/AnticipatedFace',
    '/' + Topics.MOTOR_COMMANDS: 'emo_msgs/msg/MotorCommands',
    '/' + Topics.JOINT_STATES: 'sensor_msgs/msg/JointState',
    '/' + Topics.ROBOT_FACE_LANDMARKS: 'emo_msgs/msg/FaceLandmarks',
    Topics.DIAGNOSTICS: 'diagnostic_msgs/msg/DiagnosticArray',
}


def record_topics(args: dict = None) -> dict:
    """The topics a recording keeps, in the graph's namespace; with record_images, the camera's JPEGs."""
    a = _arguments(args)
    topics = dict(RECORD_TOPICS)
    if _bool(a['record_images']):
        topics['/' + Topics.EYE_LEFT_IMAGE_COMPRESSED] = 'sensor_msgs/msg/CompressedImage'
    return {topic_in_namespace(t, a['namespace']): kind for t, kind in topics.items()}


def topic_in_namespace(topic: str, namespace: str) -> str:
    """/emo/face/landmarks of a graph in `namespace` (/diagnostics stays where it is)."""
    namespace = namespace.strip('/')
    if not namespace or topic == Topics.DIAGNOSTICS:
        return topic
    return f'/{namespace}{topic}'
