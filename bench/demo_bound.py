"""How early can any predictor make the robot's face arrive in `make demo`? A bound, offline.

The demo's chain is replayed without ROS: the demo clip's frames through MediaPipe (the
landmark node's own functions), each face reaching the stack `capture_latency_s` + the
measured compute later, the inverse node's arithmetic (rest face, normalization, the
shipped self-model), the driver's HeadController (50 Hz and on every command, as
write_on_command does), the servos' firmware profile under load and the skin's lag (the
same functions as `make demo`'s plant: real), and the simulated head's face. Arrivals and
gaps are measured as `make demo` measures them (emo_bringup.timing).

Policies replayed (each a face to command per observed frame):
- mimicry: the current face (the paper's baseline; checks the replay against make demo);
- coexpression: the shipped predictor (Anticipator, as predictor_node builds it);
- oracle k: from k frames after the true onset start (ground truth of the clip), the
  person's *held* face, known exactly; before that, the current face. No causal predictor
  can do better than the oracle whose k is the frame it detects the onset at, since it
  neither knows the onset sooner nor the final face better.
- detectable: the first frame after the onset start at which the person's measured face has
  moved from their rest face by more than `sigmas` x the SD of that distance over the calm
  frames before the onset (MediaPipe's jitter on this clip): before it, the onset is not in
  the data, whatever the detector.

    python bench/demo_bound.py [--out results/demo_bound.json]    # make demo-bound
"""
import argparse
import json
import pathlib
import sys

import numpy as np

from emo_bringup.chain_replay import RobotChain
from emo_common.provenance import git_commit

HERE = pathlib.Path(__file__).resolve().parent
ORACLE_K = tuple(range(0, 16))
OVERDRIVE_SCALES = (1.0, 1.5, 2.0, 3.0)
OVERDRIVE_FRAMES = (2, 4, 6, 9, 12)


def person_faces(clip):
    """(t (n,), faces (n, 113, 2)) of the clip as the landmark node sees it (NaN where no face)."""
    from emo_prediction.training.build_dataset import video_face_xy
    faces, _ = video_face_xy(clip.video_path)
    return np.arange(len(faces)) / clip.fps, faces


def coexpression_faces(t, faces, horizon_s: float):
    """The shipped predictor's face per frame, as predictor_node builds it in make demo."""
    from emo_bringup.graph import DEMO_ACTIVATION_MIN        # what the graph sets for camera:=demo
    from emo_prediction.anticipator import Anticipator
    from emo_prediction.detector import DetectorParams
    from emo_common.layout import landmark_layout
    from emo_prediction.forecast_model import OnlineAdaptation
    from emo_prediction.model import NumpyPredictor, default_model_path, load_checkpoint, load_forecaster
    path = default_model_path()
    model, meta = load_checkpoint(path)
    forecaster, _ = load_forecaster(path, max_gap_s=0.5)
    forecaster = OnlineAdaptation(forecaster, horizon_s=horizon_s)
    _, ids, _ = landmark_layout()
    a = Anticipator(NumpyPredictor.from_model(model), 'anticipate', float(meta.get('median_lead_s', 0.8)), 30.0,
                    DetectorParams(activation_min=DEMO_ACTIVATION_MIN), ids, horizon_s, forecaster)
    out = []
    for ti, f in zip(t, faces):
        r = a.update(float(ti), f if np.isfinite(f).all() else None)
        out.append(None if r is None else r.face_xy)
    return out


def detectable_frame(t, curve, start_frame, sigmas: float, calm_s: float = 1.5):
    """Frames after the onset start until the face has left its calm noise (sigmas x SD) for good."""
    calm = (t >= t[start_frame] - calm_s) & (t < t[start_frame])
    mu, sd = float(np.mean(curve[calm])), float(np.std(curve[calm]))
    above = curve[start_frame:] > mu + sigmas * sd
    for k in range(len(above)):
        if above[k:k + 3].all():
            return k, sd
    return None, sd


class Oracle:
    """Knows the clip: from `first` frames after each onset start (per expression), the person's held
    face; with scale > 1, for the first `boost` of those frames rest + scale x (held - rest) (overdrive: a
    servo told to go further brakes later). Outside the expressions, the current face (mimicry)."""

    def __init__(self, clip, rest, held, ends, plan):
        self.spans = []
        for e, target, end in zip(clip.expressions, held, ends):
            first, scale, boost = plan[e['label']]
            self.spans.append((e['onset_start_frame'] + first, end, target, rest + scale * (target - rest), boost))

    def face(self, i: int, current):
        for first, end, target, boosted, boost in self.spans:
            if first <= i <= end:
                return boosted if i < first + boost else target
        return current


