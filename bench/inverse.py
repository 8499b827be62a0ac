"""Inverse model benchmark: one face at a time, as the inverse node runs it (normalization included).

Figures: inverse_single_per_s (the paper: 8000/s on a 2019 laptop CPU), its
speedup over the same network in plain torch (eval, one sample per call), and
the p99 latency of one normalize + infer step.
"""
import json
import sys
import time

import numpy as np
import torch


def setup(n: int = 5000):
    """The shipped model (plain and fast), the node's normalization, n faces of the shipped babbling."""
    from emo_inverse.training import babbling
    from emo_inverse import default_path
    from emo_inverse.model import NumpyInverse, load_checkpoint
    from emo_inverse.normalization import Normalizer
    model, _ = load_checkpoint(default_path('inverse_default.pt'))
    data = babbling.load(default_path('babble_default.npz'))
    norm = Normalizer.from_babbling(data)
    faces = data['faces'][np.random.default_rng(0).integers(0, len(data['faces']), n)]
    return model, NumpyInverse(model), norm, faces, data['rest_face']


def step_ms(n: int = 2000) -> np.ndarray:
    """One normalize + fast-runner step per face, as the node runs it (ms each, after 200 warm-up steps)."""
    _, fast, norm, faces, rest = setup(n)
    for f in faces[:200]:
        fast.predict(norm(f, rest))
    out = np.empty(len(faces))
    for i, f in enumerate(faces):
        t0 = time.perf_counter()
        fast.predict(norm(f, rest))
        out[i] = time.perf_counter() - t0
    return out * 1e3


def main() -> int:
    model, fast, norm, faces, rest = setup()

    def plain(face):
        with torch.inference_mode():
            return model(torch.from_numpy(face[None]))[0].numpy()

    def step(face):
        return fast.predict(norm(face, rest))

    rates, lat = {}, []
    for name, fn in (('plain', plain), ('fast', step)):
        for f in faces[:200]:
            fn(f)
        t0 = time.perf_counter()
        for f in faces:
            t1 = time.perf_counter()
            fn(f)
            if name == 'fast':
                lat.append(time.perf_counter() - t1)
        rates[name] = len(faces) / (time.perf_counter() - t0)
    p99 = float(np.percentile(lat, 99) * 1e3)
    print(f"  plain torch {rates['plain']:.0f}/s, normalize + fast runner {rates['fast']:.0f}/s, p99 {p99:.3f} ms",
          file=sys.stderr)
    figures = [
        {'name': 'inverse_single_per_s', 'value': round(rates['fast']), 'unit': '1/s', 'goal': 8000, 'better': 'higher'},
        {'name': 'inverse_speedup_vs_plain_torch', 'value': round(rates['fast'] / rates['plain'], 2), 'unit': 'x',
         'goal': None, 'better': 'higher'},
        {'name': 'inverse_latency_p99_ms', 'value': round(p99, 4), 'unit': 'ms', 'goal': None, 'better': 'lower'},
    ]
    print(json.dumps({'figures': figures, 'details': {'plain_torch_per_s': round(rates['plain'])}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
