"""Evaluate the inverse model against the paper's baselines, and command activation (Table 1).

    python -m emo_inverse.evaluate --model inverse.pt --data babble.npz --out eval/

Test set: held-out babbling samples of both sessions, augmented with a fixed
seed. L1 distance (mean over the 11 normalized commands) between predicted and
true commands, for the model and three baselines: random commands, the
commands of a random training face, and the nearest neighbour (the commands
of the training face closest in landmarks). Activation (the paper's Table 1):
a command is activated when it differs from its calm value by more than 0.25;
confusion matrix, accuracy, PPV, sensitivity, FPR, FOR and LR+ between
predicted and true commands. Writes results.json and inverse_l1.png.
"""
import argparse
import json
import pathlib

import numpy as np
import torch

from emo_inverse import babbling
from emo_inverse.model import load_checkpoint

ACTIVATION_THRESHOLD = 0.25


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


def compare(model, train: dict, test_x: np.ndarray, test_y: np.ndarray, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    with torch.inference_mode():
        ours = model(torch.from_numpy(test_x)).numpy()
    train_x = train['faces'].reshape(len(train['faces']), -1)
    nn_idx = np.argmin(((test_x.reshape(len(test_x), -1)[:, None, :] - train_x[None]) ** 2).sum(-1), axis=1)
    methods = {'ours': ours,
               'nearest_neighbour': train['commands'][nn_idx],
               'random_face_commands': train['commands'][rng.integers(0, len(train['commands']), len(test_y))],
               'random_commands': rng.uniform(0, 1, test_y.shape).astype(np.float32)}
    return {name: np.abs(pred - test_y).mean(axis=1) for name, pred in methods.items()}, ours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', type=pathlib.Path, required=True)
    parser.add_argument('--data', type=pathlib.Path, required=True)
    parser.add_argument('--head', default=None)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    from emo_description.head import load_head
    head = load_head(args.head)
    model, meta = load_checkpoint(args.model)
    data = babbling.load(args.data)
    train, val = babbling.split(data, 0.2, meta.get('seed', 0))
    test_x, test_y = babbling.augment(val, 1000, np.random.default_rng(args.seed + 1))
    l1, ours = compare(model, train, test_x, test_y, args.seed)
    results = {'model': str(args.model), 'test_samples': len(test_y),
               'l1': {k: {'mean': float(v.mean()), 'sd': float(v.std(ddof=1)), 'median': float(np.median(v))}
                      for k, v in l1.items()},
               'activation': activation_metrics(ours, test_y, head.calm_commands),
               'paper_anchor_l1': {'ours': 0.078, 'nearest_neighbour': 0.257, 'random_face_commands': 0.332,
                                   'random_commands': 0.351}}
    args.out.mkdir(parents=True, exist_ok=True)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.boxplot([l1[k] for k in l1], showfliers=False)
    ax.set_xticks(range(1, len(l1) + 1), [k.replace('_', '\n') for k in l1])
    ax.set_ylabel('L1 distance of commands')
    ax.set_title(f'inverse model, {len(test_y)} held-out faces')
    fig.tight_layout()
    fig.savefig(args.out / 'inverse_l1.png', dpi=120)
    (args.out / 'results.json').write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
