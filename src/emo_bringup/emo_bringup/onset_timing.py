"""When the robot's face arrives on real people's expressions (`make onset-timing`).

    python -m emo_bringup.onset_timing --onsets ../shared/data/real_onsets --out results/onset_timing.json

make demo times the robot on one rendered face; this times it on every labelled onset of the real
people, leave-person-out, with make evaluate's folds, retrained models and per-person detector choice
(`FoldSetup`, the same seed). For each policy, the face the predictor publishes for every frame (replayed
over the person's whole sequence, as its node runs it) goes through the chain offline as make demo runs
it (`emo_bringup.chain_replay`: a frame reaches the stack `capture_latency_s` + `compute_s` after its
capture; the person's rest face is the onset's labelled calm frames; the shipped self-model; the driver's
controller; the servos' profile under load; the skin's lag; the simulated head).

Arrival, at 90 % as make demo's: the person's is the onset's labelled `t90_frame` (90 % of the way to the
apex); the robot's is the first control cycle from the rise on at which its face covers 90 % of the way
from where it was at the rise to the face the reference commands make (the self-model's commands for the
normalized apex, settled), along that displacement. gap = robot - person (negative: early). A robot face
that has not got there `max_late_s` after the person is counted as not arriving (its |gap| counts as
`max_late_s` in the comparisons, so a policy gains nothing by never arriving). Policies: mimicry (the
current face, the paper's baseline), constant velocity (a line through the last 0.1 s, one horizon
ahead) and the anticipator with each `onset_face`; `nested_choice` is the
anticipator with the onset_face chosen for each person on the other people's onsets alone (by arrival
alone: the node's default also weighs the face error make evaluate measures). `apex_at_rise` is not a policy
but a bound: an oracle commanding the apex face from the labelled rise start, how early any predictor could
make the robot arrive through this plant.
"""
import argparse
import json
import pathlib
import time

import numpy as np

# The simple baselines (mimicry: the current face; constant velocity: a line through the last 0.1 s, one horizon
# ahead), then the anticipator's onset_face values (the candidates of the nested choice).
BASELINES = ('mimicry', 'constant_velocity')
POLICIES = BASELINES + ('paced', 'extrapolated')
# Not a policy, a bound: no causal predictor knows the apex at the rise's first frame.
BOUND = 'apex_at_rise'
ARRIVAL = 0.9
PREROLL_S = 2.0          # the robot settles on the person's calm face before the sequence starts


def progress(faces, start, end) -> np.ndarray:
    """How far each face is along the way from `start` to `end` (0 at start, 1 at end), by projection."""
    d = (np.asarray(end, np.float64) - np.asarray(start, np.float64)).ravel()
    n2 = float(d @ d)
    if n2 <= 1e-12:
        return np.full(len(faces), np.nan)
    x = np.asarray(faces, np.float64).reshape(len(faces), -1) - np.asarray(start, np.float64).ravel()
    return x @ d / n2


def first_arrival(t, p, t_from: float, level: float = ARRIVAL):
    """The first time from t_from on at which progress p reaches `level`, or None."""
    hit = np.flatnonzero((np.asarray(t) >= t_from) & (np.asarray(p) >= level))
    return float(t[hit[0]]) if len(hit) else None


def robot_face_of(chain, face, rest) -> np.ndarray:
    """The robot's settled face for a person's face: normalized, the self-model's commands, the head."""
    commands = np.clip(chain.inverse.predict(chain.normalizer(face, rest)), 0.0, 1.0)
    return chain.twin.face_of_commands(commands)


def apex_at_rise(face_xy, onset) -> np.ndarray:
    """The person's faces with the apex (target_frame's face) commanded from the labelled rise start to the apex:
    how early any predictor could make the robot arrive on this onset (an oracle: it knows the apex when the face
    has barely started to move)."""
    told = np.array(face_xy, copy=True)
    told[onset['rise_start_frame']:onset['target_frame'] + 1] = face_xy[onset['target_frame']]
    return told


