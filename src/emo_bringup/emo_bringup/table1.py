"""The paper's Table 1 for the whole pipeline on real human faces (`make table1`).

    python -m emo_bringup.table1 --onsets ../shared/data/real_onsets --out results/table1.json

For every labelled onset of a real person, leave-person-out with the folds,
models and detector choices of the predictor's real-face evaluation
(`emo_prediction.training.anticipation_report.FoldSetup`, the same seed): the
predictor runs as its node does (the Anticipator, horizon = the self-model's
measured lag) over the person's whole sequence; at its first firing on the
onset (from 3 frames before the rise to the target frame) it has predicted the
target face. Then, as the inverse node does, each face is normalized into the
robot's face space (the paper's equations 1-2, K = 1, the person's rest face
= the mean of the onset's labelled calm frames) and the self-model gives 11
commands:

- pipeline: commands from the normalized *predicted* target face;
- mimicry: commands from the normalized face *at the firing* (what a mimicking
  robot would be told at that moment);
- reference: commands from the normalized *real* target face (the apex).

Table 1 compares pipeline (and mimicry) commands with the reference commands:
a command is activated when it differs from its calm value by more than 0.25
(the paper's threshold); confusion matrix over onsets x 11 commands, accuracy,
PPV, sensitivity, FPR, FOR, LR+, next to the paper's. Also the robot's final
face: the simulated head's face for each set of commands (settled, no noise)
against the normalized human target, mean landmark error, with the paired test
of pipeline against mimicry over onsets, and the floor (the reference
commands' face). Onsets the detector missed are counted, not scored.
"""
import argparse
import json
import time

import numpy as np

PAPER = {'accuracy': 0.722, 'ppv': 0.805, 'for': 0.462, 'lr_plus': 1.782,
         'protocol': 'Hu et al. 2024, Table 1: commands from the predicted vs the real target face, '
                     'human test faces, the whole pipeline'}
EARLY_FRAMES = 3          # a firing this many frames before the rise still counts (as make evaluate's)
METRICS = ('accuracy', 'ppv', 'sensitivity', 'fpr', 'for', 'lr_plus')


def onset_rows(corpus, setup, horizon_s: float, say=print) -> list:
    """Per labelled onset: the faces at the first firing (predicted target, face at the firing) and the
    real target and rest faces, from the predictor replayed leave-person-out."""
    from emo_prediction.training.real_eval import first_firing, replay
    rows = []
    for train_people, person, seqs in setup.held_out_onsets(say):
        firings = {}
        system = setup.anticipator(train_people, firings)
        for seq in seqs:
            replay(system, seq, horizon_s)
        for seq in seqs:
            face = seq.face_xy.astype(np.float64)
            for o in seq.onsets:
                r0, r1 = o['rest_frames']
                rest = np.nanmean(face[r0:r1 + 1], axis=0)
                row = {'onset_id': o.get('onset_id', ''), 'person': person, 'label': o['label'],
                       'source_id': seq.source_id, 'rest': rest, 'target': face[o['target_frame']]}
                hit = first_firing(firings.get(seq.source_id, []), o, EARLY_FRAMES)
                if hit is None:
                    row['skipped'] = 'the detector did not fire on this onset'
                elif hit[1] is None:
                    row['skipped'] = 'no predicted target at the firing'
                else:
                    row.update(fire_frame=int(hit[0]), lead_s=(o['target_frame'] - hit[0]) / seq.fps,
                               predicted=np.asarray(hit[1], np.float64), at_firing=face[hit[0]])
                if 'skipped' not in row and not all(np.isfinite(row[k]).all()
                                                    for k in ('rest', 'target', 'predicted', 'at_firing')):
                    row['skipped'] = 'no face in a frame it needs'
                rows.append(row)
    return rows


def activation_with_ci(pred: np.ndarray, ref: np.ndarray, calm: np.ndarray, seed: int = 0, boot: int = 2000) -> dict:
    """Table 1 metrics over onsets x commands, with 95% bootstrap intervals resampling onsets."""
    from emo_inverse.training.evaluate import activation_metrics
    out = activation_metrics(pred, ref, calm)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in METRICS}
    for _ in range(boot):
        pick = rng.integers(0, len(pred), len(pred))
        m = activation_metrics(pred[pick], ref[pick], calm)
        for k in METRICS:
            draws[k].append(m[k])
    out['ci95'] = {k: [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))]
                   for k, v in draws.items() if np.isfinite(v).any()}
    return out


