"""Evaluate the inverse model on held-out babbling against baselines on equal terms.

    python -m emo_inverse.training.evaluate --model inverse.pt --data babble.npz --out results/inverse
    python -m emo_inverse.training.evaluate --model inverse.pt --data babble.npz --test-data fresh.npz --out ...

Test samples: the checkpoint's own test split of --data (drawn by babbling
sample before augmentation, recorded at training), or every sample of
--test-data (e.g. babbling with another seed). A test sample that the model was
trained or early-stopped on (by content digest, whatever its file or order) is
refused: nothing is reported.

Two test sets: augmented faces (the upper half of an upper-session test sample
with the lower half of a lower-session one, as training combines them; fixed
seed) and whole-face babbling (the whole face moved at once: on a coupled face
the halves pull on each other, so these test what the augmentation assumes).
Per face: the L1 distance (mean over the 11 normalized commands) between
predicted and true commands, and the landmark error of the face the predicted
commands make on the simulated head (noise off) against the face asked for.
Baselines, from the training samples only: nearest neighbour per face half
(the upper half's nearest upper-session face gives the upper commands, the
lower half's nearest lower-session face the lower ones), whole-face nearest
neighbour among whole-face babbling, the commands of a random training face,
and random commands. Mean, SD, SEM, 95% CI and median of each; the paired
tests of the model against each baseline. Activation (the paper's Table 1 for
the inverse model alone): a command is activated when it differs from its calm
value by more than 0.25. Writes results.json and inverse_l1.png.
"""
import argparse
import datetime
import json
import pathlib

import numpy as np
import torch

from emo_common.provenance import git_commit
from emo_common.stats import paired, summary
from emo_inverse import default_path
from emo_inverse.training import babbling
from emo_inverse.model import load_checkpoint
from emo_inverse.training.train import dataset_digest

ACTIVATION_THRESHOLD = 0.25
PAPER_L1 = {'ours': 0.078, 'nearest_neighbour': 0.257, 'random_face_commands': 0.332, 'random_commands': 0.351}


class OverlapError(ValueError):
    """The test set shares samples with the training or early-stopping set."""


def activation_metrics(predicted: np.ndarray, target: np.ndarray, calm: np.ndarray,
                       threshold: float = ACTIVATION_THRESHOLD) -> dict:
    """Confusion matrix and rates of 'activated' (|command - calm| > threshold), over all commands."""
    pred = np.abs(np.asarray(predicted) - calm) > threshold
    true = np.abs(np.asarray(target) - calm) > threshold
    tp, fn = int((pred & true).sum()), int((~pred & true).sum())
    fp, tn = int((pred & ~true).sum()), int((~pred & ~true).sum())
    div = lambda a, b: float(a / b) if b else float('nan')  # noqa: E731
    sen, fpr = div(tp, tp + fn), div(fp, fp + tn)
    return {'total': tp + fn + fp + tn, 'tp': tp, 'fn': fn, 'fp': fp, 'tn': tn,
            'accuracy': div(tp + tn, tp + fn + fp + tn), 'ppv': div(tp, tp + fp), 'sensitivity': sen,
            'fpr': fpr, 'for': div(fn, fn + tn), 'lr_plus': div(sen, fpr)}


def test_samples(meta: dict, data: dict, test_data: dict = None) -> tuple:
    """(training samples, test samples) for a checkpoint; OverlapError if any test sample was trained or
    early-stopped on, ValueError if the checkpoint does not say what it was trained on."""
    record = meta.get('split')
    if not record or 'train_digests' not in record:
        raise ValueError('the checkpoint records no training split: its test set cannot be checked '
                         '(retrain it with python -m emo_inverse.training.train)')
    trained = set(record['train_digests'])
    train_rows = [i for i, d in enumerate(babbling.sample_digests(data)) if d in trained]
    if len(train_rows) != record['counts']['train']:
        raise ValueError(f"--data holds {len(train_rows)} of the model's {record['counts']['train']} training "
                         f'samples: pass the dataset it was trained on')
    if test_data is None:
        if dataset_digest(data) != record['dataset_digest']:
            raise ValueError('--data is not the dataset the model was trained on (its digest differs)')
        test_data = babbling.subset(data, record['test_index'])
    seen = trained | set(record['val_digests'])
    overlap = sum(d in seen for d in babbling.sample_digests(test_data))
    if overlap:
        raise OverlapError(f'refused: {overlap} of {len(test_data["commands"])} test samples were used in '
                           f'training or early stopping; nothing reported')
    return babbling.subset(data, train_rows), test_data


