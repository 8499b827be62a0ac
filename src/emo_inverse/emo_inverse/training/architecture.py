"""Choose the self-model's architecture by evidence: validation error and per-call cost.

    python -m emo_inverse.training.architecture --data babble.npz --out results/inverse_architecture.json

Every candidate (hidden widths x share of whole-face samples per epoch) is
trained by `emo_inverse.training.train` on the same split and seeds; it is judged on the
early-stopping (validation) samples only, augmented and whole-face, never on
the test samples, which `emo_inverse.training.evaluate` reports on afterwards. Cost: the
median time of one `NumpyInverse.predict` call (what the inverse node runs per
face) on this machine.
"""
import argparse
import datetime
import json
import pathlib
import time

import numpy as np

from emo_common.provenance import git_commit
from emo_inverse.training import babbling
from emo_inverse.model import NumpyInverse
from emo_inverse.training.train import train

CANDIDATES = [(256,), (1024,), (256, 256), (512, 256), (1024, 512), (1024, 512, 256)]
WHOLE_SHARES = (0.0, 0.5)


def call_cost_us(model, faces: np.ndarray, calls: int = 2000) -> float:
    fast = NumpyInverse(model)
    times = np.empty(calls)
    for i in range(calls):
        face = faces[i % len(faces)]
        t0 = time.perf_counter()
        fast.predict(face)
        times[i] = time.perf_counter() - t0
    return float(np.median(times) * 1e6)


def compare(data: dict, candidates=CANDIDATES, shares=WHOLE_SHARES, seeds=(0, 1), epochs: int = 300,
            progress: bool = True) -> list:
    rows = []
    parts = babbling.split(data, seed=0)                     # one split for every candidate
    for widths in candidates:
        for share in shares:
            runs = []
            for seed in seeds:
                t0 = time.time()
                model, history, _ = train(data, widths, epochs=epochs, seed=seed, whole_share=share,
                                          progress=False, parts=parts)
                best = min(history, key=lambda h: h['val_l1'])
                runs.append({'seed': seed, 'val_l1': best['val_l1'], 'val_l1_augmented': best['val_l1_augmented'],
                             'val_l1_whole': best.get('val_l1_whole'), 'best_epoch': best['epoch'],
                             'train_seconds': round(time.time() - t0, 1)})
            row = {'widths': list(widths), 'whole_share': share, 'parameters': model.parameter_count(),
                   'call_us': call_cost_us(model, parts.val['faces'].astype(np.float32)), 'runs': runs}
            for key in ('val_l1', 'val_l1_augmented', 'val_l1_whole'):
                vals = [r[key] for r in runs if r[key] is not None]
                row[key] = float(np.mean(vals)) if vals else None
            rows.append(row)
            if progress:
                print(f"{str(list(widths)):>18} whole {share:.1f}: val L1 {row['val_l1']:.4f} (augmented "
                      f"{row['val_l1_augmented']:.4f}, whole {row['val_l1_whole'] or float('nan'):.4f}), "
                      f"{row['parameters']} parameters, {row['call_us']:.0f} us a call", flush=True)
    return rows


def main(argv=None) -> int:
    from emo_inverse import default_path
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=pathlib.Path, default=None, help='babbling dataset (default: the shipped one)')
    parser.add_argument('--epochs', type=int, default=300)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    data_path = args.data or pathlib.Path(default_path('babble_default.npz'))
    rows = compare(babbling.load(data_path), epochs=args.epochs)
    best = min(rows, key=lambda r: r['val_l1'])
    # Within 2 % of the lowest validation error, the cheapest call wins.
    choice = min((r for r in rows if r['val_l1'] <= 1.02 * best['val_l1']), key=lambda r: r['call_us'])
    out = {'protocol': {'commit': git_commit(short=True), 'date': datetime.datetime.now(datetime.timezone.utc)
                        .isoformat(timespec='seconds'), 'data': str(data_path),
                        'judged_on': 'validation (early-stopping) samples: mean of the L1 on 1000 augmented faces '
                                     'and on the whole-face ones; mean of 2 training seeds; test samples untouched',
                        'rule': 'lowest validation L1; within 2 % of it, the cheapest call'},
           'candidates': rows, 'lowest': {k: best[k] for k in ('widths', 'whole_share', 'val_l1')},
           'choice': {k: choice[k] for k in ('widths', 'whole_share', 'val_l1', 'call_us', 'parameters')}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"choice: widths {choice['widths']}, whole share {choice['whole_share']} "
          f"(val L1 {choice['val_l1']:.4f}, {choice['call_us']:.0f} us a call); wrote {args.out}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
