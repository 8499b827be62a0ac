"""Fit the forecaster of the face at t + h on whole landmark sequences (real people, generated faces).

    data = ForecastData.from_sequences(seqs)                 # real people (corpus.Sequence) ...
    generated = ForecastData.from_sequences(generated_sequences(600, seed=0))   # ... and generated faces
    forecaster, losses = fit_linear(data.join(generated), n_components=16, weight_decay=1e-3, generated_weight=1.0)
    choice = select(data, DEFAULT_GRID, folds=3, generated=generated)   # by leave-people-out validation

Every frame is a sample; the loss is the mean absolute error of the change of
the face at the trained horizons, each real person weighing the same (one
person's long recording does not decide it) and all generated faces together
`generated_weight` real people. Starting from copy-current (all weights
zero), so that what is learned is only what the training people share.
Validation folds are made of real people only; generated faces are always
on the training side.
"""
from dataclasses import dataclass

import numpy as np

from emo_prediction.forecast_data import grid_windows
from emo_prediction.forecast_model import LinearForecaster

LAGS = (1, 2, 3, 4, 6, 9, 14)          # grid frames back (30 Hz): 33 ms .. 0.47 s
MEAN_FRAMES = 30                        # the last 1 s
HORIZON_FRAMES = (1, 2, 3, 4, 6, 8, 10, 12, 15)   # 33 ms .. 0.5 s
SELECT_HORIZON = 6                     # 200 ms: the horizon validation ranks candidates at
# Hyperparameters validation chooses from: size of the motion basis, how strongly its motion
# model is held to zero (copy-current), and the weight of the generated footage (in real people).
DEFAULT_GRID = [{'n_components': 16, 'weight_decay': 1e-4, 'generated_weight': 1.0},
                {'n_components': 16, 'weight_decay': 1e-3, 'generated_weight': 1.0},
                {'n_components': 16, 'weight_decay': 1e-3, 'generated_weight': 0.0},
                {'n_components': 8, 'weight_decay': 1e-3, 'generated_weight': 1.0}]


@dataclass
class ForecastData:
    offsets: np.ndarray      # (m, J, 226) motion features (LinearForecaster.offsets)
    change: np.ndarray       # (m, K, 226) the face at each horizon minus the newest face
    valid: np.ndarray        # (m, K) the sequence still has that horizon
    person: np.ndarray       # (m,) str
    lags: tuple
    mean_frames: int
    horizon_frames: tuple

    def __len__(self):
        return len(self.person)

    def subset(self, mask) -> 'ForecastData':
        return ForecastData(self.offsets[mask], self.change[mask], self.valid[mask], self.person[mask],
                            self.lags, self.mean_frames, self.horizon_frames)

    def of(self, people) -> 'ForecastData':
        return self.subset(np.isin(self.person, list(people)))

    def join(self, other: 'ForecastData') -> 'ForecastData':
        if other is None or not len(other):
            return self
        if (other.lags, other.mean_frames, other.horizon_frames) != (self.lags, self.mean_frames, self.horizon_frames):
            raise ValueError('forecasting samples built with different lags, mean or horizons')
        return ForecastData(*(np.concatenate([getattr(self, f), getattr(other, f)])
                              for f in ('offsets', 'change', 'valid', 'person')),
                            self.lags, self.mean_frames, self.horizon_frames)

    @property
    def people(self) -> list:
        return sorted(np.unique(self.person).tolist())

    @classmethod
    def from_sequences(cls, seqs, lags=LAGS, mean_frames=MEAN_FRAMES, horizon_frames=HORIZON_FRAMES,
                       stride: int = 1) -> 'ForecastData':
        """seqs: objects with .times, .face_xy, .person (corpus.Sequence, or generated clips wrapped alike)."""
        lags = tuple(int(v) for v in lags)
        n_past = max(max(lags), mean_frames) + 1
        n_future = max(horizon_frames)
        parts = []
        for seq in seqs:
            past, future, valid, _ = grid_windows(seq.times, seq.face_xy, n_past, n_future, stride=stride)
            if not len(past):
                continue
            newest = past[:, -1:]
            off = np.concatenate([past[:, -1 - np.array(lags)] - newest,
                                  past[:, -mean_frames:].mean(axis=1, keepdims=True) - newest], axis=1)
            k = np.array(horizon_frames) - 1
            parts.append((off.astype(np.float32), (future[:, k] - newest).astype(np.float32), valid[:, k],
                          np.full(len(past), seq.person)))
        if not parts:
            raise ValueError('no sequence gave a forecasting sample')
        return cls(*(np.concatenate([p[i] for p in parts]) for i in range(4)), lags, mean_frames,
                   tuple(horizon_frames))