def nearest(queries: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Index of each query's nearest pool row (Euclidean, flattened)."""
    q, p = queries.reshape(len(queries), -1), pool.reshape(len(pool), -1)
    d = (q ** 2).sum(1)[:, None] - 2 * q @ p.T + (p ** 2).sum(1)[None]
    return np.argmin(d, axis=1)


def baselines(train: dict, faces: np.ndarray, n: int, rng: np.random.Generator, whole_faces: bool) -> dict:
    """Each baseline's commands for these faces, from the training samples only."""
    out = {}
    up, lo = (train['session'] == 'upper'), (train['session'] == 'lower')
    if up.any() and lo.any():
        c = np.empty((len(faces), 11), np.float32)
        iu = nearest(faces[:, babbling.UPPER_POINTS], train['faces'][up][:, babbling.UPPER_POINTS])
        il = nearest(faces[:, babbling.LOWER_POINTS], train['faces'][lo][:, babbling.LOWER_POINTS])
        c[:, babbling.UPPER_COMMANDS] = train['commands'][up][iu][:, babbling.UPPER_COMMANDS]
        c[:, babbling.LOWER_COMMANDS] = train['commands'][lo][il][:, babbling.LOWER_COMMANDS]
        out['nearest_neighbour_per_half'] = c
    whole = train['session'] == 'whole'
    if whole_faces and whole.any():
        out['nearest_neighbour_whole_face'] = train['commands'][whole][nearest(faces, train['faces'][whole])]
    out['random_face_commands'] = train['commands'][rng.integers(0, len(train['commands']), n)]
    out['random_commands'] = rng.uniform(0, 1, (n, 11)).astype(np.float32)
    return out


def score(model, train: dict, faces: np.ndarray, commands: np.ndarray, whole_faces: bool, head, twin,
          seed: int) -> dict:
    """L1 of commands and landmark error of the faces they make, per method; paired tests vs ours."""
    with torch.inference_mode():
        ours = model(torch.from_numpy(faces.astype(np.float32))).numpy()
    methods = {'ours': ours, **baselines(train, faces, len(faces), np.random.default_rng(seed), whole_faces)}
    l1 = {k: np.abs(v - commands).mean(axis=1) for k, v in methods.items()}
    made = {k: np.stack([twin.face_of_commands(c, noise=False) for c in v]) for k, v in methods.items()}
    face_err = {k: np.abs(v - faces).mean(axis=(1, 2)) for k, v in made.items()}
    res = {'faces': int(len(faces)),
           'l1': {k: summary(v) for k, v in l1.items()},
           'face_error': {k: summary(v) for k, v in face_err.items()},
           'paired_l1': {k: paired(l1['ours'], v) for k, v in l1.items() if k != 'ours'},
           'paired_face_error': {k: paired(face_err['ours'], v) for k, v in face_err.items() if k != 'ours'},
           'activation': {k: activation_metrics(v, commands, head.calm_commands) for k, v in methods.items()
                          if k in ('ours', 'nearest_neighbour_per_half', 'nearest_neighbour_whole_face')}}
    res['errors'] = l1
    return res


def evaluate(model, meta: dict, data: dict, head, test_data: dict = None, seed: int = 0, n_augmented: int = 1000):
    from emo_sim.simulated_head import SimulatedHead
    train, test = test_samples(meta, data, test_data)
    twin = SimulatedHead(head, noise=0.0)
    out = {'test_samples': {s: int((test['session'] == s).sum()) for s in babbling.SESSIONS},
           'train_samples': int(len(train['commands']))}
    if (test['session'] == 'upper').any() and (test['session'] == 'lower').any():
        x, y = babbling.augment(test, n_augmented, np.random.default_rng(seed + 1))
        out['augmented'] = score(model, train, x, y, False, head, twin, seed)
    whole = test['session'] == 'whole'
    if whole.any():
        out['whole_face'] = score(model, train, test['faces'][whole].astype(np.float32),
                                  test['commands'][whole], True, head, twin, seed)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', type=pathlib.Path, default=None, help='checkpoint (default: the shipped one)')
    parser.add_argument('--data', type=pathlib.Path, default=None,
                        help='the babbling dataset the model was trained on (default: the shipped one)')
    parser.add_argument('--test-data', type=pathlib.Path, default=None,
                        help='another babbling dataset to test on (default: the model\'s own test split of --data)')
    parser.add_argument('--head', default=None)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    from emo_description.head import load_head
    head = load_head(args.head)
    model_path = args.model or pathlib.Path(default_path('inverse_default.pt'))
    data_path = args.data or pathlib.Path(default_path('babble_default.npz'))
    model, meta = load_checkpoint(model_path)
    try:
        res = evaluate(model, meta, babbling.load(data_path), head,
                       babbling.load(args.test_data) if args.test_data else None, args.seed)
    except ValueError as err:
        print(f'emo_inverse.training.evaluate: {err}')
        return 2
    results = {'protocol': {'commit': git_commit(short=True),
                            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                            'model': str(model_path), 'widths': meta.get('widths'), 'data': str(data_path),
                            'test_data': str(args.test_data) if args.test_data else "the model's test split of data",
                            'split': {k: v for k, v in meta['split'].items() if k in ('by', 'seed', 'counts')},
                            'activation_threshold': ACTIVATION_THRESHOLD},
               **{k: v for k, v in res.items()}, 'paper_l1': PAPER_L1}
    args.out.mkdir(parents=True, exist_ok=True)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sets = [s for s in ('augmented', 'whole_face') if s in res]
    fig, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 4), squeeze=False)
    for ax, name in zip(axes[0], sets):
        errs = res[name].pop('errors')
        ax.boxplot(list(errs.values()), showfliers=False)
        ax.set_xticks(range(1, len(errs) + 1), [k.replace('_', '\n') for k in errs], fontsize=7)
        ax.set_ylabel('L1 distance of commands')
        ax.set_title(f'{name.replace("_", " ")} test faces (n={res[name]["faces"]})')
    fig.tight_layout()
    fig.savefig(args.out / 'inverse_l1.png', dpi=120)
    (args.out / 'results.json').write_text(json.dumps(results, indent=1))
    for name in sets:
        print(f'{name}: ' + ', '.join(f"{k} {v['mean']:.4f} [{v['ci95'][0]:.4f}, {v['ci95'][1]:.4f}]"
                                      for k, v in res[name]['l1'].items()))
    print(f"wrote {args.out / 'results.json'}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
