"""Train the inverse model on a babbling dataset (MSE, Adam).

    python -m emo_inverse.train --data babble.npz --out inverse.pt

Each epoch combines upper-face and lower-face samples afresh (the paper's
augmentation); validation uses held-out samples of both sessions, augmented
with a fixed seed. Early stopping keeps the best model. When the babbling
measured the robot's lag (the dataset's robot_lag), the checkpoint carries it
(meta['robot_lag']): the predictor's horizon defaults to it.
"""
import argparse
import json
import pathlib
import time

import numpy as np
import torch

from emo_inverse import babbling
from emo_inverse.model import InverseModel, save_checkpoint


def train(data: dict, hidden: int = 256, lr: float = 1e-3, batch: int = 128, epochs: int = 300,
          per_epoch: int = 4000, patience: int = 25, seed: int = 0, progress: bool = True):
    from tqdm import tqdm
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_set, val_set = babbling.split(data, 0.2, seed)
    val_x, val_y = babbling.augment(val_set, 1000, np.random.default_rng(seed + 1))
    model = InverseModel(hidden, data['rest_face'])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, since, history = np.inf, None, 0, []
    for epoch in tqdm(range(epochs), desc='training', disable=not progress):
        model.train()
        x, y = babbling.augment(train_set, per_epoch, rng)
        losses = []
        for i in range(0, per_epoch, batch):
            pred = model(torch.from_numpy(x[i:i + batch]))
            loss = torch.nn.functional.mse_loss(pred, torch.from_numpy(y[i:i + batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with torch.inference_mode():
            val_l1 = float((model(torch.from_numpy(val_x)) - torch.from_numpy(val_y)).abs().mean())
        history.append({'epoch': epoch, 'train_mse': float(np.mean(losses)), 'val_l1': val_l1})
        if val_l1 < best - 1e-6:
            best, since, best_state = val_l1, 0, {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    return model.eval(), history


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=pathlib.Path, required=True, help='babbling dataset (.npz)')
    parser.add_argument('--hidden', type=int, default=256)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--epochs', type=int, default=300)
    parser.add_argument('--patience', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    t0 = time.time()
    data = babbling.load(args.data)
    model, history = train(data, args.hidden, args.lr, args.batch, args.epochs, patience=args.patience, seed=args.seed)
    best = min(history, key=lambda h: h['val_l1'])
    meta = {'trained_on': str(args.data), 'samples': int(len(data['commands'])), 'val_l1': best['val_l1'],
            'best_epoch': best['epoch'], 'epochs_run': len(history), 'lr': args.lr, 'seed': args.seed,
            'parameters': sum(p.numel() for p in model.parameters()), 'seconds': round(time.time() - t0, 1)}
    if data.get('robot_lag'):
        meta['robot_lag'] = data['robot_lag']       # the head's lag, measured while babbling
    else:
        print(f'{args.data} has no measured lag: the checkpoint will not carry one '
              f'(python -m emo_inverse.robot_lag --model {args.out} measures it on the simulated head)')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, meta)
    print(json.dumps({k: v for k, v in meta.items() if k != 'robot_lag'}, indent=1))
    if 'robot_lag' in meta:
        print(f"robot lag {meta['robot_lag']['lag_s']:.3f} s saved with the self-model")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