def principal_motions(data: ForecastData, n_components: int, max_rows: int = 6000, seed: int = 0) -> np.ndarray:
    """(C, 226) the main directions of face motion: PCA (uncentred) of the changes and offsets,
    each person contributing the same number of rows."""
    rng = np.random.default_rng(seed)
    people = np.unique(data.person)
    per = max(1, max_rows // len(people))
    rows = []
    for p in people:
        idx = np.flatnonzero(data.person == p)
        idx = rng.choice(idx, min(per, len(idx)), replace=False)
        rows.append(data.change[idx][data.valid[idx]])
        rows.append(data.offsets[idx, 0])
    m = np.concatenate(rows).astype(np.float64)
    return np.linalg.svd(m, full_matrices=False)[2][:n_components]


GENERATED_PREFIX = 'synthetic_'          # person ids of generated faces (emo_prediction.synthetic)


def person_weights(person: np.ndarray, generated_weight: float = 1.0) -> np.ndarray:
    """Each real person's samples together weigh 1; all generated people's together `generated_weight`."""
    generated = np.char.startswith(person.astype(str), GENERATED_PREFIX)
    group = np.where(generated, GENERATED_PREFIX, person)
    _, inverse, counts = np.unique(group, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    return np.where(generated, w * generated_weight, w)


class _Seq:
    def __init__(self, clip):
        self.face_xy, self.person, self.fps = clip.face_xy, clip.person_id, clip.fps
        self.times = np.arange(len(clip.face_xy)) / clip.fps


def generated_sequences(seconds: float, seed: int = 0, people: int = 20, clip_s: float = 30.0, first_person: int = 0):
    """Continuous generated footage (calm, talking, blinks, expressions that rise and return) of
    `people` generated faces, `seconds` in all, as sequences for ForecastData."""
    from emo_prediction.synthetic import ExpressionGenerator
    gen = ExpressionGenerator(seed)
    n = max(1, int(round(seconds / clip_s)))
    return [_Seq(gen.continuous_clip(gen.person(first_person + k % people), clip_s)) for k in range(n)]


def fit_linear(data: ForecastData, n_components: int = 16, weight_decay: float = 1e-3, epochs: int = 10,
               samples_per_epoch: int = 8192, batch: int = 512, lr: float = 3e-3, seed: int = 0, threads: int = 0,
               generated_weight: float = 1.0) -> tuple:
    """(LinearForecaster, per-epoch losses) fitted by L1 on `data`."""
    import torch
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    basis = principal_motions(data, n_components, seed=seed)
    B = torch.tensor(basis, dtype=torch.float32)
    K, J, C = len(data.horizon_frames), data.offsets.shape[1], len(basis)
    filt = torch.zeros(K, J, requires_grad=True)
    mix = torch.zeros(K, J * C, C, requires_grad=True)
    opt = torch.optim.Adam([filt, mix], lr=lr)
    w_all = person_weights(data.person, generated_weight)
    losses = []
    for _ in range(epochs):
        # Draw samples with probability by weight (people equal); neighbouring frames are nearly
        # the same sample, so an epoch need not visit every frame.
        order = rng.choice(len(data), samples_per_epoch, p=w_all / w_all.sum())
        total = 0.0
        for i in range(0, len(order), batch):
            b = order[i:i + batch]
            off = torch.from_numpy(data.offsets[b])
            target = torch.from_numpy(data.change[b])
            valid = torch.from_numpy(data.valid[b].astype(np.float32))
            z = (off @ B.T).reshape(len(b), -1)
            pred = torch.einsum('kj,bjd->bkd', filt, off) + torch.einsum('bi,kic->bkc', z, mix) @ B
            err = (pred - target).abs().mean(dim=2)
            loss = (err * valid).sum() / valid.sum().clamp(min=1) + weight_decay * (mix ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        losses.append(total / len(order))
    forecaster = LinearForecaster(data.lags, data.mean_frames, data.horizon_frames, basis,
                                  filt.detach().numpy().astype(np.float64), mix.detach().numpy().astype(np.float64))
    return forecaster, losses


def predicted_change(forecaster: LinearForecaster, offsets: np.ndarray, k: int) -> np.ndarray:
    """(m, 226) the forecaster's change at trained horizon k for precomputed offsets (vectorised)."""
    z = (offsets @ forecaster.basis.T).reshape(len(offsets), -1)
    return np.einsum('j,mjd->md', forecaster.filter[k], offsets) + (z @ forecaster.mix[k]) @ forecaster.basis


def person_ratios(forecaster: LinearForecaster, data: ForecastData, k: int) -> dict:
    """Per person: mean |forecast error| / mean |copy-current error| at trained horizon k."""
    out = {}
    for p in np.unique(data.person):
        d = data.subset((data.person == p) & data.valid[:, k])
        if not len(d):
            continue
        truth = d.change[:, k].astype(np.float64)
        err = np.abs(predicted_change(forecaster, d.offsets.astype(np.float64), k) - truth).mean()
        copy = np.abs(truth).mean()
        if copy > 0:
            out[p] = float(err / copy)
    return out


def select(data: ForecastData, grid: list, folds: int = 3, seed: int = 0, generated: ForecastData = None,
           progress: bool = False) -> dict:
    """The grid candidate with the lowest mean per-person ratio to copy-current at SELECT_HORIZON,
    over `folds` folds of the (real) people in `data`: leave-people-out inside the training people."""
    from emo_prediction.corpus import leave_person_out
    k = data.horizon_frames.index(SELECT_HORIZON)
    people = data.people
    scores = []
    for cand in grid:
        ratios = []
        for train_p, val_p in leave_person_out(people, folds, seed):
            train = data.of(train_p).join(generated)
            model, _ = fit_linear(train, seed=seed, **cand)
            ratios += list(person_ratios(model, data.of(val_p), k).values())
        scores.append(float(np.mean(ratios)))
        if progress:
            print(f'  candidate {cand}: validation ratio {scores[-1]:.4f}', flush=True)
    best = int(np.argmin(scores))
    return {'choice': grid[best], 'scores': [{'candidate': c, 'ratio': s} for c, s in zip(grid, scores)]}