def onset_gaps(seq, onset, shown, chain, delay_s: float, max_late_s: float) -> dict:
    """Robot and person arrival on one labelled onset, for the faces `shown` per frame (NaN: nothing)."""
    face = seq.face_xy.astype(np.float64)
    r0, r1 = onset['rest_frames']
    rest = np.nanmean(face[r0:r1 + 1], axis=0)
    fps = seq.fps
    pre = int(round(PREROLL_S * fps))
    person = np.concatenate([np.repeat(rest[None], pre, axis=0), face])
    frames = [rest] * pre + [None if not np.isfinite(s).all() else s for s in shown]
    times = (np.arange(len(person)) - pre) / fps
    rt, rf = chain.run(times + delay_s, person, frames, rest=rest, tail_s=max_late_s + 0.5)
    rise_t, person_t = onset['rise_start_frame'] / fps, onset['t90_frame'] / fps
    at_rise = rf[np.argmin(np.abs(rt - rise_t))]
    reference = robot_face_of(chain, face[onset['target_frame']], rest)
    arrival = first_arrival(rt, progress(rf, at_rise, reference), rise_t)
    if arrival is not None and arrival - person_t > max_late_s:
        arrival = None
    return {'person_arrival_s': round(person_t, 4), 'robot_arrival_s': None if arrival is None else round(arrival, 4),
            'gap_s': None if arrival is None else round(arrival - person_t, 4)}


def abs_gap(row: dict, max_late_s: float) -> float:
    """|gap| of one onset's result, a robot that did not arrive counting as max_late_s."""
    return max_late_s if row['gap_s'] is None else abs(row['gap_s'])


def nested_choice(rows: list, candidates: list, max_late_s: float) -> dict:
    """The onset_face for each person, chosen on everyone else's onsets (the lowest mean |gap|), and the one
    chosen on all people (what the node ships): no person's onsets choose the policy they are reported with."""
    def best(people):
        scores = {c: np.mean([abs_gap(r[c], max_late_s) for r in rows if r['person'] in people]) for c in candidates}
        return min(candidates, key=lambda c: (scores[c], candidates.index(c))), scores
    people = sorted({r['person'] for r in rows})
    per_person = {p: best([q for q in people if q != p])[0] for p in people}
    shipped, scores = best(people)
    return {'per_person': per_person, 'all_people': shipped,
            'mean_abs_gap_s_all_people': {c: round(float(v), 4) for c, v in scores.items()},
            'rule': 'lowest mean |gap| (not arriving = max_late_s) over the other people\'s onsets'}


def onset_timing(corpus, setup, policies=POLICIES, delay_s: float = 0.08, horizon_s: float = 0.314,
                 max_late_s: float = 1.0, say=print) -> dict:
    """Per labelled onset and policy, the arrival gap; per policy the summary; each anticipator against
    mimicry (paired, over onsets)."""
    from emo_bringup.chain_replay import RobotChain
    from emo_common.stats import paired, summary
    from emo_prediction.forecast import ConstantVelocity
    from emo_prediction.training.real_eval import ForecastSystem, replay
    chain = RobotChain()
    rows = []
    for train_people, person, seqs in setup.held_out_onsets(say):
        shown = {}
        for policy in policies:
            if policy == 'constant_velocity':
                system = ForecastSystem(ConstantVelocity())
            elif policy != 'mimicry':
                system = setup.anticipator(train_people, {}, onset_face=policy)
            for seq in seqs:
                shown[policy, seq.source_id] = seq.face_xy if policy == 'mimicry' else replay(system, seq, horizon_s)
        for seq in seqs:
            for o in seq.onsets:
                row = {'onset_id': o.get('onset_id', ''), 'person': person, 'label': o['label'],
                       'source_id': seq.source_id}
                for policy in policies:
                    row[policy] = onset_gaps(seq, o, shown[policy, seq.source_id], chain, delay_s, max_late_s)
                row[BOUND] = onset_gaps(seq, o, apex_at_rise(seq.face_xy, o), chain, delay_s, max_late_s)
                rows.append(row)
    choice = nested_choice(rows, [q for q in policies if q not in BASELINES], max_late_s)
    for r in rows:
        r['nested_choice'] = dict(r[choice['per_person'][r['person']]], onset_face=choice['per_person'][r['person']])
    out = {'onsets': rows, 'policies': {}, 'choice': choice}
    for policy in list(policies) + ['nested_choice', BOUND]:
        gaps = np.array([np.nan if r[policy]['gap_s'] is None else r[policy]['gap_s'] for r in rows])
        late = np.where(np.isnan(gaps), max_late_s, np.abs(gaps))      # not arriving counts as max_late_s
        people = sorted({r['person'] for r in rows})
        out['policies'][policy] = {
            'arrived': int(np.isfinite(gaps).sum()), 'onsets': len(rows),
            'gap_s': summary(gaps), 'abs_gap_s': summary(late),
            'per_person_abs_gap_s': {p: round(float(np.mean([x for x, r in zip(late, rows) if r['person'] == p])), 4)
                                     for p in people},
            'earlier_than_mimicry': None}
        if policy != 'mimicry':
            base = np.array([np.nan if r['mimicry']['gap_s'] is None else r['mimicry']['gap_s'] for r in rows])
            base_late = np.where(np.isnan(base), max_late_s, np.abs(base))
            out['policies'][policy]['abs_gap_vs_mimicry'] = paired(late, base_late)
            both = np.isfinite(gaps) & np.isfinite(base)
            out['policies'][policy]['earlier_than_mimicry'] = int((gaps[both] < base[both]).sum())
            out['policies'][policy]['compared_with_mimicry'] = int(both.sum())
    return out


