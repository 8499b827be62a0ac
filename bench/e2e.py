"""Whole-loop benchmark on the demo graph at 30 fps (each node in its own process).

- e2e_latency_p50_ms / p99_ms: image capture stamp -> goals written on the bus.
  The stamp travels in every header (FaceLandmarks -> AnticipatedFace ->
  MotorCommands); the driver measures now - stamp when it writes the goals a
  command produced (its /diagnostics: stamp_to_goal_ms_*), which includes
  waiting for its next 50 Hz cycle.
- cpu_cores_used: CPU time of all graph processes / wall time, over the run.
"""
import json
import os
import sys
import tempfile
import time

SECONDS = 20.0


def cpu_seconds(pid: int) -> float:
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main() -> int:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor

    from emo_bringup.demo import wait_for_graph
    from emo_bringup.runner import Graph
    from emo_perception.demo_video import demo_clip
    demo_clip(progress=False)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('e2e_bench', context=context)
    ex = SingleThreadedExecutor(context=context)
    ex.add_node(node)
    latest = {}

    def on_diag(msg):
        for s in msg.status:
            if s.name.endswith('servo driver'):
                latest.update({v.key: v.value for v in s.values})
    node.create_subscription(DiagnosticArray, '/diagnostics', on_diag, 50)
    with tempfile.TemporaryDirectory() as logs:
        graph = Graph('coexpress', {'camera': 'demo', 'loop': 'true'}, logs)
        try:
            graph.start(skip=['eye_camera_left'])
            if not wait_for_graph(node, ex):
                raise RuntimeError('graph did not come up')
            graph.start(only=['eye_camera_left'])
            end = time.monotonic() + 5.0
            while time.monotonic() < end:
                ex.spin_once(timeout_sec=0.05)
            pids = [p.pid for p in graph.procs.values()]
            c0, t0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
            end = t0 + SECONDS
            while time.monotonic() < end:
                ex.spin_once(timeout_sec=0.05)
            cores = (sum(cpu_seconds(p) for p in pids) - c0) / (time.monotonic() - t0)
            per_node = {n: round(cpu_seconds(p.pid), 1) for n, p in graph.procs.items()}
        finally:
            graph.stop()
    ex.shutdown()
    node.destroy_node()
    context.try_shutdown()
    p50, p99 = float(latest['stamp_to_goal_ms_p50']), float(latest['stamp_to_goal_ms_p99'])
    print(f'  image stamp -> goal written: p50 {p50:.1f} ms, p99 {p99:.1f} ms; CPU {cores:.2f} cores', file=sys.stderr)
    figures = [
        {'name': 'e2e_latency_p50_ms', 'value': p50, 'unit': 'ms', 'goal': 15, 'better': 'lower'},
        {'name': 'e2e_latency_p99_ms', 'value': p99, 'unit': 'ms', 'goal': 30, 'better': 'lower'},
        {'name': 'cpu_cores_used', 'value': round(cores, 2), 'unit': 'cores', 'goal': 1.5, 'better': 'lower'},
    ]
    print(json.dumps({'figures': figures, 'details': {'driver_diagnostics': latest, 'cpu_seconds_per_node': per_node,
                                                      'seconds': SECONDS}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
