"""Evaluate the predictive model and the online detector.

    python -m emo_prediction.training.evaluate --model model.pt --data windows.npz --out eval/
    python -m emo_prediction.training.evaluate --model model.pt --synthetic 1000 --seed 99 --cv 5 --detector --out eval/
    python -m emo_prediction.training.evaluate --real ../shared/data/real_onsets --out results/     # make evaluate

Model: the mean absolute error (face units) between the predicted and the
ground-truth target face of each held-out window, with SD, SEM and 95% CI,
against the paper's baselines — random search (a random target face from the
training pool) and mimicry (the face at the peak activation) — and a paired
t-test against each. With --cv, 5-fold cross-validation by video and by
participant (a model trained per fold). Detector (--detector): on labeled
generated clips, how early it fires before the target face and relative to the
offline peak activation, and its false triggers per minute of calm face.
Writes results.json and boxplot PNGs into --out.

With --real: the anticipation figures on real faces, leave-person-out with
nested choices (emo_prediction.training.anticipation_report: the paper's windows, and
the online replay of whole sequences through the Anticipator), printed and
written to <out>/anticipation.json.
"""
import argparse
import json
import pathlib

import numpy as np
from scipy import stats

from emo_prediction.training.dataset import WindowDataset, build_from_clips, synthetic_clips
from emo_prediction.detector import DetectorParams, run_detector
from emo_prediction.model import NumpyPredictor, load_checkpoint
from emo_common.stats import summary


