"""Learned forecasters of the face at t + h, run as a few numpy products per frame.

    forecaster, meta = load_forecaster('predictor_default.pt')      # emo_prediction.model
    forecaster.update(t, face_xy)
    forecaster.forecast(0.2)                                        # (113, 2) the face 0.2 s after the newest

What a forecaster sees of the past (`motion_features`, the same code for
training and at run time), on the model grid (MODEL_RATE) ending at the newest
face x_t:
- X, 8 offsets of 226 coordinates: x_{t-l} - x_t for the last 6 grid frames
  (how the face got here; frame-to-frame motion is mostly tracking jitter, and
  the fit decides how much of it to trust), and the mean faces of the last 1 s
  and 3 s minus x_t (where a talking or blinking face returns to), each face
  region's mean offset clipped to CLIP (a held expression is not a place the
  face returns to);
- state, 21 scale-free numbers: per face region, the size of those mean offsets
  and of the step of 0.1 s, relative to the region's jitter (the mean second
  difference over the last 10 grid frames): whether this region is talking,
  moving away or still.

The change of the face at horizon k / MODEL_RATE (k = 1..15) is

    LinearForecaster:  sum_j a_kj X_j  +  B^T W_k vec(B X)         one temporal filter shared by every
                                                                   coordinate + a motion model in a basis B
    MLPForecaster:     sum_j a_kj X_j  +  gamma U mlp_k(U X, state)   the same filter + a small MLP in a
                                                                   basis U of each region's main motions

and a horizon between two trained ones is interpolated linearly. Both start
from copy-current (weights zero) and are fitted with an L1 loss
(emo_prediction.training.train_forecast); the MLP's share is shrunk by gamma, chosen by
validation on held-out people.
"""
import numpy as np
from scipy.special import erf

from emo_prediction.forecast import MODEL_RATE, Forecaster
from emo_common.layout import NUM_LANDMARKS

LAGS = (1, 2, 3, 4, 5, 6)      # grid frames back: the motion offsets
STATE_LAGS = 9                 # the jitter level: second differences over the last 10 grid frames
MEAN_FRAMES = (30, 90)         # the mean faces of the last 1 s and 3 s
CLIP = 0.012                   # face units: largest mean offset of a region from a mean face
N_GRID = max(MEAN_FRAMES)      # grid frames a forecaster looks at (3 s)
N_FEATURES = len(LAGS) + len(MEAN_FRAMES)
HORIZON_FRAMES = tuple(range(1, 16))     # 33 ms .. 0.5 s


def region_rows() -> list:
    """The face regions (row indices of the 113 points): jaw, lips, inner lips, eyes, brows."""
    from emo_common.layout import landmark_layout
    return list(landmark_layout()[2].values())


def region_columns(regions) -> list:
    """Each region's columns among the 226 coordinates (x, y of each row)."""
    return [np.stack([2 * np.asarray(r), 2 * np.asarray(r) + 1], axis=1).ravel() for r in regions]


def _clip(offset: np.ndarray, columns, clip: float) -> np.ndarray:
    """Each region's mean |offset| at most `clip` (regions may overlap: scaling one down keeps the others under)."""
    out = offset.copy()
    for c in columns:
        size = np.abs(out[..., c]).mean(axis=-1, keepdims=True)
        out[..., c] = out[..., c] * np.minimum(1.0, clip / np.maximum(size, 1e-9))
    return out


