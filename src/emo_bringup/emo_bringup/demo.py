"""The main job (`make demo`): the robot smiles with the person, not after them.

    python -m emo_bringup.demo [--out demo_out/]

On built-in defaults only: the demo camera (a real face making expressions),
landmarks, the predictor, the inverse model and the driver on the simulated
bus with the simulated head, each node in its own process. The same clip runs
twice, in coexpression (mode anticipate) and in the mimicry baseline (mode
mimic). Each run is recorded into a rosbag2 MCAP bag; then, for every
expression, it measures when the person's face and the robot's face (from the
servos' actual positions, through the simulated head) arrive, and writes
summary.json and coexpression.png (in the spirit of the paper's Fig. 1C).
"""
import argparse
import json
import pathlib
import shutil
import sys
import time

import numpy as np

from emo_bringup.graph import RECORD_TOPICS
from emo_bringup.runner import Graph
from emo_bringup.timing import arrival_gaps, compare_modes, read_curves

CAMERA = 'eye_camera_left'


def wait_for_graph(node, executor, timeout_s: float = 60.0) -> bool:
    """Until the landmark, predictor, inverse and driver nodes are up (their topics have publishers)."""
    from emo_msgs.msg import Topics
    needed = [Topics.FACE_ANTICIPATED, Topics.MOTOR_COMMANDS, Topics.JOINT_STATES, Topics.ROBOT_FACE_LANDMARKS]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
        if all(node.count_publishers(t) > 0 for t in needed) and node.count_subscribers('/emo/eye_left/image_raw') > 0:
            return True
    return False


def clip_windows(clip, curves):
    """(start, end) stamp times of each expression of the demo clip, from its ground truth.

    The clip's frame 0 is found by aligning its ground-truth intensity with the
    person's measured expression curve (the first frames may be lost while the
    camera's publisher is discovered).
    """
    meta = json.loads((clip.video_path.parent / 'demo.json').read_text())
    truth = np.array(meta['intensity'])
    t = curves.human_t
    if len(t) < 10:
        return []
    grid = np.arange(t[0] - 5.0, t[-1], 1.0 / clip.fps)
    measured = np.interp(grid, t, curves.human, left=0.0, right=0.0)
    best, shift = -np.inf, 0
    for k in range(0, len(grid) - 30):
        n = min(len(truth), len(grid) - k)
        score = float(np.dot(truth[:n], measured[k:k + n] - measured[k:k + n].mean()))
        if score > best:
            best, shift = score, k
    t0 = grid[shift]
    return [(t0 + (e['onset_start_frame'] - 6) / clip.fps, t0 + (e['target_frame'] + 24) / clip.fps)
            for e in clip.expressions]


def run(mode: str, out: pathlib.Path, clip, log_dir: pathlib.Path) -> dict:
    clip_s = clip.num_frames / clip.fps
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from emo_bringup.recorder import BagRecorder
    bag = out / f'{mode}_bag'
    if bag.exists():
        shutil.rmtree(bag)
    log_dir.mkdir(parents=True, exist_ok=True)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('emo_demo_recorder', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    graph = Graph('coexpress', {'camera': 'demo', 'mode': mode, 'loop': 'false'}, str(log_dir))
    try:
        graph.start(skip=[CAMERA])
        if not wait_for_graph(node, executor):
            raise RuntimeError(f'the graph did not come up; see the logs in {log_dir}')
        recorder = BagRecorder(node, bag, RECORD_TOPICS)
        time.sleep(0.5)
        graph.start(only=[CAMERA])                       # the person appears once the robot is ready
        seen = []
        from emo_msgs.msg import FaceLandmarks, Topics
        node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, lambda m: seen.append(1), 10)
        deadline = time.monotonic() + 60.0
        while not seen and time.monotonic() < deadline:   # the camera process takes a moment to start
            executor.spin_once(timeout_sec=0.05)
        end = time.monotonic() + clip_s + 2.5
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        counts = recorder.close()
    finally:
        graph.stop()
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    curves = read_curves(bag)
    windows = clip_windows(clip, curves)
    return {'mode': mode, 'bag': str(bag), 'messages': counts, 'curves': curves, **arrival_gaps(curves, windows)}


