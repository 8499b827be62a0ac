"""Train the inverse model on a babbling dataset (MSE, Adam).

    python -m emo_inverse.training.train --data babble.npz --out inverse.pt

The samples are split before anything else (`babbling.split`, per session):
training, early-stopping and test samples are disjoint, and the checkpoint
records which samples were trained and validated on (their content digests), so
`emo_inverse.training.evaluate` can refuse a test set that overlaps them. Each epoch
combines upper-face and lower-face training samples afresh (the paper's
augmentation) and, with --whole-share, mixes in that share of whole-face
babbling samples. Early stopping on the validation samples: the mean of the L1
on 1000 augmented faces (fixed seed) and on the whole-face ones. When the babbling measured the robot's
lag (the dataset's robot_lag), the checkpoint carries it (meta['robot_lag']):
the predictor's horizon defaults to it.
"""
import argparse
import hashlib
import json
import pathlib
import time

import numpy as np
import torch

from emo_inverse.training import babbling
from emo_inverse.model import InverseModel, save_checkpoint

WIDTHS = (256,)          # chosen by validation error and per-call cost (emo_inverse.training.architecture)
WHOLE_SHARE = 0.5        # share of whole-face samples per epoch, when the dataset has them (same)


def draw(data: dict, n: int, rng: np.random.Generator, whole_share: float = 0.0):
    """n training pairs: augmented upper + lower faces, and with whole_share that share of whole-face
    samples (drawn with replacement), shuffled together."""
    whole = np.flatnonzero(data['session'] == 'whole')
    n_whole = int(round(n * whole_share)) if len(whole) else 0
    x, y = babbling.augment(data, n - n_whole, rng)
    if n_whole:
        pick = rng.choice(whole, n_whole)
        x = np.concatenate([x, data['faces'][pick].astype(np.float32)])
        y = np.concatenate([y, data['commands'][pick].astype(np.float32)])
        order = rng.permutation(n)
        x, y = x[order], y[order]
    return x, y


def validation_set(val: dict, seed: int):
    """The early-stopping faces: 1000 augmented (fixed seed) and every whole-face validation sample."""
    x, y = babbling.augment(val, 1000, np.random.default_rng(seed + 1))
    whole = val['session'] == 'whole'
    return (np.concatenate([x, val['faces'][whole].astype(np.float32)]),
            np.concatenate([y, val['commands'][whole].astype(np.float32)]), len(x))


def train(data: dict, widths=WIDTHS, lr: float = 1e-3, batch: int = 128, epochs: int = 300,
          per_epoch: int = 4000, patience: int = 25, seed: int = 0, whole_share: float = WHOLE_SHARE,
          progress: bool = True, parts: babbling.Split = None):
    """(model, history, parts): the model with the lowest validation L1, every epoch's losses, the split."""
    from tqdm import tqdm
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    parts = parts or babbling.split(data, seed=seed)
    val_x, val_y, n_aug = validation_set(parts.val, seed)
    val_x_t, val_y_t = torch.from_numpy(val_x), torch.from_numpy(val_y)
    model = InverseModel(widths, data['rest_face'])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, since, history = np.inf, None, 0, []
    for epoch in tqdm(range(epochs), desc='training', disable=not progress):
        model.train()
        x, y = draw(parts.train, per_epoch, rng, whole_share)
        losses = []
        for i in range(0, per_epoch, batch):
            if per_epoch - i < 2:
                break                       # batch norm needs two samples
            pred = model(torch.from_numpy(x[i:i + batch]))
            loss = torch.nn.functional.mse_loss(pred, torch.from_numpy(y[i:i + batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with torch.inference_mode():
            err = (model(val_x_t) - val_y_t).abs().mean(dim=1).numpy()
        row = {'epoch': epoch, 'train_mse': float(np.mean(losses)), 'val_l1_augmented': float(err[:n_aug].mean())}
        row['val_l1'] = row['val_l1_augmented']
        if len(err) > n_aug:             # the two kinds of face count alike (a person shows whole faces)
            row['val_l1_whole'] = float(err[n_aug:].mean())
            row['val_l1'] = (row['val_l1_augmented'] + row['val_l1_whole']) / 2
        history.append(row)
        if row['val_l1'] < best - 1e-6:
            best, since, best_state = row['val_l1'], 0, {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    return model.eval(), history, parts


def dataset_digest(data: dict) -> str:
    return hashlib.sha256(np.ascontiguousarray(data['commands'], np.float32).tobytes()
                          + np.ascontiguousarray(data['faces'], np.float32).tobytes()).hexdigest()[:16]


def split_record(data: dict, parts: babbling.Split, seed: int) -> dict:
    """What the checkpoint keeps of its split: the samples it trained and stopped on, by content."""
    digests = babbling.sample_digests(data)
    return {'by': 'babbling sample, per session, before augmentation', 'seed': seed,
            'dataset_digest': dataset_digest(data),
            'counts': {k: int(len(v)) for k, v in parts.index.items()},
            'train_digests': [digests[i] for i in parts.index['train']],
            'val_digests': [digests[i] for i in parts.index['val']],
            'test_index': [int(i) for i in parts.index['test']]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=pathlib.Path, required=True, help='babbling dataset (.npz)')
    parser.add_argument('--widths', default=','.join(map(str, WIDTHS)), help='hidden layer widths, comma-separated')
    parser.add_argument('--whole-share', type=float, default=WHOLE_SHARE,
                        help='share of whole-face babbling samples per epoch (when the dataset has them)')
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--epochs', type=int, default=300)
    parser.add_argument('--patience', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    widths = tuple(int(w) for w in args.widths.split(',') if w)
    t0 = time.time()
    data = babbling.load(args.data)
    model, history, parts = train(data, widths, args.lr, args.batch, args.epochs, patience=args.patience,
                                  seed=args.seed, whole_share=args.whole_share)
    best = min(history, key=lambda h: h['val_l1'])
    meta = {'trained_on': str(args.data), 'samples': int(len(data['commands'])),
            'sessions': sorted(set(data['session'].tolist())), 'widths': list(widths),
            'loss': 'MSE on the 11 commands', 'whole_share': args.whole_share,
            'val_l1': best['val_l1'], 'best_epoch': best['epoch'], 'epochs_run': len(history), 'lr': args.lr,
            'seed': args.seed, 'parameters': model.parameter_count(), 'seconds': round(time.time() - t0, 1),
            'split': split_record(data, parts, args.seed)}
    if data.get('robot_lag'):
        meta['robot_lag'] = data['robot_lag']       # the head's lag, measured while babbling
    else:
        print(f'{args.data} has no measured lag: the checkpoint will not carry one '
              f'(python -m emo_inverse.training.measure_lag --model {args.out} measures it on the simulated head)')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, meta)
    print(json.dumps({k: v for k, v in meta.items() if k not in ('robot_lag', 'split')}, indent=1))
    print(f"split: {meta['split']['counts']} samples (train, early stopping, test), by babbling sample")
    if 'robot_lag' in meta:
        print(f"robot lag {meta['robot_lag']['lag_s']:.3f} s saved with the self-model")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
