"""Predictor benchmarks: one sample at a time, as the node runs it.

Side by side in one run, the shipped model three ways:
- plain torch: eval mode, torch.inference_mode, one sample per call (the usual way);
- the fast runner the node uses (emo_prediction.model.NumpyPredictor, numpy);
- the forecaster of the face at t + h alone (update + forecast, one frame);
- the whole per-frame step of the node's core (onset detector, forecaster on
  every frame, the model while an onset is under way), over generated continuous
  footage (calm, talking, expressions).
Figures: predictor_single_per_s, predictor_speedup_vs_plain_torch,
predictor_latency_p50_ms / p99_ms (one sample, fast runner), forecaster_step_p99_ms,
predictor_step_p99_ms (goal: under 1 ms per frame).
"""
import json
import sys
import time

import numpy as np
import torch

N = 5000


def timed(fn, inputs) -> np.ndarray:
    for x in inputs[:200]:
        fn(x)
    out = np.empty(len(inputs))
    for i, x in enumerate(inputs):
        t0 = time.perf_counter()
        fn(x)
        out[i] = time.perf_counter() - t0
    return out * 1e3


def frame_steps(fast=None, people: int = 6):
    """The per-frame step over generated continuous footage (30 s per person): the forecaster alone
    (update + forecast), then the node's whole step (detector and forecaster on every frame, the
    target model during onsets). Returns (forecast_ms, step_ms, anticipator)."""
    from emo_prediction.anticipator import Anticipator
    from emo_prediction.model import NumpyPredictor, default_model_path, load_checkpoint, load_forecaster
    from emo_common.layout import landmark_layout
    from emo_prediction.training.synthetic import ExpressionGenerator
    if fast is None:
        fast = NumpyPredictor.from_model(load_checkpoint(default_model_path())[0])
    gen = ExpressionGenerator(seed=5)
    _, ids, _ = landmark_layout()
    frames = np.concatenate([gen.continuous_clip(gen.person(4000 + k), 30.0).face_xy for k in range(people)])
    forecaster, _ = load_forecaster(default_model_path())
    forecast_ms = np.empty(len(frames))
    for i, face in enumerate(frames):
        t0 = time.perf_counter()
        forecaster.update(i / 30.0, face)
        forecaster.forecast(0.2)
        forecast_ms[i] = (time.perf_counter() - t0) * 1e3
    forecaster.reset()
    anticipator = Anticipator(fast, 'anticipate', 0.8, 30.0, None, ids, robot_lag_s=0.2, forecaster=forecaster)
    step_ms = np.empty(len(frames))
    for i, face in enumerate(frames):
        t0 = time.perf_counter()
        anticipator.update(i / 30.0, face)
        step_ms[i] = (time.perf_counter() - t0) * 1e3
    return forecast_ms, step_ms, anticipator


def main() -> int:
    from emo_prediction.model import NumpyPredictor, default_model_path, load_checkpoint
    from emo_common.layout import landmark_layout

    model, meta = load_checkpoint(default_model_path())
    fast = NumpyPredictor.from_model(model)
    rng = np.random.default_rng(0)
    base = landmark_layout()[0].astype(np.float32)
    inputs = base[None, None] + rng.normal(0, 0.01, (N, 4, 113, 2)).astype(np.float32)

    def plain(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x[None]))[0].numpy()

    plain_ms = timed(plain, inputs)
    fast_ms = timed(fast.predict, inputs)
    # Throughput: back to back, one sample per call.
    t0 = time.perf_counter()
    for x in inputs:
        fast.predict(x)
    per_s = N / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for x in inputs:
        plain(x)
    plain_per_s = N / (time.perf_counter() - t0)

    forecast_ms, step_ms, anticipator = frame_steps(fast)

    print(f'  plain torch: {plain_per_s:.0f}/s, p50 {np.percentile(plain_ms, 50):.3f} ms; fast: {per_s:.0f}/s, '
          f'p50 {np.percentile(fast_ms, 50):.3f} ms; forecaster p99 {np.percentile(forecast_ms, 99):.3f} ms; '
          f'per-frame step p99 {np.percentile(step_ms, 99):.3f} ms '
          f'({anticipator.fires} onsets in {len(step_ms)} frames)', file=sys.stderr)
    figures = [
        {'name': 'predictor_single_per_s', 'value': round(per_s), 'unit': '1/s', 'goal': 2000, 'better': 'higher'},
        {'name': 'predictor_speedup_vs_plain_torch', 'value': round(per_s / plain_per_s, 2), 'unit': 'x',
         'goal': 2, 'better': 'higher'},
        {'name': 'forecaster_step_p99_ms', 'value': round(float(np.percentile(forecast_ms, 99)), 4), 'unit': 'ms',
         'goal': 1.0, 'better': 'lower'},
        {'name': 'predictor_latency_p50_ms', 'value': round(float(np.percentile(fast_ms, 50)), 4), 'unit': 'ms',
         'goal': None, 'better': 'lower'},
        {'name': 'predictor_latency_p99_ms', 'value': round(float(np.percentile(fast_ms, 99)), 4), 'unit': 'ms',
         'goal': None, 'better': 'lower'},
        {'name': 'predictor_step_p99_ms', 'value': round(float(np.percentile(step_ms, 99)), 4), 'unit': 'ms',
         'goal': 1.0, 'better': 'lower'},
    ]
    details = {'parameters': model.parameter_count(), 'hidden': model.hidden, 'threads': torch.get_num_threads(),
               'plain_torch_per_s': round(plain_per_s), 'plain_torch_p50_ms': float(np.percentile(plain_ms, 50)),
               'plain_torch_p99_ms': float(np.percentile(plain_ms, 99)),
               'step_p50_ms': float(np.percentile(step_ms, 50)), 'onsets_in_step_run': anticipator.fires}
    print(json.dumps({'figures': figures, 'details': details}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