def motion_features(grid: np.ndarray, columns, clip: float = CLIP) -> tuple:
    """(X (..., 8, 226), state (..., 3 * regions)) from grid faces (..., >= N_GRID, 226), newest last."""
    grid = np.asarray(grid, np.float64)
    newest = grid[..., -1, :]
    lag = grid[..., -1 - np.arange(1, STATE_LAGS + 1), :] - newest[..., None, :]          # (..., 9, 226)
    means = [_clip(grid[..., -n:, :].mean(axis=-2) - newest, columns, clip) for n in MEAN_FRAMES]
    x = np.concatenate([lag[..., :len(LAGS), :]] + [m[..., None, :] for m in means], axis=-2)
    steps = np.concatenate([np.zeros_like(lag[..., :1, :]), lag], axis=-2)
    jitter = np.abs(steps[..., 2:, :] - 2 * steps[..., 1:-1, :] + steps[..., :-2, :]).mean(axis=-2)

    def per_region(a):
        return np.stack([a[..., c].mean(axis=-1) for c in columns], axis=-1)
    noise = per_region(jitter) + 1e-5
    state = np.log(np.concatenate([per_region(np.abs(means[0])) / noise, per_region(np.abs(means[1])) / noise,
                                   per_region(np.abs(lag[..., 2, :])) / noise], axis=-1) + 1e-3)
    return x, state


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class FeatureForecaster(Forecaster):
    """What the learned forecasters share: the history, the features of the newest frame, and the
    interpolation between trained horizons. Subclasses give `change(k)`, the change at horizon k."""
    history_s = (N_GRID + 2) / MODEL_RATE

    def __init__(self, horizon_frames=HORIZON_FRAMES, regions=None, motions=None, max_gap_s: float = 0.5):
        super().__init__(max_gap_s)
        # The people's main face motions (C, 226), whole face: the space online adaptation learns in.
        self.motions = None if motions is None else np.asarray(motions, np.float64)
        self.horizons = np.asarray(horizon_frames, float) / MODEL_RATE
        self.regions = [np.asarray(r, int) for r in (regions if regions is not None else region_rows())]
        self.columns = region_columns(self.regions)
        self._features = None

    def update(self, t, face_xy) -> None:
        super().update(t, face_xy)
        self._features = None

    def features(self) -> tuple:
        """(X (8, 226), state) of the newest frame."""
        if self._features is None:
            g = self.history.grid(N_GRID).reshape(N_GRID, -1)
            self._features = motion_features(g, self.columns)
        return self._features

    def change(self, k: int) -> np.ndarray:
        raise NotImplementedError

    def forecast(self, h: float):
        newest = self.history.newest
        if newest is None:
            return None
        if h <= 0:
            return newest.copy()
        hs = self.horizons
        if h <= hs[0]:                      # between now (no change) and the first horizon
            delta = self.change(0) * (h / hs[0])
        elif h >= hs[-1]:
            delta = self.change(len(hs) - 1)
        else:
            k = int(np.searchsorted(hs, h))
            w = (h - hs[k - 1]) / (hs[k] - hs[k - 1])
            delta = self.change(k - 1) * (1 - w) + self.change(k) * w
        return newest + delta.reshape(NUM_LANDMARKS, 2)

    def _common_arrays(self) -> dict:
        out = {'horizon_frames': np.rint(self.horizons * MODEL_RATE).astype(int), 'regions': self._region_array()}
        if self.motions is not None:
            out['motions'] = self.motions
        return out

    @staticmethod
    def _common_kwargs(a) -> dict:
        return {'horizon_frames': a['horizon_frames'], 'regions': FeatureForecaster._regions_of(a),
                'motions': a['motions'] if 'motions' in a else None}

    def _region_array(self) -> np.ndarray:
        width = max(len(r) for r in self.regions)
        return np.array([np.pad(r, (0, width - len(r)), constant_values=-1) for r in self.regions])

    @staticmethod
    def _regions_of(arrays) -> list:
        return [r[r >= 0] for r in np.asarray(arrays['regions'])]


class LinearForecaster(FeatureForecaster):
    kind = 'linear'
    name = 'linear_forecaster'

    def __init__(self, basis, filter_, mix, **kwargs):
        super().__init__(**kwargs)
        self.basis = np.asarray(basis, np.float64)            # (C, 226)
        self.filter = np.asarray(filter_, np.float64)         # (K, 8)
        self.mix = np.asarray(mix, np.float64)                # (K, 8 * C, C)

    def change(self, k: int) -> np.ndarray:
        x, _ = self.features()
        z = (x @ self.basis.T).ravel()
        return self.filter[k] @ x + (z @ self.mix[k]) @ self.basis

    def arrays(self) -> dict:
        return dict(self._common_arrays(), basis=self.basis, filter=self.filter, mix=self.mix)

    @classmethod
    def from_arrays(cls, a: dict, **kwargs) -> 'LinearForecaster':
        return cls(a['basis'], a['filter'], a['mix'], **cls._common_kwargs(a), **kwargs)


class MLPForecaster(FeatureForecaster):
    kind = 'mlp'
    name = 'mlp_forecaster'

    def __init__(self, basis, filter_, layers, z_mean, z_scale, gamma: float, **kwargs):
        super().__init__(**kwargs)
        self.basis = np.asarray(basis, np.float64)            # (C, 226): 2 main motions per region
        self.filter = np.asarray(filter_, np.float64)         # (K, 8)
        self.layers = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in layers]
        self.z_mean, self.z_scale = np.asarray(z_mean, np.float64), np.asarray(z_scale, np.float64)
        self.gamma = float(gamma)
        self._out = None

    def update(self, t, face_xy) -> None:
        super().update(t, face_xy)
        self._out = None

    def outputs(self) -> np.ndarray:
        """(K, C) the MLP's change in the basis at every trained horizon (once per frame)."""
        if self._out is None:
            x, state = self.features()
            h = (np.concatenate([(x @ self.basis.T).ravel(), state]) - self.z_mean) / self.z_scale
            for w, b in self.layers[:-1]:
                h = gelu(h @ w + b)
            w, b = self.layers[-1]
            self._out = (h @ w + b).reshape(len(self.horizons), len(self.basis))
        return self._out

    def change(self, k: int) -> np.ndarray:
        x, _ = self.features()
        return self.filter[k] @ x + self.gamma * (self.outputs()[k] @ self.basis)

    def arrays(self) -> dict:
        out = dict(self._common_arrays(), basis=self.basis, filter=self.filter, z_mean=self.z_mean,
                   z_scale=self.z_scale, gamma=np.float64(self.gamma), n_layers=np.int64(len(self.layers)))
        for i, (w, b) in enumerate(self.layers):
            out[f'w{i}'], out[f'b{i}'] = w, b
        return out

    @classmethod
    def from_arrays(cls, a: dict, **kwargs) -> 'MLPForecaster':
        layers = [(a[f'w{i}'], a[f'b{i}']) for i in range(int(a['n_layers']))]
        return cls(a['basis'], a['filter'], layers, a['z_mean'], a['z_scale'], float(a['gamma']),
                   **cls._common_kwargs(a), **kwargs)


