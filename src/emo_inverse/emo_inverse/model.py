"""The inverse model (the robot's self-model, Hu et al. 2024 Fig. 7A) and a fast way to run it.

    model = InverseModel(widths=(256,))
    commands = model(faces)          # (batch, 113, 2) face frame -> (batch, 11) in [0, 1]

Fully connected: each hidden layer Linear -> ReLU -> batch normalization, then
a Linear output and a sigmoid, so every command lands in [0, 1] (the authors'
released network is 226 -> 1024 -> 512 -> 11 with ReLU, batch norm and a
sigmoid: InverseModel((1024, 512))). The shipped widths were chosen by
validation error and per-call cost (emo_inverse.training.architecture,
results/inverse_architecture.json): one layer of 256 was as accurate as the
authors' two layers on held-out babbling at a quarter of the call cost. Input: the face's displacement from the robot's rest face
(a constant of the head, stored with the model), which keeps the numbers small
and centred.
"""
import numpy as np
import torch
from torch import nn

from emo_common.layout import FACE_SIZE, NUM_LANDMARKS

NUM_COMMANDS = 11


class InverseModel(nn.Module):
    def __init__(self, widths=(256,), rest_face=None):
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f'widths must be one or more positive layer sizes, got {widths!r}')
        layers, n_in = [], FACE_SIZE
        for w in self.widths:
            layers += [nn.Linear(n_in, w), nn.ReLU(), nn.BatchNorm1d(w)]
            n_in = w
        layers.append(nn.Linear(n_in, NUM_COMMANDS))
        self.net = nn.Sequential(*layers)
        self.register_buffer('rest_face', torch.zeros(NUM_LANDMARKS, 2) if rest_face is None
                             else torch.as_tensor(np.asarray(rest_face), dtype=torch.float32))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = (faces - self.rest_face).reshape(len(faces), FACE_SIZE)
        return torch.sigmoid(self.net(x))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


class NumpyInverse:
    """The trained network as numpy products, each batch norm folded into the layer after it."""

    def __init__(self, model: InverseModel):
        model = model.eval()
        g = lambda t: t.detach().cpu().numpy().astype(np.float64)  # noqa: E731
        linears = [m for m in model.net if isinstance(m, nn.Linear)]
        norms = [m for m in model.net if isinstance(m, nn.BatchNorm1d)]
        self.layers = []                           # (W (in, out), b): relu between, sigmoid after the last
        scale, shift = None, None
        for lin in linears:
            w, b = g(lin.weight).T, g(lin.bias)
            if scale is not None:                  # lin(h * scale + shift) = (scale-scaled W) h + (shift W + b)
                b = shift @ w + b
                w = scale[:, None] * w
            self.layers.append((np.ascontiguousarray(w, np.float32), b.astype(np.float32)))
            if len(self.layers) <= len(norms):
                bn = norms[len(self.layers) - 1]
                scale = g(bn.weight) / np.sqrt(g(bn.running_var) + bn.eps)
                shift = g(bn.bias) - g(bn.running_mean) * scale
        self.rest = g(model.rest_face).astype(np.float32).ravel()

    def predict(self, face_xy: np.ndarray) -> np.ndarray:
        h = np.asarray(face_xy, dtype=np.float32).ravel() - self.rest
        for w, b in self.layers[:-1]:
            h = np.maximum(h @ w + b, 0.0)
        w, b = self.layers[-1]
        return 1.0 / (1.0 + np.exp(-(h @ w + b)))


def save_checkpoint(path, model: InverseModel, meta: dict) -> None:
    torch.save({'state_dict': model.state_dict(), 'widths': list(model.widths), 'meta': meta}, path)


def load_checkpoint(path):
    """(model in eval mode, meta) from a checkpoint written by save_checkpoint. Unpickled with torch's
    weights-only unpickler: a file that would run code or build other objects is refused (ValueError)."""
    import pickle
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        reason = ' '.join(str(err).split('WeightsUnpickler error:', 1)[-1].split(' Please use', 1)[0].split())
        raise ValueError(f'{path}: refused to load: not a plain weights checkpoint, unpickling it would '
                         f'build or call other objects ({reason[:300]})') from err
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise ValueError(f'{path} is not an inverse-model checkpoint of emo_inverse')
    if 'widths' not in ckpt:
        raise ValueError(f'{path} is an inverse-model checkpoint of an older layout (one "hidden" size): '
                         f'retrain it with python -m emo_inverse.training.train')
    model = InverseModel(ckpt['widths'])
    model.load_state_dict(ckpt['state_dict'])
    return model.eval(), ckpt.get('meta', {})
