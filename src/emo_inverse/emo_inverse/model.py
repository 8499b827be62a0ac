"""The inverse model (the robot's self-model, Hu et al. 2024 Fig. 7A) and a fast way to run it.

    model = InverseModel(hidden=256)
    commands = model(faces)          # (batch, 113, 2) face frame -> (batch, 11) in [0, 1]

Three fully connected layers; ReLU and batch normalization after the first;
sigmoid out, so every command lands in [0, 1]. Input: the face's displacement
from the robot's rest face (the rest face is a constant of the head, stored
with the model), which keeps the numbers small and centred.
"""
import numpy as np
import torch
from torch import nn


class InverseModel(nn.Module):
    def __init__(self, hidden: int = 256, rest_face=None):
        super().__init__()
        self.hidden = hidden
        self.fc1 = nn.Linear(226, hidden)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 11)
        self.register_buffer('rest_face', torch.zeros(113, 2) if rest_face is None
                             else torch.as_tensor(np.asarray(rest_face), dtype=torch.float32))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = (faces - self.rest_face).reshape(len(faces), 226)
        h = self.bn1(torch.relu(self.fc1(x)))
        h = self.fc2(h)
        return torch.sigmoid(self.fc3(h))


class FastInverse:
    """The trained network as numpy products (batch norm folded into the next layer)."""

    def __init__(self, model: InverseModel):
        model = model.eval()
        g = lambda t: t.detach().cpu().numpy().astype(np.float32)  # noqa: E731
        bn = model.bn1
        scale = g(bn.weight) / np.sqrt(g(bn.running_var) + bn.eps)
        shift = g(bn.bias) - g(bn.running_mean) * scale
        w2, b2 = g(model.fc2.weight), g(model.fc2.bias)
        self.w1, self.b1 = g(model.fc1.weight).T.copy(), g(model.fc1.bias)
        # fc2(bn(h)) = W2 (h * scale + shift) + b2; fc3 follows fc2 with no nonlinearity: fold both.
        w23 = (w2 * scale[None, :]).T @ g(model.fc3.weight).T
        self.w23 = np.ascontiguousarray(w23)
        self.b23 = (w2 @ shift + b2) @ g(model.fc3.weight).T + g(model.fc3.bias)
        self.rest = g(model.rest_face).ravel()

    def predict(self, face_xy: np.ndarray) -> np.ndarray:
        x = np.asarray(face_xy, dtype=np.float32).ravel() - self.rest
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        return 1.0 / (1.0 + np.exp(-(h @ self.w23 + self.b23)))


def save_checkpoint(path, model: InverseModel, meta: dict) -> None:
    torch.save({'state_dict': model.state_dict(), 'hidden': model.hidden, 'meta': meta}, path)


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
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt or 'hidden' not in ckpt:
        raise ValueError(f'{path} is not an inverse-model checkpoint of emo_inverse')
    model = InverseModel(int(ckpt['hidden']))
    model.load_state_dict(ckpt['state_dict'])
    return model.eval(), ckpt.get('meta', {})
