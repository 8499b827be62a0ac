"""Landmark node benchmarks on 640x480 frames of the demo clip.

1. Per-frame cost of the landmark step as the node runs it (MediaPipe face mesh
   in tracking mode + 113-point selection + face-frame alignment + message
   build), one frame after another: frames/s and latency p50/p95.
2. Through the nodes: the eye camera node (demo, 30 fps, its simulated capture
   latency set to 0 so a stamp is the frame's read time) and the landmark
   node in their own processes; a listener records image stamp ->
   FaceLandmarks received.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

FRAMES = 300


def per_frame() -> dict:
    import cv2
    from std_msgs.msg import Header

    from emo_sim.demo_video import demo_clip
    from emo_perception.face_frame import mesh_to_face_landmarks
    from emo_perception.face_mesh import FaceMeshTracker
    from emo_perception.landmarks_message import face_landmarks_msg

    cap = cv2.VideoCapture(str(demo_clip(progress=False).video_path))
    frames = []
    while len(frames) < FRAMES:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert frames[0].shape == (480, 640, 3)
    times = []
    with FaceMeshTracker(max_faces=2) as tracker:
        for i, rgb in enumerate(frames):
            t0 = time.perf_counter()
            meshes = tracker.process(rgb)
            sets = mesh_to_face_landmarks(meshes[0], 640, 480) if meshes else None
            face_landmarks_msg(Header(), 640, 480, sets)
            if i >= 10:  # after warm-up
                times.append((time.perf_counter() - t0) * 1e3)
    times = np.array(times)
    return {'fps': 1000.0 / times.mean(), 'p50': float(np.percentile(times, 50)),
            'p95': float(np.percentile(times, 95)), 'n': len(times)}


def through_nodes(seconds: float = 12.0) -> dict:
    import rclpy
    from ament_index_python.packages import get_package_prefix
    from emo_msgs.msg import FaceLandmarks, Topics
    from rclpy.executors import SingleThreadedExecutor

    lib = os.path.join(get_package_prefix('emo_perception'), 'lib', 'emo_perception')
    # The camera's simulated capture latency (capture_latency_s) is not compute: stamps = read time here.
    from emo_sim.demo_video import demo_clip
    args = {'eye_camera_node': ['--ros-args', '-p', f'source:={demo_clip(progress=False).video_path}',
                                '-p', 'capture_latency_s:=0.0'], 'landmark_node': []}
    procs = [subprocess.Popen([os.path.join(lib, exe)] + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for exe, extra in args.items()]
    lat, detected = [], [0]
    try:
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node('landmark_bench_listener', context=context)

        def on_msg(m):
            now = node.get_clock().now().nanoseconds
            lat.append((now - (m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec)) / 1e6)
            detected[0] += m.face_detected

        node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, on_msg, 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        t_end = time.monotonic() + seconds + 20.0
        while time.monotonic() < t_end and len(lat) < seconds * 30 + 30:
            executor.spin_once(timeout_sec=0.1)
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
    lat = np.array(lat[30:])  # drop start-up
    return {'p50': float(np.percentile(lat, 50)), 'p95': float(np.percentile(lat, 95)),
            'rate_hz': len(lat) / seconds, 'n': int(len(lat)), 'detected': int(detected[0])}


def main() -> int:
    a = per_frame()
    print(f"  per frame: {a['fps']:.1f} frames/s, p50 {a['p50']:.2f} ms, p95 {a['p95']:.2f} ms", file=sys.stderr)
    b = through_nodes()
    print(f"  through the nodes: stamp->landmarks p50 {b['p50']:.2f} ms, p95 {b['p95']:.2f} ms "
          f"({b['n']} messages)", file=sys.stderr)
    figures = [
        {'name': 'landmark_fps', 'value': round(a['fps'], 1), 'unit': 'frames/s', 'goal': 60, 'better': 'higher'},
        {'name': 'landmark_latency_p50_ms', 'value': round(a['p50'], 2), 'unit': 'ms', 'goal': None, 'better': 'lower'},
        {'name': 'landmark_latency_p95_ms', 'value': round(a['p95'], 2), 'unit': 'ms', 'goal': 20, 'better': 'lower'},
        {'name': 'landmark_stamp_to_publish_p50_ms', 'value': round(b['p50'], 2), 'unit': 'ms', 'goal': None,
         'better': 'lower'},
        {'name': 'landmark_stamp_to_publish_p95_ms', 'value': round(b['p95'], 2), 'unit': 'ms', 'goal': None,
         'better': 'lower'},
    ]
    print(json.dumps({'figures': figures, 'details': {'per_frame': a, 'through_nodes': b,
                                                      'input': '640x480 rgb8, demo clip, 30 fps'}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