def graph_run(clip, oracle, out: pathlib.Path, tag: str) -> dict:
    """One make demo run with the oracle publishing the anticipated faces instead of predictor_node."""
    from builtin_interfaces.msg import Duration
    from emo_msgs.msg import AnticipatedFace, FaceLandmarks, Topics

    from emo_bringup import demo
    first_stamp = []

    def stand_in(node):
        pub = node.create_publisher(AnticipatedFace, Topics.FACE_ANTICIPATED, 10)

        def on_face(msg):
            if not msg.face_detected:
                return
            s = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            if not first_stamp:
                first_stamp.append(s)
            i = int(round((s - first_stamp[0]) * clip.fps))
            face = np.asarray(oracle.face(i, np.array(msg.face_xy, np.float32).reshape(113, 2)), np.float32)
            pub.publish(AnticipatedFace(header=msg.header, mode=AnticipatedFace.MODE_ANTICIPATE,
                                        peak_activation_stamp=msg.header.stamp, lead_time=Duration(),
                                        face_xy=face.ravel().tolist(), confidence=1.0))
        node.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, on_face, 10)

    r = demo.run('anticipate', out, clip, out / 'logs' / tag, 'real', predictor_stand_in=stand_in)
    gaps = [None if e['gap_s'] is None else round(1e3 * e['gap_s'], 1) for e in r['expressions']]
    # The oracle counts frames from the first face it saw; the clip's frame 0 as make demo aligns it:
    t0 = r['windows'][0][0] - (clip.expressions[0]['onset_start_frame'] - 6) / clip.fps if r['windows'] else None
    return {'gaps_ms': dict(zip(r['labels'], gaps)),
            'median_abs_gap_ms': None if r['median_abs_gap_s'] is None else round(1e3 * r['median_abs_gap_s'], 1),
            'frame_offset': None if t0 is None or not first_stamp else round((first_stamp[0] - t0) * clip.fps, 2)}


def median_abs(gaps: dict):
    vals = [abs(v) for v in gaps.values()]
    return round(float(np.median(vals)), 1) if vals and None not in vals else None


