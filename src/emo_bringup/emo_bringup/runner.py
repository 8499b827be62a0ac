"""Run the coexpression graph without `ros2 launch` (one process per node, as launch would).

    emo_bringup                                   # coexpression on the demo camera, simulated bus
    emo_bringup --graph mimicry
    emo_bringup --camera device --camera-path /dev/video0 --bus dynamixel --port /dev/ttyUSB0 --record true

The nodes, their config files and what each argument changes come from
emo_bringup.graph, the same description the launch files use. Ctrl-C stops
every node (they go calm before torque off).
"""
import argparse
import os
import signal
import subprocess
import sys
import time

from emo_bringup.graph import (ARGUMENTS, NODE_ENV, config_dir, graph_nodes, profile_env_names, record_topics,
                               state_publisher)


def installed(package: str) -> bool:
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    try:
        get_package_prefix(package)
        return True
    except PackageNotFoundError:
        return False


def node_command(spec, scratch_dir: str = None) -> list:
    """The command line of one node: its namespace, log level, and parameters through files (a `-p`
    value is one line of YAML; a URDF is not): its config section with the arguments' overrides
    (for this node alone: `/**`), then the user's params_file, which wins."""
    import tempfile

    import yaml
    from ament_index_python.packages import get_package_prefix
    exe = os.path.join(get_package_prefix(spec.package), 'lib', spec.package, spec.executable)
    args = [exe, '--ros-args', '--log-level', spec.log_level, '-r', f'__node:={spec.name}']
    if spec.namespace:
        args += ['-r', f'__ns:=/{spec.namespace}']
    args += [a for src, dst in spec.remaps.items() for a in ('-r', f'{src}:={dst}')]
    parameters = spec.parameters()
    if parameters:
        fd, path = tempfile.mkstemp(prefix=f'{spec.name}_', suffix='.yaml', dir=scratch_dir)
        with os.fdopen(fd, 'w') as f:
            yaml.safe_dump({'/**': {'ros__parameters': parameters}}, f)
        args += ['--params-file', path]
    if spec.user_params:
        args += ['--params-file', spec.user_params]
    return args


def graph_env() -> dict:
    env = dict(os.environ)
    for name in profile_env_names():
        env.setdefault(name, env.get('FASTDDS_DEFAULT_PROFILES_FILE', os.path.join(config_dir(), 'fastdds.xml')))
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    for name, value in NODE_ENV.items():
        env.setdefault(name, value)
    return env


class RunningGraph:
    """The processes of one graph; a context manager that stops them cleanly."""

    def __init__(self, graph: str, args: dict, log_dir=None):
        specs = graph_nodes(graph, args) + [s for s in [state_publisher(args)] if s is not None]
        # Optional nodes (system ROS packages with no wheel) run where they are installed.
        self.specs = [s for s in specs if not s.optional or installed(s.package)]
        self.skipped = [s.package for s in specs if s not in self.specs]
        self.log_dir = log_dir
        self.procs = {}

    def start(self, only=None, skip=()) -> 'RunningGraph':
        env = graph_env()
        for spec in self.specs:
            if (only is not None and spec.name not in only) or spec.name in skip or spec.name in self.procs:
                continue
            out = open(os.path.join(self.log_dir, f'{spec.name}.log'), 'w') if self.log_dir else None
            self.procs[spec.name] = subprocess.Popen(node_command(spec, self.log_dir), env=env, stdout=out,
                                                     stderr=subprocess.STDOUT if out else None)
        return self

    def stop(self, name: str = None, timeout_s: float = 10.0) -> None:
        names = [name] if name else list(reversed(list(self.procs)))
        for n in names:
            p = self.procs.get(n)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
        for n in names:
            p = self.procs.get(n)
            if p is None:
                continue
            try:
                p.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def alive(self) -> dict:
        return {n: p.poll() is None for n, p in self.procs.items()}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--graph', default='coexpress', choices=['coexpress', 'mimicry', 'babble'])
    for name, (default, text) in ARGUMENTS.items():
        parser.add_argument('--' + name.replace('_', '-'), default=default, help=text)
    args = parser.parse_args(argv)
    values = {k: getattr(args, k) for k in ARGUMENTS}
    recorder = None
    with RunningGraph(args.graph, values) as graph:
        print(f"emo_bringup: {args.graph} graph running ({', '.join(graph.procs)}); Ctrl-C to stop", flush=True)
        for package in graph.skipped:
            print(f'emo_bringup: {package} is not installed (a system ROS package, no wheel): no TF tree; '
                  'the URDF: python -m emo_description.urdf', flush=True)
        try:
            if values['record'].lower() == 'true':
                recorder = _record(values['record_path'] or time.strftime('emo_%Y%m%d_%H%M%S'), record_topics(values))
            while all(graph.alive().values()):
                if recorder:
                    recorder[2].spin_once(timeout_sec=0.2)
                else:
                    time.sleep(0.2)
            dead = [n for n, ok in graph.alive().items() if not ok]
            print(f'emo_bringup: node(s) ended: {", ".join(dead)}; stopping the graph', file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            if recorder:
                counts = recorder[0].close()
                print(f'emo_bringup: recorded {counts} into {recorder[0].path}')
                recorder[1].destroy_node()
    return 0


def _record(path: str, topics: dict):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from emo_bringup.recorder import BagRecorder
    rclpy.init()
    node = rclpy.create_node('emo_recorder')
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    return BagRecorder(node, path, topics), node, ex


if __name__ == '__main__':
    sys.exit(main())
