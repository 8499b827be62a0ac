"""Fit the forecaster of the face at t + h on whole landmark sequences (real people, generated faces).

    data = ForecastData.from_sequences(seqs)                 # real people (corpus.Sequence) ...
    generated = ForecastData.from_sequences(generated_sequences(600, seed=0))   # ... and generated faces
    forecaster, losses = fit(data.join(generated), kind='mlp', generated_weight=0.5)
    choice = select(data, DEFAULT_GRID, folds=3, generated=generated)   # by leave-people-out validation

Every frame is a sample (its future is its label, at every trained horizon);
the features are the run-time ones (forecast_model.motion_features on the
same 30 Hz grid). The loss is the mean absolute error of the change of the
face (the figure reported is a mean absolute error). Samples are drawn so that
each real person weighs about the same (the square root of their footage, over
their own copy-current error: a long or jittery recording does not decide it)
and all generated faces together `generated_weight` of a real person. Both
kinds start from copy-current (all weights zero). Validation folds hold real
people out; generated faces are always on the training side.

- linear: a temporal filter shared by every coordinate + a linear motion model
  in a basis of the people's face motions (PCA), Adam.
- mlp: the same filter + a 2-layer MLP (GELU, 32 units) on the motion in a basis
  of each region's 2 main motions and the 21 state numbers; AdamW with a
  one-cycle schedule; each sample's motion and label scaled by a random factor
  (e^U(-0.7, 0.7)), so that it learns shapes of motion more than one person's
  amplitudes. At run time its output is shrunk by gamma, chosen by validation.
"""
from dataclasses import dataclass

import numpy as np

from emo_prediction.training.forecast_data import grid_windows
from emo_prediction.forecast_model import (HORIZON_FRAMES, N_FEATURES, N_GRID, LinearForecaster, MLPForecaster,
                                           motion_features, region_columns, region_rows)

SELECT_HORIZON = 6                     # 200 ms: the horizon validation ranks candidates at
GAMMAS = (0.125, 0.25, 0.375, 0.5)     # the MLP's shrinkage, chosen with the other settings
# What validation chooses from: the kind of model and the weight of generated footage.
DEFAULT_GRID = [{'kind': 'linear', 'generated_weight': 0.0},
                {'kind': 'mlp', 'generated_weight': 0.0},
                {'kind': 'mlp', 'generated_weight': 0.5}]
GENERATED_PREFIX = 'synthetic_'          # person ids of generated faces (emo_prediction.training.synthetic)