def format_timing(r: dict) -> str:
    lines = [f"{'policy':<14}{'arrived':>9}{'median gap':>12}{'median |gap|':>14}{'mean |gap| [95% CI]':>28}"
             f"{'vs mimicry |gap| (better/worse, Wilcoxon p)':>46}"]
    for name, p in r['policies'].items():
        g, a = p['gap_s'], p['abs_gap_s']
        ci = '' if a['mean'] is None else f"{1e3 * a['mean']:.0f} [{1e3 * a['ci95'][0]:.0f}, {1e3 * a['ci95'][1]:.0f}] ms"
        vs = ''
        if 'abs_gap_vs_mimicry' in p:
            t = p['abs_gap_vs_mimicry']
            vs = f"{t['better']}/{t['worse']}, p {t.get('wilcoxon_p', float('nan')):.3f}"
        med = '' if g['median'] is None else f"{1e3 * g['median']:+.0f} ms"
        lines.append(f"{name:<14}{p['arrived']:>4}/{p['onsets']:<4}{med:>12}{1e3 * a['median']:>11.0f} ms{ci:>28}{vs:>46}")
    return '\n'.join(lines)


def main(argv=None) -> int:
    import yaml

    from emo_bringup.graph import config_dir
    from emo_inverse.robot_lag import default_self_model_path, read_lag
    from emo_prediction.training.anticipation_report import FoldSetup, add_fold_arguments, fold_protocol
    from emo_prediction.training.corpus import load_corpus
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_arguments(parser)
    parser.add_argument('--compute-s', type=float, default=0.013, help='camera read to goals written (make bench)')
    parser.add_argument('--max-late-s', type=float, default=1.0)
    args = parser.parse_args(argv)
    t0 = time.time()
    try:
        corpus = load_corpus(args.onsets)
    except (OSError, ValueError) as err:
        print(f'onset_timing: no real onsets to measure on ({err})')
        return 2
    camera = yaml.safe_load(pathlib.Path(config_dir(), 'eye_camera.yaml').read_text())
    capture = float(camera['eye_camera_left']['ros__parameters']['capture_latency_s'])
    lag = read_lag(default_self_model_path())['lag_s']
    delay, horizon = capture + args.compute_s, capture + args.compute_s + lag
    setup = FoldSetup(corpus, args.model, outer_folds=args.outer_folds, quick=args.quick, seed=args.seed)
    result = onset_timing(corpus, setup, delay_s=delay, horizon_s=horizon, max_late_s=args.max_late_s)
    result['protocol'] = {
        **fold_protocol(corpus, setup, args.seed),
        'chain': 'emo_bringup.chain_replay (plant real, the shipped self-model), frames arriving capture latency '
                 '+ compute after capture', 'capture_latency_s': capture, 'compute_s': args.compute_s,
        'robot_lag_s': lag, 'horizon_s': round(horizon, 4), 'arrival': f'{ARRIVAL:.0%} of the way (person: the '
        'labelled t90_frame; robot: to the reference commands\' face)', 'max_late_s': args.max_late_s,
        BOUND: 'a bound, not a policy: the apex face (target_frame) commanded from the labelled rise start on',
        'seconds': round(time.time() - t0, 1)}
    print(format_timing(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