def main(argv=None) -> int:
    import yaml

    from emo_bringup.graph import config_dir
    from emo_bringup.timing import Curves, _distance_curve, arrival_gaps
    from emo_inverse.robot_lag import default_self_model_path, read_lag
    from emo_sim.demo_video import demo_clip
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=str(HERE.parent / 'results' / 'demo_bound.json'))
    parser.add_argument('--compute-s', type=float, default=0.013,
                        help='camera read to goals written (make bench e2e p50: 13 ms)')
    parser.add_argument('--sigmas', type=float, default=3.0)
    parser.add_argument('--graph', action='store_true', help='also run the bounds in the real graph (make demo)')
    args = parser.parse_args(argv)

    camera = yaml.safe_load(pathlib.Path(config_dir(), 'eye_camera.yaml').read_text())
    capture = float(camera['eye_camera_left']['ros__parameters']['capture_latency_s'])
    clip = demo_clip()
    t, faces = person_faces(clip)
    arrivals = t + capture + args.compute_s
    ht, hc = _distance_curve(t, faces)
    windows = [((e['onset_start_frame'] - 6) / clip.fps, (e['target_frame'] + 24) / clip.fps)
               for e in clip.expressions]
    ends = [int(round(b * clip.fps)) for _, b in windows]
    labels = [e['label'] for e in clip.expressions]
    lag = read_lag(default_self_model_path())
    horizon = lag['lag_s'] + capture + args.compute_s
    rest = np.nanmean(faces[:10], axis=0)
    held = [np.nanmedian(faces[(t >= b - 0.4) & (t <= b)], axis=0) for _, b in windows]

    def oracle(plan):
        return Oracle(clip, rest, held, ends, plan)

    def replay(shown, person_arrivals=False):
        rt, rf = RobotChain().run(arrivals, faces, shown)
        rt, rc = _distance_curve(rt, rf)
        g = arrival_gaps(Curves(t, hc, rt, rc), windows)
        gaps = dict(zip(labels, [None if e['gap_s'] is None else round(1e3 * e['gap_s'], 1) for e in g['expressions']]))
        out = {'gaps_ms': gaps, 'median_abs_gap_ms': median_abs(gaps)}
        if person_arrivals:
            out['person_arrival_s'] = [e['human_arrival'] for e in g['expressions']]
        return out

    def replay_oracle(plan):
        o = oracle(plan)
        return replay([o.face(i, f) for i, f in enumerate(faces)])

    result = {'commit': git_commit(short=True, where=HERE),
              'clip': 'demo clip ' + json.loads((clip.video_path.parent / 'demo.json').read_text())['version'],
              'protocol': ('offline replay of the make demo chain (plant real): frames arrive capture_latency_s + '
                           'compute_s after capture; gap = robot 90 % arrival - person 90 % arrival (emo_bringup.timing)'),
              'capture_latency_s': capture, 'compute_s': args.compute_s, 'horizon_s': round(horizon, 4),
              'robot_lag': {k: lag.get(k) for k in ('lag_s', 't50_s', 't90_s')},
              'onsets': {e['label']: {'onset_s': e['onset_s']} for e in clip.expressions}}
    result['mimicry'] = replay(list(faces), person_arrivals=True)
    for e, arrival in zip(clip.expressions, result['mimicry'].pop('person_arrival_s')):
        result['onsets'][e['label']]['person_90pct_after_onset_start_s'] = (
            None if arrival is None else round(arrival - e['onset_start_frame'] / clip.fps, 3))
    result['coexpression'] = replay(coexpression_faces(t, faces, horizon))
    result['oracle'] = {str(k): replay_oracle({lb: (k, 1.0, 0) for lb in labels}) for k in ORACLE_K}
    detect = {}
    for e in clip.expressions:
        k, sd = detectable_frame(t, hc, e['onset_start_frame'], args.sigmas)
        detect[e['label']] = {'frames_after_onset_start': k, 'calm_sd': round(sd, 5)}
    result['detectable'] = {'sigmas': args.sigmas, 'per_expression': detect}

    # The bounds: per expression, the earliest arrival of any oracle policy that starts at its first frame
    # (0: the onset known at its first frame, which no causal detector does; or the first frame the onset
    # is detectable), plain or overdriven. An expression that can arrive early can arrive on time by
    # starting later, so its bound on |gap| is max(0, earliest gap).
    for name, first in (('onset_known', lambda label: 0),
                        ('detectable', lambda label: detect[label]['frames_after_onset_start'] or 0)):
        best = {}
        for scale in OVERDRIVE_SCALES:
            for frames in (OVERDRIVE_FRAMES if scale > 1 else (0,)):
                plan = {lb: (first(lb), scale, frames) for lb in labels}
                r = replay_oracle(plan)
                for lb in labels:
                    g = r['gaps_ms'][lb]
                    if g is not None and (lb not in best or g < best[lb][0]):
                        best[lb] = (g, plan[lb])
        earliest = {lb: best[lb][0] if lb in best else None for lb in labels}
        bound = {lb: None if g is None else max(0.0, g) for lb, g in earliest.items()}
        result[f'bound_{name}'] = {'earliest_gaps_ms': earliest, 'abs_gaps_ms': bound,
                                   'median_abs_gap_ms': median_abs(bound),
                                   'policy': {lb: dict(zip(('first_frame', 'scale', 'boost_frames'), best[lb][1]))
                                              for lb in best}}

    if args.graph:
        # The same policies in the real graph: the oracle as a stand-in for predictor_node.
        out_dir = HERE.parent / 'demo_out' / 'bound_runs'          # bags and logs, not results
        plans = {'mimicry (stand-in)': {lb: (10 ** 6, 1.0, 0) for lb in labels}}
        for name in ('onset_known', 'detectable'):
            policy = result[f'bound_{name}']['policy']
            plans[f'bound_{name}'] = {lb: (policy[lb]['first_frame'], policy[lb]['scale'], policy[lb]['boost_frames'])
                                      for lb in labels}
        # Sensitivity: the detectable policy two frames later (the onset seen at 5 % of its rise, not 2 %).
        plans['bound_detectable_plus_2_frames'] = {lb: (f + 2, sc, b) for lb, (f, sc, b) in plans['bound_detectable'].items()}
        result['graph'] = {name: graph_run(clip, oracle(plan), out_dir, name.split(' ')[0]) for name, plan in plans.items()}
        for name, r in result['graph'].items():
            if name.startswith('bound'):     # as above: what arrives early can arrive on time
                r['bound_median_abs_gap_ms'] = median_abs({lb: None if g is None else max(0.0, g)
                                                           for lb, g in r['gaps_ms'].items()})

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + '\n')
    print(f"commit {result['commit']}; {result['protocol']}")
    print(f"{'policy':<26}" + ''.join(f'{lb:>12}' for lb in labels) + f"{'median|gap|':>13}")
    rows = [('mimicry', result['mimicry']['gaps_ms']), ('coexpression (shipped)', result['coexpression']['gaps_ms'])]
    rows += [(f'oracle from frame {k}', result['oracle'][str(k)]['gaps_ms']) for k in ORACLE_K]
    rows += [('|gap| >= (onset known)', result['bound_onset_known']['abs_gaps_ms']),
             ('|gap| >= (detectable)', result['bound_detectable']['abs_gaps_ms'])]
    rows += [(f'graph: {name}', r['gaps_ms']) for name, r in result.get('graph', {}).items()]
    for name, gaps in rows:
        print(f'{name:<26}' + ''.join(f'{str(gaps[lb]):>12}' for lb in labels) + f'{str(median_abs(gaps)):>13}')
    print('detectable (frames after the onset start at which the face has left %g SD of its calm jitter): ' % args.sigmas
          + ', '.join(f"{lb} {d['frames_after_onset_start']}" for lb, d in detect.items()))
    for name, r in result.get('graph', {}).items():
        bound = f"; bound on the median |gap| (early made on time) {r['bound_median_abs_gap_ms']} ms" \
            if 'bound_median_abs_gap_ms' in r else ''
        print(f"graph {name}: the oracle's frame count was {r['frame_offset']} frames off the clip's alignment{bound}")
    print(f'written {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
