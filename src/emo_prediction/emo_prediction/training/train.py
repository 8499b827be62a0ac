"""Train the predictive model (the paper's defaults: Adam, lr 1e-5, batch 128).

    python -m emo_prediction.training.train --data windows.npz --out model.pt
    python -m emo_prediction.training.train --synthetic 5000 --people 80 --lr 1e-3 --epochs 10 --patience 10 \
        --real ../shared/data/real_onsets --out predictor_default.pt                    # the shipped default

Each epoch draws fresh inputs and labels from every training window (the
paper's augmentation: 4 of the 9 frames around the peak activation, 1 of the 4
frames from the target on). Validation: mean absolute error of the target face
on fixed inputs. Stops early when validation has not improved for `patience`
epochs and keeps the best checkpoint.

The same checkpoint carries the forecaster of the face at t + h
(emo_prediction.training.train_forecast), fitted on the real corpus's sequences
(--real) and generated continuous footage (--generated-s), its settings
chosen by leave-people-out validation on the real people. The checkpoint's
meta records the sources, people and git commit it was trained on.
"""
import argparse
import json
import pathlib
import time

import numpy as np
import torch

from emo_prediction.training.dataset import WindowDataset, build_from_clips, synthetic_clips
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
    data, _ = build_from_clips(synthetic_clips(args.synthetic, args.people, args.seed),
                               progress=not getattr(args, 'quiet', False))
    return data


def real_windows(corpus, people) -> WindowDataset:
    """The paper's windows of the labelled onsets of `people` (from each onset's calm frames on)."""
    clips = []
    for seq in corpus.of(people):
        for o in seq.onsets:
            r0 = o['rest_frames'][0]
            clips.append((seq.face_xy[r0:o['end_frame'] + 1], seq.fps, seq.person,
                          o.get('onset_id', f"{seq.source_id}_{r0}"), o['label']))
    if not clips:
        return None
    data, _ = build_from_clips(clips, progress=False)
    return data


def train_target(args, corpus=None, people=(), data: WindowDataset = None) -> tuple:
    """(target-face model, meta, history): generated windows (or --data; or `data` already built),
    plus the real onsets of `people` repeated --real-repeat times (a handful of real onsets among
    thousands of generated ones)."""
    t0 = time.time()
    data = load_windows(args) if data is None else data
    real = real_windows(corpus, people) if corpus is not None and people else None
    train_set, val_set = data.split(args.split, 0.2, args.seed)
    if real is not None:
        train_set = WindowDataset.concatenate([train_set] + [real] * args.real_repeat)
    model, history = train(train_set, val_set, args.hidden, args.lr, args.batch, args.epochs, args.patience,
                           args.seed, progress=not args.quiet)
    best = min(history, key=lambda h: h['val_mae'])
    meta = {'trained_on': (str(args.data) if args.data else f'synthetic:{args.synthetic} clips, {args.people} people')
            + (f' + {len(real)} real onsets x{args.real_repeat}' if real is not None else ''),
            'real_people': sorted(set(real.participant.tolist())) if real is not None else [],
            'real_onsets': int(len(real)) if real is not None else 0,
            'synthetic': args.synthetic, 'people': args.people,
            'split': args.split, 'train_windows': len(train_set), 'val_windows': len(val_set),
            'lr': args.lr, 'batch': args.batch, 'seed': args.seed, 'epochs': args.epochs, 'patience': args.patience,
            'hidden': args.hidden, 'real_repeat': args.real_repeat, 'epochs_run': len(history),
            'best_epoch': best['epoch'], 'val_mae': best['val_mae'],
            'parameters': model.parameter_count(),
            # The expected time from the peak activation to the target face, for the node's lead_time.
            'median_lead_s': float(np.median(data.lead_s)), 'seconds': round(time.time() - t0, 1)}
    return model, meta, history


