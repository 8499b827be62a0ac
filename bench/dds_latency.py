"""Cross-process latency of emo_msgs/FaceLandmarks over Fast DDS at 30 Hz.

One process publishes full landmark messages (113 points in both frames) with
header.stamp = send time; another receives them and records receive time -
stamp (both read the same system clock). Each Fast DDS transport setting and
rclpy executor is tried; the fastest setting gives the figures.

    python bench/dds_latency.py            # all settings, prints JSON figures
    python bench/dds_latency.py --role sub --count 300 --executor events
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

RATE_HZ = 30.0


def _executor(name, context):
    from rclpy.executors import SingleThreadedExecutor
    if name == 'events':
        from rclpy.experimental import EventsExecutor
        return EventsExecutor(context=context)
    return SingleThreadedExecutor(context=context)


def _run(role: str, count: int, executor_name: str, out_path: str) -> None:
    import rclpy
    from emo_msgs.msg import FaceLandmarks, Topics
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(f'dds_latency_{role}', context=context)
    executor = _executor(executor_name, context)
    executor.add_node(node)
    latencies = []
    if role == 'pub':
        pub = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, qos)
        msg = FaceLandmarks(face_detected=True, detection_confidence=1.0, image_width=640,
                            image_height=480, image_xy=np.arange(226, dtype=np.float32).tolist(),
                            face_xy=np.linspace(-1, 1, 226, dtype=np.float32).tolist())
        sent = [0]

        def tick():
            if pub.get_subscription_count() == 0:
                return
            msg.header.stamp = node.get_clock().now().to_msg()
            pub.publish(msg)
            sent[0] += 1

        node.create_timer(1.0 / RATE_HZ, tick)
        deadline = time.monotonic() + count / RATE_HZ + 30.0
        # Stop once the receiver has its count and left, or after enough messages.
        while sent[0] < count + 30 and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            if sent[0] > 0 and pub.get_subscription_count() == 0:
                break
    else:
        def on_msg(m):
            now = node.get_clock().now().nanoseconds
            stamp = m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec
            latencies.append((now - stamp) / 1e6)

        node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, on_msg, qos)
        deadline = time.monotonic() + count / RATE_HZ + 30.0
        while len(latencies) < count and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
        with open(out_path, 'w') as f:
            json.dump(latencies, f)
    executor.shutdown()
    node.destroy_node()
    context.try_shutdown()


def measure(transport: str, executor_name: str, count: int, tmp_dir: str) -> np.ndarray:
    env = dict(os.environ)
    if transport == 'DEFAULT':
        env.pop('FASTDDS_BUILTIN_TRANSPORTS', None)
    else:
        env['FASTDDS_BUILTIN_TRANSPORTS'] = transport
    out_path = os.path.join(tmp_dir, f'lat_{transport}_{executor_name}.json')
    args = [sys.executable, __file__, '--count', str(count), '--executor', executor_name, '--out', out_path]
    sub = subprocess.Popen(args + ['--role', 'sub'], env=env)
    pub = subprocess.Popen(args + ['--role', 'pub'], env=env)
    sub.wait(timeout=count / RATE_HZ + 60)
    pub.wait(timeout=60)
    with open(out_path) as f:
        lat = np.array(json.load(f))
    if len(lat) < count:
        raise RuntimeError(f'{transport}/{executor_name}: received {len(lat)} of {count} messages')
    return lat[10:]  # the first messages include discovery


def main() -> int:
    import tempfile
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--role', choices=['pub', 'sub'])
    parser.add_argument('--count', type=int, default=310)
    parser.add_argument('--executor', default='events', choices=['single', 'events'])
    parser.add_argument('--out', default='')
    args = parser.parse_args()
    if args.role:
        _run(args.role, args.count, args.executor, args.out)
        return 0

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for transport in ['DEFAULT', 'UDPv4', 'SHM', 'LARGE_DATA']:
            for executor_name in ['single', 'events']:
                lat = measure(transport, executor_name, args.count, tmp)
                rows.append({'transport': transport, 'executor': executor_name, 'n': int(len(lat)),
                             'p50_ms': float(np.percentile(lat, 50)), 'p99_ms': float(np.percentile(lat, 99))})
                print(f"  {transport:10s} {executor_name:7s} p50 {rows[-1]['p50_ms']:.3f} ms  "
                      f"p99 {rows[-1]['p99_ms']:.3f} ms", file=sys.stderr)
    best = min(rows, key=lambda r: (r['p50_ms'] + r['p99_ms']))
    setting = f"FASTDDS_BUILTIN_TRANSPORTS={best['transport']}, {best['executor']} executor"
    figures = [
        {'name': 'dds_landmarks_latency_p50_ms', 'value': round(best['p50_ms'], 3), 'unit': 'ms',
         'goal': 2.0, 'better': 'lower', 'setting': setting},
        {'name': 'dds_landmarks_latency_p99_ms', 'value': round(best['p99_ms'], 3), 'unit': 'ms',
         'goal': 5.0, 'better': 'lower', 'setting': setting},
    ]
    print(json.dumps({'figures': figures, 'details': {'dds_latency_settings': rows}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