def figure(runs: dict, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    for ax, (name, r) in zip(axes, runs.items()):
        c = r['curves']
        t0 = c.human_t[0] if len(c.human_t) else 0.0
        ax.plot(c.human_t - t0, c.human / max(c.human.max(), 1e-9), color='tab:blue', label='person (distance from rest)')
        ax.plot(c.robot_t - t0, c.robot / max(c.robot.max(), 1e-9), color='tab:red',
                label='robot face (actual servo positions)')
        for e in r['expressions']:
            if e['human_arrival'] is not None:
                ax.axvline(e['human_arrival'] - t0, color='tab:blue', ls=':', lw=1)
            if e['robot_arrival'] is not None:
                ax.axvline(e['robot_arrival'] - t0, color='tab:red', ls=':', lw=1)
            if e['gap_s'] is not None:
                ax.text(e['human_arrival'] - t0, 1.05, f"{e['gap_s'] * 1000:+.0f} ms", fontsize=9, ha='center')
        title = 'coexpression (anticipate)' if name == 'anticipate' else 'mimicry baseline'
        gap = r['median_gap_s']
        ax.set_title(f'{title}: median robot - person arrival {gap * 1000:+.0f} ms' if gap is not None else title)
        ax.set_ylabel('expression (normalized)')
        ax.set_ylim(-0.05, 1.2)
        ax.legend(loc='upper right', fontsize=8)
    axes[-1].set_xlabel('time (s)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('demo_out'))
    args = parser.parse_args(argv)
    from emo_perception.demo_video import demo_clip
    print('demo: preparing the demo camera clip (rendered once, then cached)...', flush=True)
    clip = demo_clip(progress=True)
    clip_s = clip.num_frames / clip.fps
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {}
    for mode in ('anticipate', 'mimic'):
        print(f'demo: running the graph in mode {mode} on the {clip_s:.0f} s clip...', flush=True)
        runs[mode] = run(mode, args.out, clip, args.out / f'{mode}_logs')
    figure(runs, args.out / 'coexpression.png')
    versus = compare_modes(runs['anticipate'], runs['mimic'])
    summary = {
        'clip': str(clip.video_path), 'expressions_in_clip': [e['label'] for e in clip.expressions],
        'runs': {m: {k: v for k, v in r.items() if k != 'curves'} for m, r in runs.items()},
        'coexpression_median_gap_ms': _ms(runs['anticipate']['median_gap_s']),
        'mimicry_median_gap_ms': _ms(runs['mimic']['median_gap_s']),
        'coexpression_median_abs_gap_ms': _ms(runs['anticipate']['median_abs_gap_s']),
        'mimicry_median_abs_gap_ms': _ms(runs['mimic']['median_abs_gap_s']),
        'coexpression_advance_ms': [_ms(a) for a in versus['advance_s']],
        'coexpression_median_advance_ms': _ms(versus['median_advance_s']),
        'expressions_where_coexpression_is_earlier': versus['expressions_earlier'],
        'expressions_compared': versus['expressions_compared'],
    }
    (args.out / 'summary.json').write_text(json.dumps(summary, indent=1, default=float))
    print('\nrobot face arrival - person face arrival, per expression:')
    for m, r in runs.items():
        gaps = ', '.join('n/a' if e['gap_s'] is None else f"{e['gap_s'] * 1000:+.0f} ms" for e in r['expressions'])
        print(f'  {m:10s} {gaps}')
    print(f"median gap: coexpression {summary['coexpression_median_gap_ms']} ms, "
          f"mimicry {summary['mimicry_median_gap_ms']} ms (negative: the robot is early)")
    print(f"median |gap|: coexpression {summary['coexpression_median_abs_gap_ms']} ms, "
          f"mimicry {summary['mimicry_median_abs_gap_ms']} ms")
    print(f"coexpression's robot face arrives {summary['coexpression_median_advance_ms']} ms earlier than "
          f"mimicry's (median), earlier on {versus['expressions_earlier']} of {versus['expressions_compared']} expressions")
    print(f'wrote {args.out / "summary.json"}, {args.out / "coexpression.png"} and the bags '
          f'{args.out / "anticipate_bag"}, {args.out / "mimic_bag"}')
    return 0


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 1)


if __name__ == '__main__':
    sys.exit(main())