KINDS = {c.kind: c for c in (LinearForecaster, MLPForecaster)}


def forecaster_from(entry: dict, **kwargs) -> FeatureForecaster:
    """A forecaster from a checkpoint entry {'kind', 'arrays'} (emo_prediction.model.save_checkpoint)."""
    kind = entry.get('kind')
    if kind not in KINDS:
        raise ValueError(f'unknown forecaster kind {kind!r} (known: {sorted(KINDS)})')
    return KINDS[kind].from_arrays(entry['arrays'], **kwargs)


class OnlineAdaptation(Forecaster):
    """A learned forecaster plus a correction learned online on the person in front of the robot.

        adaptive = OnlineAdaptation(forecaster, horizon_s=0.2)

    Once the face `horizon_s` after a frame has been seen, the forecast made then is compared
    with it, and a ridge regression with forgetting (time constant `memory_s`) maps that frame's
    features (X and the population forecast's change, projected on the `basis`'s motions) to the
    residual. Each sample weighs by the inverse of its residual's size (robust to tracking
    glitches); the correction comes in over the first `ramp` samples, and `prior` holds it at zero
    until the person's own footage outweighs it: a few seconds of a new face change little. The
    correction is learned at one horizon (the robot's lag) and scaled down for shorter ones.
    `reset()` (a new face stream) keeps what was learned, `forget()` drops it (a new person).
    """
    name = 'online_adaptation'

    def __init__(self, base: FeatureForecaster, horizon_s: float = 0.2, n_components: int = 16,
                 prior: float = 1000.0, memory_s: float = 120.0, ramp: int = 300, solve_every: int = 5):
        super().__init__(base.history.max_gap_s)
        self.base, self.horizon_s = base, horizon_s
        self.prior, self.memory_s, self.ramp, self.solve_every = prior, memory_s, ramp, solve_every
        if base.motions is None:
            raise ValueError('online adaptation needs the forecaster\'s principal motions (retrain it)')
        self.basis = base.motions[:n_components]
        self.forget()

    def forget(self) -> None:
        n = (N_FEATURES + 1) * len(self.basis)
        self.a = np.zeros((n, n))
        self.b = np.zeros((n, len(self.basis)))
        self.theta = np.zeros((n, len(self.basis)))
        self.seen = self._frames = 0
        self._pending = []

    def reset(self) -> None:
        self.base.reset()
        self._pending = []

    def update(self, t, face_xy) -> None:
        self.base.update(t, face_xy)
        if face_xy is None or self.base.history.newest is None:
            return
        now = self.base.history.newest.ravel()
        lam = np.exp(-1.0 / (self.memory_s * MODEL_RATE))
        while self._pending and self._pending[0][0] <= t + 1e-6:
            _, z, predicted = self._pending.pop(0)
            residual = now - predicted
            left = residual - (z @ self.theta) @ self.basis
            q = 1.0 / max(float(np.abs(left).mean()), 1e-3)
            self.a = lam * self.a + q * np.outer(z, z)
            self.b = lam * self.b + q * np.outer(z, residual @ self.basis.T)
            self.seen += 1
        self._frames += 1
        if self.seen and self._frames % self.solve_every == 0:
            self.theta = np.linalg.solve(self.a + self.prior * np.eye(len(self.a)), self.b)
        x, _ = self.base.features()
        population = self.base.forecast(self.horizon_s).ravel() - now
        self._z = (np.concatenate([x, population[None]]) @ self.basis.T).ravel()
        self._pending.append((t + self.horizon_s, self._z, now + population))

    def forecast(self, h: float):
        ahead = self.base.forecast(h)
        if ahead is None or not self.seen:
            return ahead
        weight = min(1.0, self.seen / self.ramp) * min(1.0, h / self.horizon_s)
        return ahead + weight * ((self._z @ self.theta) @ self.basis).reshape(NUM_LANDMARKS, 2)