def train_forecaster(corpus, people, generated_s: float, grid, seed: int = 0, progress: bool = True) -> tuple:
    """(forecaster of the face at t + h, meta): hyperparameters (and the weight of the generated
    footage) chosen by 3 folds of the real `people`, then fitted on all of them."""
    from emo_prediction.training.train_forecast import ForecastData, fit, generated_sequences, select
    t0 = time.time()
    real = ForecastData.from_sequences(corpus.of(people)) if corpus is not None and people else None
    generated = ForecastData.from_sequences(generated_sequences(generated_s, seed)) if generated_s > 0 else None
    if real is None and generated is None:
        raise ValueError('a forecaster needs real sequences (--real) or generated footage (--generated-s)')
    if real is not None and len(grid) > 1:
        chosen = select(real, grid, folds=3, seed=seed, generated=generated, progress=progress)
    else:
        chosen = {'choice': grid[0], 'scores': []}
    data = real.join(generated) if real is not None else generated
    forecaster, losses = fit(data, seed=seed, **chosen['choice'])
    meta = {'kind': forecaster.kind, 'real_people': sorted(people) if real is not None else [],
            'real_sources': sorted({s.source_id for s in corpus.of(people)}) if real is not None else [],
            'real_frames': int(len(real)) if real is not None else 0,
            'generated_seconds': generated_s, 'generated_frames': int(len(generated)) if generated is not None else 0,
            'choice': chosen['choice'], 'validation': chosen['scores'], 'losses': losses,
            'horizons_s': [round(float(h), 4) for h in forecaster.horizons],
            'seconds': round(time.time() - t0, 1)}
    return forecaster, meta


def main(argv=None) -> int:
    from emo_common.provenance import git_commit
    from emo_prediction.training.train_forecast import DEFAULT_GRID
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', type=pathlib.Path, help='windows .npz from emo_prediction.training.build_dataset')
    src.add_argument('--synthetic', type=int, metavar='N', help='train on N generated expression clips')
    parser.add_argument('--people', type=int, default=60, help='generated people (with --synthetic)')
    parser.add_argument('--real', type=pathlib.Path, metavar='DIR',
                        help='a real-onsets corpus (shared/data/real_onsets layout): its onsets join the target '
                             "model's windows, its sequences train the forecaster")
    parser.add_argument('--exclude-people', nargs='*', default=[], help='corpus people left out (held-out tests)')
    parser.add_argument('--real-repeat', type=int, default=20, help='times each real onset window is repeated')
    parser.add_argument('--generated-s', type=float, default=600.0,
                        help='seconds of generated continuous footage for the forecaster (0: none)')
    parser.add_argument('--no-forecaster', action='store_true', help='train the target-face model only')
    parser.add_argument('--split', choices=['within', 'lpo'], default='within',
                        help='80:20 within each participant, or leave participants out')
    parser.add_argument('--hidden', type=int, default=128, help='hidden width (chosen by validation error and speed: src/emo_prediction/README.md)')
    parser.add_argument('--lr', type=float, default=1e-5)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--epochs', type=int, default=200)
    parser.add_argument('--patience', type=int, default=15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0 = torch default)')
    parser.add_argument('--quiet', action='store_true')
    parser.add_argument('--out', type=pathlib.Path, required=True, help='checkpoint to write (.pt)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus, people = None, []
    if args.real:
        from emo_prediction.training.corpus import load_corpus
        corpus = load_corpus(args.real)
        people = [p for p in corpus.people if p not in set(args.exclude_people)]
    model, meta, history = train_target(args, corpus, people)
    meta['git_commit'] = git_commit()
    if corpus is not None:
        meta['corpus'] = corpus.fingerprint()
        meta['excluded_people'] = sorted(args.exclude_people)
    forecaster, f_meta = None, None
    if not args.no_forecaster:
        forecaster, f_meta = train_forecaster(corpus, people, args.generated_s, DEFAULT_GRID, args.seed,
                                              progress=not args.quiet)
        f_meta['git_commit'] = meta['git_commit']
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, meta, forecaster, f_meta)
    args.out.with_suffix('.json').write_text(json.dumps({'meta': meta, 'forecaster': f_meta, 'history': history},
                                                        indent=1))
    print(json.dumps({'meta': meta, 'forecaster': f_meta}, indent=1))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
