"""A learned forecaster of the face at t + h, run as a few numpy products per frame.

    forecaster = LinearForecaster.from_arrays(arrays)    # arrays as saved by emo_prediction.train_forecast
    forecaster.update(t, face_xy)
    forecaster.forecast(0.2)                              # (113, 2) the face 0.2 s after the newest frame

On the model grid (MODEL_RATE) ending at the newest face x_t, the motion the
forecaster sees is a few offsets: x_{t-l} - x_t for the grid lags l (how the
face got here, de-jittered by the fit rather than by a filter whose lag would
count against the horizon) and the mean face of the last `mean_frames` minus
x_t (where a talking or blinking face tends to return). The change of the face
at each trained horizon is

    delta_k = sum_j a_kj * offset_j                       a temporal filter shared by every coordinate
            + B^T ( W_k vec(B offset_1 .. B offset_J) )   a motion model in a basis B of face motions

(B: principal motions of the training people's faces). A horizon between two
trained ones is interpolated linearly; beyond the longest, the longest is used.
Fitted with an L1 loss (the error reported is the mean absolute error), each
person weighing the same, so that one person's long recording does not decide it.
"""
import numpy as np

from emo_prediction.forecast import MODEL_RATE, Forecaster

ARRAY_KEYS = ('lags', 'mean_frames', 'horizon_frames', 'basis', 'filter', 'mix')


class LinearForecaster(Forecaster):
    name = 'linear_forecaster'

    def __init__(self, lags, mean_frames: int, horizon_frames, basis, filter_, mix, max_gap_s: float = 0.5):
        self.lags = np.asarray(lags, int)
        self.mean_frames = int(mean_frames)
        self.history_s = (max(int(self.lags.max()), self.mean_frames) + 2) / MODEL_RATE
        super().__init__(max_gap_s)
        self.horizons = np.asarray(horizon_frames, float) / MODEL_RATE          # (K,) seconds
        self.basis = np.asarray(basis, np.float64)                                  # (C, 226)
        self.filter = np.asarray(filter_, np.float64)                               # (K, J)
        self.mix = np.asarray(mix, np.float64)                                      # (K, J*C, C)
        self.n_grid = max(int(self.lags.max()), self.mean_frames) + 1
        self._offsets = None

    @classmethod
    def from_arrays(cls, arrays: dict, **kwargs) -> 'LinearForecaster':
        missing = [k for k in ARRAY_KEYS if k not in arrays]
        if missing:
            raise ValueError(f'forecaster arrays lack {missing}')
        return cls(arrays['lags'], int(arrays['mean_frames']), arrays['horizon_frames'], arrays['basis'],
                   arrays['filter'], arrays['mix'], **kwargs)

    def arrays(self) -> dict:
        return {'lags': self.lags, 'mean_frames': np.int64(self.mean_frames),
                'horizon_frames': np.rint(self.horizons * MODEL_RATE).astype(int), 'basis': self.basis,
                'filter': self.filter, 'mix': self.mix}

    def update(self, t, face_xy) -> None:
        super().update(t, face_xy)
        self._offsets = None

    def offsets(self) -> np.ndarray:
        """(J, 226) the motion features of the newest frame (see the module doc)."""
        if self._offsets is None:
            g = self.history.grid(self.n_grid).reshape(self.n_grid, -1)
            newest = g[-1]
            self._offsets = np.concatenate([g[-1 - self.lags] - newest,
                                            g[-self.mean_frames:].mean(axis=0, keepdims=True) - newest])
        return self._offsets

    def change(self, k: int) -> np.ndarray:
        """(226,) the change of the face at trained horizon k."""
        off = self.offsets()
        z = (off @ self.basis.T).ravel()
        return self.filter[k] @ off + (z @ self.mix[k]) @ self.basis

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
        return newest + delta.reshape(113, 2)


