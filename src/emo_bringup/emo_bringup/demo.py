"""The main job (`make demo`): the robot smiles with the person, not after them.

    python -m emo_bringup.demo [--out demo_out/]

On built-in defaults only: the demo camera (a real face making expressions),
landmarks, the predictor, the inverse model and the driver on the simulated
bus with the simulated head, each node in its own process. The simulated parts
are as slow as a real head (`--plant real`, the default: the camera's capture
latency, the servos' firmware profile and speed under load, the skin's lag;
values and sources in the config files); `--plant ideal` makes them instant. The same clip runs
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
from emo_msgs.msg import AnticipatedFace

from emo_bringup.graph import RECORD_TOPICS
from emo_bringup.runner import RunningGraph
from emo_bringup.timing import arrival_gaps, compare_modes, read_curves

CAMERA = 'eye_camera_left'
ANTICIPATE, MIMIC = AnticipatedFace.MODE_ANTICIPATE, AnticipatedFace.MODE_MIMIC


def wait_for_graph(node, executor, timeout_s: float = 60.0) -> bool:
    """Until the landmark, predictor, inverse and driver nodes are up (their topics have publishers)."""
    from emo_msgs.msg import Topics
    needed = [Topics.FACE_ANTICIPATED, Topics.MOTOR_COMMANDS, Topics.JOINT_STATES, Topics.ROBOT_FACE_LANDMARKS]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
        if all(node.count_publishers(t) > 0 for t in needed) and node.count_subscribers(Topics.EYE_LEFT_IMAGE) > 0:
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


def run(mode: str, out: pathlib.Path, clip, log_dir: pathlib.Path, plant: str = 'real', predictor_stand_in=None) -> dict:
    """One run of the clip through the graph. predictor_stand_in(node): sets up, on the recording node,
    what publishes the anticipated faces instead of predictor_node (bench/demo_bound.py's oracle)."""
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
    graph = RunningGraph('coexpress', {'camera': 'demo', 'mode': mode, 'loop': 'false', 'plant': plant}, str(log_dir))
    predictor = {}

    def on_diagnostics(msg):
        for status in msg.status:
            if status.name.endswith('anticipation'):
                predictor.update({v.key: v.value for v in status.values})
    try:
        skip = [CAMERA] + (['predictor_node'] if predictor_stand_in is not None else [])
        graph.start(skip=skip)
        if predictor_stand_in is not None:
            predictor_stand_in(node)
        if not wait_for_graph(node, executor):
            raise RuntimeError(f'the graph did not come up; see the logs in {log_dir}')
        from diagnostic_msgs.msg import DiagnosticArray
        node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 50)
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
    horizon = {k: predictor[k] for k in ('horizon_s', 'robot_lag_s', 'input_latency_s') if k in predictor}
    return {'mode': mode, 'bag': str(bag), 'messages': counts, 'curves': curves, 'windows': windows,
            'labels': [e['label'] for e in clip.expressions], 'predictor_horizon': horizon,
            **arrival_gaps(curves, windows)}


def _segment(curves_t, curves_d, window, hold_s: float = 0.4):
    """(time from the window's start, curve as a share of its hold level) of one expression."""
    a, b = window
    m = (curves_t >= a - 0.6) & (curves_t <= b + 0.8)
    hold = (curves_t >= b - hold_s) & (curves_t <= b)
    before = (curves_t >= a - 0.6) & (curves_t <= a)
    lo = float(np.median(curves_d[before])) if before.any() else 0.0
    hi = float(np.median(curves_d[hold])) if hold.any() else 1.0
    return curves_t[m] - a, (curves_d[m] - lo) / max(hi - lo, 1e-9)