def sample_errors(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean absolute error over the 113 x 2 coordinates, one value per sample."""
    return np.abs(pred - target).reshape(len(pred), -1).mean(axis=1)


def compare(predictor: NumpyPredictor, test: WindowDataset, pool: WindowDataset, seed: int = 0) -> dict:
    """Errors of the model and of both baselines on the test windows, with paired t-tests."""
    inputs, target = test.fixed_inputs()
    ours = sample_errors(np.stack([predictor.predict(x) for x in inputs]), target)
    mimic = sample_errors(test.mimic_faces(), target)
    rng = np.random.default_rng(seed)
    random_faces = pool.targets[rng.integers(0, len(pool), len(test)), 0]
    random_search = sample_errors(random_faces, target)
    t_mimic = stats.ttest_rel(ours, mimic)
    t_random = stats.ttest_rel(ours, random_search)
    return {'errors': {'ours': ours, 'mimicry': mimic, 'random_search': random_search},
            'summary': {k: summary(v) for k, v in
                        {'ours': ours, 'mimicry': mimic, 'random_search': random_search}.items()},
            'ttest_vs_mimicry': {'t': float(t_mimic.statistic), 'p': float(t_mimic.pvalue)},
            'ttest_vs_random_search': {'t': float(t_random.statistic), 'p': float(t_random.pvalue)},
            'beats_mimicry': bool(ours.mean() < mimic.mean() and t_mimic.pvalue < 0.05)}


def cross_validate(data: WindowDataset, by: str, k: int, train_kwargs: dict, seed: int = 0) -> dict:
    from emo_prediction.training.train import train
    folds = []
    for i, (train_set, test_set) in enumerate(data.folds(k, by, seed)):
        inner_train, inner_val = train_set.split('within', 0.2, seed)
        model, _ = train(inner_train, inner_val, seed=seed + i, progress=False, **train_kwargs)
        res = compare(NumpyPredictor.from_model(model), test_set, train_set, seed)
        folds.append({k2: v for k2, v in res.items() if k2 != 'errors'})
    means = {m: [f['summary'][m]['mean'] for f in folds] for m in ('ours', 'mimicry', 'random_search')}
    return {'by': by, 'k': k, 'folds': folds, 'mean_of_folds': {m: summary(v) for m, v in means.items()},
            'folds_beating_mimicry': int(sum(f['beats_mimicry'] for f in folds))}


def detector_report(n_clips: int = 300, n_people: int = 30, calm_minutes: int = 10, seed: int = 99,
                    params: DetectorParams = None, first_person: int = 1000) -> dict:
    """Lead times of the online detector on generated labeled clips, and false triggers on calm faces."""
    from emo_prediction.training.expression_analysis import analyze_expression
    from emo_common.layout import landmark_layout
    from emo_prediction.training.synthetic import ExpressionGenerator
    _, ids, _ = landmark_layout()
    gen = ExpressionGenerator(seed)
    fps = gen.fps
    leads, vs_peak, fired_before, early = [], [], 0, 0
    for k in range(n_clips):
        clip = gen.expression_clip(gen.person(first_person + k % n_people))
        events = run_detector(clip.face_xy, fps, params, ids)
        early += sum(f < clip.onset_start_frame for f, _ in events)
        fires = [f for f, _ in events if f >= clip.onset_start_frame]
        if not fires:
            continue
        leads.append((clip.target_frame - fires[0]) / fps)
        fired_before += fires[0] <= clip.target_frame
        offline = analyze_expression(clip.face_xy, fps)
        if offline.has_expression:
            vs_peak.append((fires[0] - offline.peak_activation_frame) / fps)
    calm = {}
    for talking in (False, True):
        n = sum(len(run_detector(gen.calm_clip(gen.person(first_person + j), 60.0, talking).face_xy, fps, params, ids))
                for j in range(calm_minutes))
        calm['talking' if talking else 'calm'] = n / calm_minutes
    leads = np.array(leads)
    return {'clips': n_clips, 'fired': int(len(leads)), 'fired_before_target_fraction': fired_before / n_clips,
            'lead_s': {'median': float(np.median(leads)), 'p10': float(np.percentile(leads, 10)),
                       'p90': float(np.percentile(leads, 90))},
            'fire_minus_offline_peak_activation_s': {'median': float(np.median(vs_peak)),
                                                     'p10': float(np.percentile(vs_peak, 10)),
                                                     'p90': float(np.percentile(vs_peak, 90))},
            'false_triggers_before_onset': int(early),
            'false_triggers_per_min': calm['calm'], 'false_triggers_per_min_talking': calm['talking']}


def boxplot(errors: dict, path: pathlib.Path, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4))
    names = list(errors)
    ax.boxplot([errors[n] for n in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [n.replace('_', ' ') for n in names])
    ax.set_ylabel('target-face MAE (face units)')
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items() if k != 'errors'}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def real_corpus(args) -> int:
    from emo_prediction.training.anticipation_report import anticipation_report, format_report
    from emo_prediction.training.corpus import load_corpus
    corpus = load_corpus(args.real or None)
    report = anticipation_report(corpus, args.model, outer_folds=args.outer_folds, quick=args.quick, seed=args.seed)
    text = format_report(report)
    print(text)
    (args.out / 'anticipation.json').write_text(json.dumps(_jsonable(report), indent=1))
    (args.out / 'anticipation.txt').write_text(text + '\n')
    print(f"wrote {args.out / 'anticipation.json'}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', type=pathlib.Path, help='checkpoint (default: the shipped default)')
    parser.add_argument('--real', metavar='DIR', nargs='?', const='',
                        help='anticipation on a real corpus, leave-person-out (default folder: shared/data/real_onsets)')
    parser.add_argument('--outer-folds', type=int, default=4, help='with --real: folds of people (0: one per person)')
    parser.add_argument('--quick', action='store_true', help="with --real: no nested hyperparameter search (the "
                        "checkpoint's choice); for a look, not for publication")
    parser.add_argument('--data', type=pathlib.Path, help='windows .npz (its validation split is the test set)')
    parser.add_argument('--synthetic', type=int, metavar='N', help='test on N new generated clips instead')
    parser.add_argument('--people', type=int, default=30)
    parser.add_argument('--first-person', type=int, default=1000,
                        help='generated test people start here (training uses 0..people-1): unseen faces')
    parser.add_argument('--split', choices=['within', 'lpo'], default='within')
    parser.add_argument('--seed', type=int, default=99)
    parser.add_argument('--cv', type=int, default=0, metavar='K', help='also K-fold cross-validation by video and participant')
    parser.add_argument('--cv-epochs', type=int, default=40)
    parser.add_argument('--cv-lr', type=float, default=1e-3)
    parser.add_argument('--detector', action='store_true', help='also report the online detector')
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.real is not None:
        return real_corpus(args)
    if args.model is None:
        from emo_prediction.model import default_model_path
        args.model = pathlib.Path(default_model_path())
    model, meta = load_checkpoint(args.model)
    predictor = NumpyPredictor.from_model(model)
    results = {'model': str(args.model), 'model_meta': meta}
    data = None
    if args.data:
        data = WindowDataset.load(args.data)
        pool, test = data.split(args.split, 0.2, 0)
    elif args.synthetic:
        data, _ = build_from_clips(synthetic_clips(args.synthetic, args.people, args.seed, args.first_person),
                                   progress=True)
        pool, test = data, data
    if data is not None:
        res = compare(predictor, test, pool, args.seed)
        results['test'] = res
        boxplot(res['errors'], args.out / 'target_face_mae.png', f'held-out windows (n={len(test)})')
        if args.cv:
            kw = {'lr': args.cv_lr, 'epochs': args.cv_epochs, 'hidden': model.hidden}
            results['cv_by_video'] = cross_validate(data, 'video', args.cv, kw)
            results['cv_by_participant'] = cross_validate(data, 'participant', args.cv, kw)
    if args.detector:
        results['detector'] = detector_report(seed=args.seed)
    (args.out / 'results.json').write_text(json.dumps(_jsonable(results), indent=1))
    print(json.dumps(_jsonable({k: v for k, v in results.items() if k != 'model_meta'}), indent=1)[:6000])
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
