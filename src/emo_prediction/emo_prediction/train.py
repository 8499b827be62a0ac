"""Train the predictive model (the paper's defaults: Adam, lr 1e-5, batch 128).

    python -m emo_prediction.train --data windows.npz --out model.pt
    python -m emo_prediction.train --synthetic 4000 --out model.pt --lr 1e-3 --epochs 60   # the shipped default

Each epoch draws fresh inputs and labels from every training window (the
paper's augmentation: 4 of the 9 frames around the peak activation, 1 of the 4
frames from the target on). Validation: mean absolute error of the target face
on fixed inputs. Stops early when validation has not improved for `patience`
epochs and keeps the best checkpoint.
"""
import argparse
import json
import pathlib
import time

import numpy as np
import torch

from emo_prediction.dataset import WindowDataset, build_from_clips, synthetic_clips
from emo_prediction.model import PredictiveModel, save_checkpoint


def mae(model: PredictiveModel, inputs: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    with torch.inference_mode():
        pred = model(torch.from_numpy(inputs))
    return float((pred - torch.from_numpy(labels)).abs().mean())


def train(train_set: WindowDataset, val_set: WindowDataset, hidden: int = 128, lr: float = 1e-5,
          batch: int = 128, epochs: int = 200, patience: int = 15, seed: int = 0, progress: bool = True):
    """(best model, history) — history lists per-epoch train and validation MAE."""
    from tqdm import tqdm
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PredictiveModel(hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    val_in, val_lab = val_set.fixed_inputs()
    best, best_state, since_best, history = np.inf, None, 0, []
    bar = tqdm(range(epochs), desc='training', disable=not progress)
    for epoch in bar:
        model.train()
        inputs, labels = train_set.draw(rng)
        order = rng.permutation(len(inputs))
        losses = []
        for i in range(0, len(order), batch):
            b = order[i:i + batch]
            pred = model(torch.from_numpy(inputs[b]))
            loss = torch.nn.functional.l1_loss(pred, torch.from_numpy(labels[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        val = mae(model, val_in, val_lab)
        history.append({'epoch': epoch, 'train_mae': float(np.mean(losses)), 'val_mae': val})
        bar.set_postfix(train=f'{np.mean(losses):.4f}', val=f'{val:.4f}')
        if val < best - 1e-6:
            best, since_best = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since_best += 1
            if since_best >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return model, history


def load_windows(args) -> WindowDataset:
    if args.data:
        return WindowDataset.load(args.data)
    data, _ = build_from_clips(synthetic_clips(args.synthetic, args.people, args.seed), progress=True)
    return data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', type=pathlib.Path, help='windows .npz from emo_prediction.build_dataset')
    src.add_argument('--synthetic', type=int, metavar='N', help='train on N generated expression clips')
    parser.add_argument('--people', type=int, default=60, help='generated people (with --synthetic)')
    parser.add_argument('--split', choices=['within', 'lpo'], default='within',
                        help='80:20 within each participant, or leave participants out')
    parser.add_argument('--hidden', type=int, default=128, help='hidden width (chosen by validation error and speed: README)')
    parser.add_argument('--lr', type=float, default=1e-5)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--epochs', type=int, default=200)
    parser.add_argument('--patience', type=int, default=15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0 = torch default)')
    parser.add_argument('--out', type=pathlib.Path, required=True, help='checkpoint to write (.pt)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    data = load_windows(args)
    train_set, val_set = data.split(args.split, 0.2, args.seed)
    model, history = train(train_set, val_set, args.hidden, args.lr, args.batch, args.epochs, args.patience, args.seed)
    best = min(history, key=lambda h: h['val_mae'])
    meta = {'trained_on': str(args.data) if args.data else f'synthetic:{args.synthetic} clips, {args.people} people',
            'split': args.split, 'train_windows': len(train_set), 'val_windows': len(val_set),
            'lr': args.lr, 'batch': args.batch, 'seed': args.seed, 'epochs_run': len(history),
            'best_epoch': best['epoch'], 'val_mae': best['val_mae'],
            'parameters': model.parameter_count(),
            # The expected time from the peak activation to the target face, for the node's lead_time.
            'median_lead_s': float(np.median(data.lead_s)), 'seconds': round(time.time() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, meta)
    args.out.with_suffix('.json').write_text(json.dumps({'meta': meta, 'history': history}, indent=1))
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
