"""The predictive model of the paper (Hu et al. 2024, Fig. 7B) and a fast way to run it.

    model = PredictiveModel(hidden=256)
    target = model(frames)                 # frames (batch, 4, 113, 2) -> (batch, 113, 2)
    fast = NumpyPredictor.from_model(model)
    target = fast.predict(frames[0])       # one sample, numpy, no autograd

Eight fully connected layers; tanh after the first six; a skip connection
from the output of layer 4 into layer 6. Input: four faces (4 x 113 x 2) seen
around the peak activation; output: the target face (113 x 2). The network
predicts the target's displacement from the newest input face, which is added
back: the paper's mimicry baseline is the starting point, and the network
learns what the first subtle changes say about where the face is going.
The paper gives no hidden sizes; `hidden` was chosen by validation error and
speed (src/emo_prediction/README.md).
"""
import numpy as np
import torch
from torch import nn

from emo_common.layout import NUM_LANDMARKS

N_FRAMES, N_POINTS = 4, NUM_LANDMARKS
IN_FEATURES, OUT_FEATURES = N_FRAMES * N_POINTS * 2, N_POINTS * 2


class PredictiveModel(nn.Module):
    def __init__(self, hidden: int = 128):
        super().__init__()
        self.hidden = hidden
        sizes = [IN_FEATURES] + [hidden] * 7 + [OUT_FEATURES]
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        batch = frames.shape[0]
        newest = frames[:, -1].reshape(batch, OUT_FEATURES)
        # Displacements from the newest face carry the motion; the newest face itself the person.
        x = torch.cat([(frames[:, :-1] - frames[:, -1:]).reshape(batch, -1), newest], dim=1)
        h = torch.tanh(self.fc[0](x))
        h = torch.tanh(self.fc[1](h))
        h = torch.tanh(self.fc[2](h))
        h4 = torch.tanh(self.fc[3](h))
        h = torch.tanh(self.fc[4](h4))
        h = torch.tanh(self.fc[5](h) + h4)      # skip connection: layer 4 -> layer 6
        h = self.fc[6](h)
        delta = self.fc[7](h)
        return (newest + delta).reshape(batch, N_POINTS, 2)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


class NumpyPredictor:
    """The same network as a few float32 numpy matrix products, for one sample at a time.

    On a small MLP, PyTorch's per-call overhead (autograd bookkeeping, dispatch,
    tensor creation) costs more than the arithmetic; plain BLAS calls on
    preallocated arrays do not. Layers 7 and 8 have no nonlinearity between them,
    so they fold into one matrix.
    """

    def __init__(self, weights: list, biases: list):
        self.w = [np.ascontiguousarray(w.T, dtype=np.float32) for w in weights]
        self.b = [np.asarray(b, dtype=np.float32) for b in biases]
        # Fold the two linear output layers: (h W7 + b7) W8 + b8 = h (W7 W8) + (b7 W8 + b8).
        self.w_out = self.w[6] @ self.w[7]
        self.b_out = self.b[6] @ self.w[7] + self.b[7]
        self._x = np.empty(IN_FEATURES, np.float32)

    @classmethod
    def from_model(cls, model: PredictiveModel) -> 'NumpyPredictor':
        return cls([fc.weight.detach().cpu().numpy() for fc in model.fc],
                   [fc.bias.detach().cpu().numpy() for fc in model.fc])

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """(4, 113, 2) faces, oldest first -> (113, 2) predicted target face."""
        f = np.asarray(frames, dtype=np.float32).reshape(N_FRAMES, OUT_FEATURES)
        x = self._x
        x[:3 * OUT_FEATURES] = (f[:3] - f[3]).ravel()
        x[3 * OUT_FEATURES:] = f[3]
        w, b = self.w, self.b
        h = np.tanh(x @ w[0] + b[0])
        h = np.tanh(h @ w[1] + b[1])
        h = np.tanh(h @ w[2] + b[2])
        h4 = np.tanh(h @ w[3] + b[3])
        h = np.tanh(h4 @ w[4] + b[4])
        h = np.tanh(h @ w[5] + b[5] + h4)
        return (f[3] + h @ self.w_out + self.b_out).reshape(N_POINTS, 2)


def default_model_path() -> str:
    """The shipped default checkpoint (target-face model and forecaster)."""
    from importlib import resources
    return str(resources.files('emo_prediction').joinpath('data', 'predictor_default.pt'))


def save_checkpoint(path, model: PredictiveModel, meta: dict, forecaster=None, forecaster_meta: dict = None) -> None:
    """The target-face model, and optionally the forecaster of the face at t + h (its numpy arrays)."""
    ckpt = {'state_dict': model.state_dict(), 'hidden': model.hidden, 'meta': meta}
    if forecaster is not None:
        ckpt['forecaster'] = {'kind': forecaster.kind,
                              'arrays': {k: np.asarray(v) for k, v in forecaster.arrays().items()},
                              'meta': forecaster_meta or {}}
    torch.save(ckpt, path)


def _numpy_array_globals():
    """What unpickling a plain numpy array (or scalar) needs: no code, only array reconstruction."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    numeric = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG']  # not object arrays
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *numeric]


def read_checkpoint(path):
    """A checkpoint's contents, unpickled with torch's weights-only unpickler (tensors, plain Python
    containers and numbers, numpy arrays): a file that would run code or build other objects is refused
    with a ValueError, so model paths taken from parameters cannot run code."""
    import pickle
    try:
        with torch.serialization.safe_globals(_numpy_array_globals()):
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's message: what was refused, after advice to load unsafely or to allowlist it (neither applies)
        reason = str(err).split('WeightsUnpickler error:', 1)[-1].split(' Please use', 1)[0]
        raise ValueError(f'{path}: refused to load: not a plain weights checkpoint, unpickling it would '
                         f'build or call other objects ({" ".join(reason.split())[:300]})') from err


def load_checkpoint(path):
    """(model in eval mode, meta) from a checkpoint written by save_checkpoint."""
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt or 'hidden' not in ckpt:
        raise ValueError(f'{path} is not a predictive-model checkpoint of emo_prediction')
    model = PredictiveModel(hidden=int(ckpt['hidden']))
    model.load_state_dict(ckpt['state_dict'])
    model.eval()
    return model, ckpt.get('meta', {})


def load_forecaster(path, **kwargs):
    """(forecaster, its meta) saved with the checkpoint, or (None, {}) if it has none."""
    from emo_prediction.forecast_model import forecaster_from
    ckpt = read_checkpoint(path)
    entry = ckpt.get('forecaster') if isinstance(ckpt, dict) else None
    if not entry:
        return None, {}
    try:
        return forecaster_from(entry, **kwargs), entry.get('meta', {})
    except (KeyError, ValueError) as err:
        raise ValueError(f'{path}: a broken forecaster entry ({err})') from err