class AdaptiveForecaster(LinearForecaster):
    """The learned forecaster plus a correction learned online on the person in front of the robot.

    Once the face at t + h_k has been seen, the forecast made at t for it is compared with it, and
    a few gains are updated by recursive least squares with forgetting: per trained horizon and
    principal motion c, the residual of that motion is modelled as a_c * (the population forecast's
    change in c) + b_c * (the 1 s mean offset in c) + d_c * (the newest step in c). Three numbers
    per motion, starting at zero (the population forecaster), held there by a prior worth `prior`
    seconds of footage, so that a few seconds of a new face cannot swing them. `reset()` (a new face
    stream) keeps what was learned, `forget()` drops it (a new person).
    """
    name = 'adaptive_forecaster'
    N_GAINS = 3

    def __init__(self, *args, prior: float = 20.0, forgetting: float = 0.9995, **kwargs):
        super().__init__(*args, **kwargs)
        self.prior, self.forgetting = prior, forgetting
        self.forget()

    @classmethod
    def adapting(cls, base: LinearForecaster, **kwargs) -> 'AdaptiveForecaster':
        a = base.arrays()
        return cls(a['lags'], int(a['mean_frames']), a['horizon_frames'], a['basis'], a['filter'], a['mix'],
                   max_gap_s=base.history.max_gap_s, **kwargs)

    def forget(self) -> None:
        k, c, g = len(self.horizons), len(self.basis), self.N_GAINS
        self.gains = np.zeros((k, c, g))
        # Ridge prior: `prior` seconds of frames whose features are of a typical size (0.01 in the basis).
        self.p = np.tile(np.eye(g) / (self.prior * MODEL_RATE * 0.01 ** 2), (k, c, 1, 1))
        self._pending = []
        self.updates = 0

    def reset(self) -> None:
        super().reset()
        self._pending = []

    def _phi(self, base_change: np.ndarray) -> np.ndarray:
        """(K, C, 3) the gain features of the newest frame, given the population changes (K, 226)."""
        z = self.offsets() @ self.basis.T                       # (J, C)
        k = len(base_change)
        return np.stack([base_change @ self.basis.T, np.broadcast_to(z[-1], (k, len(z[-1]))),
                         np.broadcast_to(z[0], (k, len(z[0])))], axis=2)

    def update(self, t, face_xy) -> None:
        super().update(t, face_xy)
        if face_xy is None or self.history.newest is None:
            return
        self._learn(t)
        base = np.stack([LinearForecaster.change(self, k) for k in range(len(self.horizons))])
        self._base, self._phis = base, self._phi(base)
        self._pending.append((t, self.history.newest.ravel().copy(), base, self._phis,
                              np.zeros(len(self.horizons), bool)))
        while self._pending and t - self._pending[0][0] > self.horizons[-1] + 0.1:
            self._pending.pop(0)

    def _learn(self, t: float) -> None:
        """RLS updates for every past forecast whose horizon has now been seen."""
        times = np.fromiter(self.history.times, float, len(self.history.times))
        lam = self.forgetting
        for s, face_s, base, phis, done in self._pending:
            for k, hk in enumerate(self.horizons):
                if done[k] or s + hk > t or s + hk < times[0]:
                    continue
                done[k] = True
                i = int(np.searchsorted(times, s + hk))
                j = max(i - 1, 0)
                w = 0.0 if times[i] == times[j] else (s + hk - times[j]) / (times[i] - times[j])
                truth = self.history.faces[j].ravel() * (1 - w) + self.history.faces[i].ravel() * w
                residual = (truth - face_s - base[k]) @ self.basis.T           # (C,)
                phi, p = phis[k], self.p[k]                                     # (C, G), (C, G, G)
                p_phi = np.einsum('cgh,ch->cg', p, phi)
                gain = p_phi / (lam + np.einsum('cg,cg->c', phi, p_phi))[:, None]
                err = residual - np.einsum('cg,cg->c', phi, self.gains[k])
                self.gains[k] += gain * err[:, None]
                self.p[k] = (p - np.einsum('cg,ch->cgh', gain, p_phi)) / lam
                self.updates += 1

    def change(self, k: int) -> np.ndarray:
        base = self._base[k]
        correction = np.einsum('cg,cg->c', self._phis[k], self.gains[k])
        return base + correction @ self.basis