@dataclass
class ForecastData:
    x: np.ndarray            # (m, 8, 226) motion offsets (forecast_model.motion_features)
    state: np.ndarray        # (m, 21) scale-free state
    change: np.ndarray       # (m, K, 226) the face at each horizon minus the newest face
    valid: np.ndarray        # (m, K) the sequence still has that horizon
    person: np.ndarray       # (m,) str

    FIELDS = ('x', 'state', 'change', 'valid', 'person')

    def __len__(self):
        return len(self.person)

    def subset(self, mask) -> 'ForecastData':
        return ForecastData(*(getattr(self, f)[mask] for f in self.FIELDS))

    def of(self, people) -> 'ForecastData':
        return self.subset(np.isin(self.person, list(people)))

    def join(self, other: 'ForecastData') -> 'ForecastData':
        if other is None or not len(other):
            return self
        return ForecastData(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in self.FIELDS))

    @property
    def people(self) -> list:
        return sorted(np.unique(self.person).tolist())

    @classmethod
    def from_sequences(cls, seqs, horizon_frames=HORIZON_FRAMES, chunk: int = 512) -> 'ForecastData':
        """seqs: objects with .times, .face_xy, .person (corpus.Sequence, or generated clips wrapped alike)."""
        columns = region_columns(region_rows())
        k = np.asarray(horizon_frames) - 1
        parts = []
        for seq in seqs:
            past, future, valid, _ = grid_windows(seq.times, seq.face_xy, N_GRID, int(max(horizon_frames)))
            for i in range(0, len(past), chunk):
                p = past[i:i + chunk]
                x, state = motion_features(p, columns)
                parts.append((x.astype(np.float32), state.astype(np.float32),
                              (future[i:i + chunk][:, k] - p[:, -1:]).astype(np.float32), valid[i:i + chunk][:, k],
                              np.full(len(p), seq.person)))
        if not parts:
            raise ValueError('no sequence gave a forecasting sample')
        return cls(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


class _Seq:
    def __init__(self, clip):
        self.face_xy, self.person, self.fps = clip.face_xy, clip.person_id, clip.fps
        self.times = np.arange(len(clip.face_xy)) / clip.fps


def generated_sequences(seconds: float, seed: int = 0, people: int = 20, clip_s: float = 30.0, first_person: int = 0):
    """Continuous generated footage (calm, talking, blinks, expressions that rise and return) of
    `people` generated faces, `seconds` in all, as sequences for ForecastData."""
    from emo_prediction.training.synthetic import ExpressionGenerator
    gen = ExpressionGenerator(seed)
    n = max(1, int(round(seconds / clip_s)))
    return [_Seq(gen.continuous_clip(gen.person(first_person + k % people), clip_s)) for k in range(n)]


def sample_weights(data: ForecastData, generated_weight: float = 1.0, power: float = 0.5) -> np.ndarray:
    """Probability of drawing each sample: a real person's samples together weigh N_p^(1-power) over
    their mean copy-current error; all generated people's together `generated_weight` of a real one."""
    k = HORIZON_FRAMES.index(SELECT_HORIZON)
    generated = np.char.startswith(data.person.astype(str), GENERATED_PREFIX)
    group = np.where(generated, GENERATED_PREFIX, data.person)
    w = np.zeros(len(data))
    totals = {}
    for g in np.unique(group):
        m = group == g
        copy = np.abs(data.change[m, k]).mean() if data.valid[m, k].any() else 1.0
        w[m] = 1.0 / (m.sum() ** power * max(float(copy), 1e-6))
        totals[g] = w[m].sum()
    real = [g for g in totals if g != GENERATED_PREFIX]
    if GENERATED_PREFIX in totals:
        scale = (generated_weight * np.mean([totals[g] for g in real]) if real else 1.0) / totals[GENERATED_PREFIX]
        w[generated] *= scale
    return w / w.sum()


def principal_motions(change: np.ndarray, weights: np.ndarray, n_components: int, columns=None) -> np.ndarray:
    """(C, 226) the main directions of the changes (weighted, uncentred PCA); with `columns`, the
    first n_components of each region (zero outside it)."""
    def top(a, w, k):
        cov = (a * w[:, None]).T @ a / w.sum()
        return np.ascontiguousarray(np.linalg.eigh(cov)[1][:, ::-1][:, :k].T)
    if columns is None:
        return top(change, weights, n_components)
    basis = np.zeros((n_components * len(columns), change.shape[1]))
    for j, c in enumerate(columns):
        basis[j * n_components:(j + 1) * n_components][:, c] = top(change[:, c], weights, n_components)
    return basis


def _draw(data, generated_weight, n, rng):
    p = sample_weights(data, generated_weight)
    return rng.choice(len(data), n, p=p), p


ADAPT_MOTIONS = 16                     # principal motions kept for online adaptation


def fit(data: ForecastData, kind: str = 'mlp', generated_weight: float = 0.0, seed: int = 0, threads: int = 0,
        **kwargs) -> tuple:
    """(forecaster, per-epoch losses) of `kind` fitted on `data`; it also keeps the people's main
    face motions (at 200 ms, whole face), the space online adaptation learns in."""
    import torch
    if threads:
        torch.set_num_threads(threads)
    if kind not in ('linear', 'mlp'):
        raise ValueError(f"kind must be 'linear' or 'mlp', got {kind!r}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    fitted, losses = (_fit_linear if kind == 'linear' else _fit_mlp)(data, generated_weight, rng, **kwargs)
    idx, _ = _draw(data, generated_weight, min(len(data), 6000), rng)
    k = HORIZON_FRAMES.index(SELECT_HORIZON)
    rows = idx[data.valid[idx, k]]
    fitted.motions = principal_motions(data.change[rows, k].astype(np.float64), np.ones(len(rows)), ADAPT_MOTIONS)
    return fitted, losses


def _labels(data, idx, torch):
    return (torch.from_numpy(data.change[idx]), torch.from_numpy(data.valid[idx].astype(np.float32)))


def _l1(pred, target, valid):
    err = (pred - target).abs().mean(dim=2)
    return (err * valid).sum() / valid.sum().clamp(min=1.0)


def _fit_linear(data, generated_weight, rng, n_components: int = 16, weight_decay: float = 1e-3, epochs: int = 10,
                samples_per_epoch: int = 8192, batch: int = 512, lr: float = 3e-3, **_):
    import torch
    idx, p = _draw(data, generated_weight, min(len(data), 6000), rng)
    basis = principal_motions(data.change[idx][data.valid[idx]].astype(np.float64), np.ones(data.valid[idx].sum()),
                              n_components)
    B = torch.tensor(basis, dtype=torch.float32)
    K, C = data.change.shape[1], len(basis)
    filt = torch.zeros(K, N_FEATURES, requires_grad=True)
    mix = torch.zeros(K, N_FEATURES * C, C, requires_grad=True)
    opt = torch.optim.Adam([filt, mix], lr=lr)
    losses = []
    for _ in range(epochs):
        order = rng.choice(len(data), samples_per_epoch, p=p)
        total = 0.0
        for i in range(0, len(order), batch):
            b = order[i:i + batch]
            x = torch.from_numpy(data.x[b])
            target, valid = _labels(data, b, torch)
            z = (x @ B.T).reshape(len(b), -1)
            pred = torch.einsum('kj,bjd->bkd', filt, x) + torch.einsum('bi,kic->bkc', z, mix) @ B
            loss = _l1(pred, target, valid) + weight_decay * (mix ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        losses.append(total / len(order))
    return LinearForecaster(basis, filt.detach().numpy(), mix.detach().numpy()), losses


def _fit_mlp(data, generated_weight, rng, per_region: int = 2, hidden: int = 32, epochs: int = 20,
             samples_per_epoch: int = 8192, batch: int = 256, lr: float = 2e-3, weight_decay: float = 1e-4,
             amplitude: float = 0.7, gamma: float = 0.25, **_):
    import torch
    from torch import nn
    regions = region_rows()
    columns = region_columns(regions)
    idx, p = _draw(data, generated_weight, min(len(data), 6000), rng)
    k = HORIZON_FRAMES.index(SELECT_HORIZON)
    rows = idx[data.valid[idx, k]]
    basis = principal_motions(data.change[rows, k].astype(np.float64), np.ones(len(rows)), per_region, columns)
    U = torch.tensor(basis, dtype=torch.float32)
    K, C = data.change.shape[1], len(basis)
    # Input scaling from a sample of the training draw.
    x0 = torch.from_numpy(data.x[idx])
    z0 = torch.cat([(x0 @ U.T).reshape(len(idx), -1), torch.from_numpy(data.state[idx])], dim=1)
    z_mean, z_scale = z0.mean(0), z0.std(0) + 1e-6
    n_motion = N_FEATURES * C
    filt = nn.Parameter(torch.zeros(K, N_FEATURES))
    net = nn.Sequential(nn.Linear(z0.shape[1], hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                        nn.Linear(hidden, K * C))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    opt = torch.optim.AdamW([filt] + list(net.parameters()), lr=lr, weight_decay=weight_decay)
    steps = samples_per_epoch // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps)
    losses = []
    for _ in range(epochs):
        order = rng.choice(len(data), steps * batch, p=p)
        total = 0.0
        for i in range(steps):
            b = order[i * batch:(i + 1) * batch]
            scale = torch.exp(torch.empty(len(b), 1).uniform_(-amplitude, amplitude))
            x = torch.from_numpy(data.x[b]) * scale[..., None]
            target, valid = _labels(data, b, torch)
            z = torch.cat([(x @ U.T).reshape(len(b), -1), torch.from_numpy(data.state[b])], dim=1)
            out = net((z - z_mean) / z_scale).view(len(b), K, C)
            pred = torch.einsum('kj,bjd->bkd', filt, x) + out @ U
            loss = _l1(pred, target * scale[..., None], valid)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        losses.append(total / steps)
    layers = [(m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
              for m in net if isinstance(m, nn.Linear)]
    assert n_motion + data.state.shape[1] == layers[0][0].shape[0]
    return MLPForecaster(basis, filt.detach().numpy(), layers, z_mean.numpy(), z_scale.numpy(), gamma,
                         regions=regions), losses


def person_ratios(forecaster, data: ForecastData, k: int) -> dict:
    """Per person: mean |forecast error| / mean |copy-current error| at trained horizon k (vectorised)."""
    out = {}
    for p in np.unique(data.person):
        d = data.subset((data.person == p) & data.valid[:, k])
        if not len(d):
            continue
        truth = d.change[:, k].astype(np.float64)
        err = np.abs(predicted_change(forecaster, d, k) - truth).mean()
        copy = np.abs(truth).mean()
        if copy > 0:
            out[p] = float(err / copy)
    return out


def predicted_change(forecaster, data: ForecastData, k: int) -> np.ndarray:
    """(m, 226) the forecaster's change at trained horizon k for precomputed features (vectorised)."""
    x = data.x.astype(np.float64)
    z = x @ forecaster.basis.T                                       # (m, 8, C)
    lin = np.einsum('j,mjd->md', forecaster.filter[k], x)
    if isinstance(forecaster, LinearForecaster):
        return lin + (z.reshape(len(x), -1) @ forecaster.mix[k]) @ forecaster.basis
    from emo_prediction.forecast_model import gelu
    h = (np.concatenate([z.reshape(len(x), -1), data.state], axis=1) - forecaster.z_mean) / forecaster.z_scale
    for w, b in forecaster.layers[:-1]:
        h = gelu(h @ w + b)
    w, b = forecaster.layers[-1]
    c = len(forecaster.basis)
    out = h @ w[:, k * c:(k + 1) * c] + b[k * c:(k + 1) * c]
    return lin + forecaster.gamma * (out @ forecaster.basis)


def select(data: ForecastData, grid: list, folds: int = 3, seed: int = 0, generated: ForecastData = None,
           progress: bool = False) -> dict:
    """The grid candidate (with the MLP's gamma) of lowest mean per-person ratio to copy-current at
    SELECT_HORIZON over `folds` folds of the (real) people in `data`: leave-people-out inside the
    training people."""
    from emo_prediction.training.corpus import leave_person_out
    k = HORIZON_FRAMES.index(SELECT_HORIZON)
    people = data.people
    scores = []
    for cand in grid:
        gammas = GAMMAS if cand.get('kind', 'mlp') == 'mlp' and 'gamma' not in cand else (None,)
        ratios = {g: [] for g in gammas}
        for train_p, val_p in leave_person_out(people, folds, seed):
            model, _ = fit(data.of(train_p).join(generated), seed=seed, **cand)
            val = data.of(val_p)
            for g in gammas:
                if g is not None:
                    model.gamma = g
                ratios[g] += list(person_ratios(model, val, k).values())
        for g in gammas:
            c = dict(cand, **({'gamma': g} if g is not None else {}))
            scores.append({'candidate': c, 'ratio': float(np.mean(ratios[g]))})
            if progress:
                print(f'  candidate {c}: validation ratio {scores[-1]["ratio"]:.4f}', flush=True)
    best = min(scores, key=lambda s: s['ratio'])
    return {'choice': best['candidate'], 'scores': scores}