def table1(corpus, setup, self_model_path=None, babbling_path=None, head_config=None, seed: int = 0,
           say=print) -> dict:
    from emo_common.stats import paired, summary
    from emo_description.head import load_head
    from emo_inverse import default_path
    from emo_inverse.training import babbling
    from emo_inverse.model import NumpyInverse, load_checkpoint
    from emo_inverse.normalization import Normalizer
    from emo_inverse.robot_lag import read_lag
    from emo_sim.simulated_head import SimulatedHead
    head = load_head(head_config)
    self_model_path = self_model_path or default_path('inverse_default.pt')
    babbling_path = babbling_path or default_path('babble_default.npz')
    model, _ = load_checkpoint(self_model_path)
    inverse = NumpyInverse(model)
    normalize = Normalizer.from_babbling(babbling.load(babbling_path), k=1.0)
    lag = read_lag(self_model_path)
    horizon = float(lag['lag_s']) if lag else 0.2
    twin = SimulatedHead(head, noise=0.0)

    rows = onset_rows(corpus, setup, horizon, say)
    scored = [r for r in rows if 'skipped' not in r]
    cmds = {'pipeline': [], 'mimicry': [], 'reference': []}
    face_err = {'pipeline': [], 'mimicry': [], 'reference': []}
    per_onset = []
    for r in scored:
        target = normalize(r['target'], r['rest'])
        faces = {'pipeline': normalize(r['predicted'], r['rest']), 'mimicry': normalize(r['at_firing'], r['rest']),
                 'reference': target}
        entry = {k: r[k] for k in ('onset_id', 'person', 'label', 'source_id', 'fire_frame', 'lead_s')}
        for name, face in faces.items():
            c = np.clip(inverse.predict(face), 0.0, 1.0)
            cmds[name].append(c)
            err = float(np.abs(twin.face_of_commands(c, noise=False) - target).mean())
            face_err[name].append(err)
            entry[f'{name}_commands'] = [round(float(x), 4) for x in c]
            entry[f'{name}_robot_face_error'] = err
        per_onset.append(entry)
    calm = head.calm_commands
    out = {'n_onsets_labelled': len(rows), 'n_onsets': len(scored),
           'skipped': [{k: r[k] for k in ('onset_id', 'person', 'label', 'skipped')} for r in rows if 'skipped' in r]}
    if scored:
        ref = np.array(cmds['reference'])
        for name in ('pipeline', 'mimicry'):
            m = activation_with_ci(np.array(cmds[name]), ref, calm, seed)
            m.update(n_onsets=len(scored), split='leave-person-out',
                     people=sorted({r['person'] for r in scored}))
            out[name] = m
        out['robot_face_error'] = {name: summary(v) for name, v in face_err.items()}
        out['robot_face_error']['paired_pipeline_vs_mimicry'] = paired(face_err['pipeline'], face_err['mimicry'])
        per_person = {}
        for e in per_onset:
            per_person.setdefault(e['person'], {'pipeline': [], 'mimicry': []})
            for name in ('pipeline', 'mimicry'):
                per_person[e['person']][name].append(e[f'{name}_robot_face_error'])
        out['robot_face_error']['per_person'] = {p: {k: float(np.mean(v)) for k, v in d.items()} | {'onsets': len(d['pipeline'])}
                                                 for p, d in sorted(per_person.items())}
        per_onset_acc = {name: [float(((np.abs(c - calm) > 0.25) == (np.abs(rc - calm) > 0.25)).mean())
                                for c, rc in zip(cmds[name], cmds['reference'])] for name in ('pipeline', 'mimicry')}
        out['paired_accuracy_pipeline_vs_mimicry'] = paired([-a for a in per_onset_acc['pipeline']],
                                                            [-a for a in per_onset_acc['mimicry']])
        out['paired_accuracy_pipeline_vs_mimicry']['note'] = 'per-onset accuracy, negated (lower = better)'
    out['per_onset'] = per_onset
    out['self_model'] = {'path': str(self_model_path), 'babbling': str(babbling_path), 'horizon_s': horizon,
                         'k': 1.0}
    return out


def format_table(r: dict) -> str:
    f = lambda x: '-' if x is None or not np.isfinite(x) else f'{x:.3f}'  # noqa: E731
    lines = [f"Table 1, whole pipeline on real faces ({r.get('n_onsets', 0)} of {r['n_onsets_labelled']} labelled "
             f"onsets scored, leave-person-out; commit {r['protocol']['commit']})",
             f"{'':<10}" + ''.join(f'{k:>12}' for k in METRICS)]
    for name in ('pipeline', 'mimicry'):
        if name in r:
            lines.append(f'{name:<10}' + ''.join(f'{f(r[name][k]):>12}' for k in METRICS))
    lines.append(f"{'paper':<10}" + ''.join(f"{f(PAPER.get(k)):>12}" for k in METRICS))
    if 'robot_face_error' in r:
        e = r['robot_face_error']
        lines.append('robot final face vs the normalized human target (face units): ' + ', '.join(
            f"{k} {e[k]['mean']:.4f}" for k in ('pipeline', 'mimicry', 'reference')))
        p = e['paired_pipeline_vs_mimicry']
        lines.append(f"  pipeline vs mimicry: better on {p['better']} of {p['n']} onsets, paired t p = "
                     f"{p.get('p', float('nan')):.3g}, Wilcoxon p = {p.get('wilcoxon_p', float('nan')):.3g}")
    return '\n'.join(lines)


def main(argv=None) -> int:
    from emo_prediction.training.anticipation_report import FoldSetup, add_fold_arguments, fold_protocol
    from emo_prediction.training.corpus import load_corpus
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_arguments(parser)
    parser.add_argument('--self-model', default=None, help='inverse checkpoint (default: the shipped one)')
    args = parser.parse_args(argv)
    t0 = time.time()
    try:
        corpus = load_corpus(args.onsets)
    except (OSError, ValueError) as err:
        print(f'table1: no real onsets to measure on ({err})')
        return 2
    setup = FoldSetup(corpus, args.model, outer_folds=args.outer_folds, quick=args.quick, seed=args.seed)
    result = table1(corpus, setup, args.self_model, seed=args.seed)
    result['paper'] = PAPER
    result['protocol'] = {
        **fold_protocol(corpus, setup, args.seed), 'predictor': str(setup.model_path), 'firing': f'first firing from {EARLY_FRAMES} frames before the rise '
                                                      f'to the target frame', 'activation_threshold': 0.25,
        'seconds': round(time.time() - t0, 1)}
    text = format_table(result)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