def figure(runs: dict, path: pathlib.Path) -> None:
    """One panel per expression: the person, the coexpression robot and the mimicry robot on one time
    axis (each run aligned on the clip), their arrivals (90 % of the way to the held face) and gaps."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    co, mi = runs[ANTICIPATE], runs[MIMIC]
    n = min(len(co['windows']), len(mi['windows']))
    if n == 0:
        return
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.6 * n), squeeze=False)
    style = {'person': ('tab:blue', '-'), 'coexpression': ('tab:red', '-'), 'mimicry': ('tab:gray', '--')}
    for k, ax in enumerate(axes[:, 0]):
        rows = {'person': (co['curves'].human_t, co['curves'].human, co['windows'][k], co['expressions'][k]['human_arrival']),
                'coexpression': (co['curves'].robot_t, co['curves'].robot, co['windows'][k], co['expressions'][k]['robot_arrival']),
                'mimicry': (mi['curves'].robot_t, mi['curves'].robot, mi['windows'][k], mi['expressions'][k]['robot_arrival'])}
        for name, (t, d, window, arrival) in rows.items():
            x, y = _segment(t, d, window)
            color, ls = style[name]
            ax.plot(x, y, color=color, ls=ls, label=name if k == 0 else None)
            if arrival is not None:
                ax.axvline(arrival - window[0], color=color, ls=':', lw=1)
        gaps = []
        for name, r in (('coexpression', co), ('mimicry', mi)):
            gap = r['expressions'][k]['gap_s']
            gaps.append(f"{name} {'n/a' if gap is None else f'{gap * 1000:+.0f} ms'}")
        label = co.get('labels', [None] * n)[k] or f'expression {k + 1}'
        ax.set_title(f"{label}: robot arrival - person arrival: {', '.join(gaps)}", fontsize=10)
        ax.axhline(0.9, color='k', lw=0.5, alpha=0.4)
        ax.set_ylim(-0.2, 1.6)
        ax.set_ylabel('share of the\nheld expression')
    axes[0, 0].legend(loc='upper left', fontsize=8, ncol=3)
    axes[-1, 0].set_xlabel('time from the start of the expression (s); dotted: arrival at 90 %')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plant_summary(plant: str) -> dict:
    """The simulated plant's parameters (from the config files) and the lag the self-model measured."""
    import yaml

    from emo_bringup.graph import config_dir
    from emo_inverse.robot_lag import default_self_model_path, read_lag
    from emo_description.head import load_head
    head = load_head()
    camera = yaml.safe_load(pathlib.Path(config_dir(), 'eye_camera.yaml').read_text())['eye_camera_left']['ros__parameters']
    real = plant == 'real'
    return {'plant': plant,
            'camera_capture_latency_s': camera.get('capture_latency_s', 0.0) if real else 0.0,
            'servo_profile': ('firmware velocity profile: Profile Velocity = max_velocity, Profile Acceleration = '
                              'dynamics.max_acceleration, capped by the speed under load') if real else
                             'ideal: max_velocity x 1.2, no acceleration limit',
            'max_velocity_ticks_s': dict(zip(head.names, head.max_velocity.tolist())),
            'dynamics': head.dynamics.summary(head.names) if real else 'ideal (no skin lag)',
            'measured_robot_lag': read_lag(default_self_model_path())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=pathlib.Path, default=pathlib.Path('demo_out'))
    parser.add_argument('--plant', choices=('real', 'ideal'), default='real',
                        help='real: camera latency, servo profile under load and skin lag as the config files say; '
                             'ideal: instant simulated parts')
    args = parser.parse_args(argv)
    from emo_sim.demo_video import demo_clip
    print('demo: preparing the demo camera clip (rendered once, then cached)...', flush=True)
    clip = demo_clip(progress=True)
    clip_s = clip.num_frames / clip.fps
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {}
    for mode in (ANTICIPATE, MIMIC):
        print(f'demo: running the graph in mode {mode} on the {clip_s:.0f} s clip...', flush=True)
        runs[mode] = run(mode, args.out, clip, args.out / f'{mode}_logs', args.plant)
    figure(runs, args.out / 'coexpression.png')
    versus = compare_modes(runs[ANTICIPATE], runs[MIMIC])
    plant = plant_summary(args.plant)
    summary = {
        'clip': str(clip.video_path), 'expressions_in_clip': [e['label'] for e in clip.expressions],
        'runs': {m: {k: v for k, v in r.items() if k != 'curves'} for m, r in runs.items()},
        'plant': plant,
        'measured_robot_lag_s': (plant['measured_robot_lag'] or {}).get('lag_s'),
        'predictor_horizon': runs[ANTICIPATE]['predictor_horizon'],
        'coexpression_median_gap_ms': _ms(runs[ANTICIPATE]['median_gap_s']),
        'mimicry_median_gap_ms': _ms(runs[MIMIC]['median_gap_s']),
        'coexpression_median_abs_gap_ms': _ms(runs[ANTICIPATE]['median_abs_gap_s']),
        'mimicry_median_abs_gap_ms': _ms(runs[MIMIC]['median_abs_gap_s']),
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
    h = summary['predictor_horizon']
    print(f"plant {args.plant}: the robot's lag measured by babbling {summary['measured_robot_lag_s']} s; the predictor "
          f"looked {h.get('horizon_s', '?')} s ahead (that lag + the frames' measured age {h.get('input_latency_s', '?')} s)")
    print(f"coexpression's robot face arrives {summary['coexpression_median_advance_ms']} ms earlier than "
          f"mimicry's (median), earlier on {versus['expressions_earlier']} of {versus['expressions_compared']} expressions")
    print(f'wrote {args.out / "summary.json"}, {args.out / "coexpression.png"} and the bags '
          f'{args.out / "anticipate_bag"}, {args.out / "mimic_bag"}')
    return 0


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 1)


if __name__ == '__main__':
    sys.exit(main())
