"""Forecasting the face at t + h: history resampling, baselines, the learned forecaster and its training."""
import numpy as np
import pytest

from emo_prediction.forecast import MODEL_RATE, ConstantVelocity, CopyCurrent, FaceHistory
from emo_prediction.training.forecast_data import grid_windows, stretches
from emo_prediction.forecast_model import (CLIP, HORIZON_FRAMES, LAGS, N_FEATURES, LinearForecaster,
                                           MLPForecaster, OnlineAdaptation, forecaster_from, region_columns,
                                           region_rows)
from emo_prediction.training.train_forecast import (ForecastData, fit, person_ratios, predicted_change, sample_weights,
                                           select)

RNG = np.random.default_rng(0)
BASE = RNG.normal(0, 0.3, (113, 2))
DIRECTION = RNG.normal(0, 1, (113, 2))
DIRECTION /= np.linalg.norm(DIRECTION)


def moving_face(times, speed=0.05):
    """A face moving along a fixed direction at constant speed (face units per second, whole face)."""
    return BASE[None] + np.asarray(times)[:, None, None] * speed * DIRECTION[None]


class Seq:
    def __init__(self, face_xy, fps, person):
        self.face_xy, self.fps, self.person = face_xy, fps, person
        self.times = np.arange(len(face_xy)) / fps


def oscillating(seconds, fps, person, seed, hz=3.0, amp=0.4, jitter=0.002):
    """A talking-like face: one motion oscillating at `hz` (plus landmark jitter): its future is
    predictable from its past, which copying the current face ignores."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps)) / fps
    phase = rng.uniform(0, 2 * np.pi)
    face = BASE[None] + (amp * np.sin(2 * np.pi * hz * t + phase))[:, None, None] * DIRECTION[None]
    return Seq((face + rng.normal(0, jitter, face.shape)).astype(np.float32), fps, person)


def test_history_grid_resamples_any_camera_rate_onto_the_model_grid():
    h = FaceHistory(seconds=2.0)
    times = np.arange(40) / 25.0                       # a 25 fps camera
    for t, face in zip(times, moving_face(times)):
        h.push(t, face)
    grid = h.grid(10)
    want = times[-1] - np.arange(9, -1, -1) / MODEL_RATE
    np.testing.assert_allclose(grid, moving_face(want), atol=1e-9)
    # Before the oldest frame: the oldest face.
    np.testing.assert_allclose(h.grid(80)[0], h.faces[0])


def test_history_starts_afresh_after_a_long_gap_and_ignores_stale_stamps():
    h = FaceHistory(seconds=2.0, max_gap_s=0.5)
    h.push(0.0, BASE)
    h.push(0.1, BASE + 0.01)
    h.push(0.05, BASE + 1.0)           # older than the newest: ignored
    assert len(h) == 2 and np.allclose(h.newest, BASE + 0.01)
    h.push(0.2, None)                  # a frame without a face: kept history
    assert len(h) == 2
    h.push(1.0, BASE)                  # 0.9 s after the last face: a new stretch
    assert len(h) == 1


def test_copy_current_and_constant_velocity():
    copy, cv = CopyCurrent(), ConstantVelocity(fit_s=0.1, max_step=1.0)
    assert copy.forecast(0.2) is None and cv.forecast(0.2) is None
    times = np.arange(10) / 30.0
    for t, face in zip(times, moving_face(times)):
        copy.update(t, face)
        cv.update(t, face)
    np.testing.assert_allclose(copy.forecast(0.2), moving_face([times[-1]])[0])
    np.testing.assert_allclose(cv.forecast(0.2), moving_face([times[-1] + 0.2])[0], atol=1e-9)
    # A step larger than max_step per landmark is clipped to it.
    small = ConstantVelocity(fit_s=0.1, max_step=1e-4)
    for t, face in zip(times, moving_face(times, speed=5.0)):
        small.update(t, face)
    step = np.linalg.norm(small.forecast(0.5) - moving_face([times[-1]], speed=5.0)[0], axis=1)
    assert step.max() <= 1e-4 + 1e-12


def test_grid_windows_give_the_past_and_the_future_on_the_model_grid():
    times = np.arange(50) / 25.0
    face = moving_face(times).astype(np.float32)
    face[30] = np.nan                                  # a frame without a face splits the sequence
    assert stretches(face) == [(0, 29), (31, 49)]
    past, future, valid, frame = grid_windows(times, face, n_past=5, n_future=6)
    assert len(past) == 49 and set(frame) == set(range(50)) - {30}
    i = int(np.flatnonzero(frame == 20)[0])
    np.testing.assert_allclose(past[i, -1], face[20].ravel(), atol=1e-6)
    np.testing.assert_allclose(future[i, 5], moving_face([times[20] + 6 / 30.0])[0].ravel(), atol=1e-5)
    # Near the end of a stretch the far horizons are not there.
    j = int(np.flatnonzero(frame == 29)[0])
    assert not valid[j].any() and valid[i].all()


def _linear(c=4, horizons=(2, 6, 12), zero=False):
    basis = np.linalg.qr(RNG.normal(size=(226, c)))[0].T
    mix = np.zeros((len(horizons), N_FEATURES * c, c)) if zero else RNG.normal(0, 0.1, (len(horizons), N_FEATURES * c, c))
    filt = np.zeros((len(horizons), N_FEATURES)) if zero else RNG.normal(0, 0.05, (len(horizons), N_FEATURES))
    return LinearForecaster(basis, filt, mix, horizon_frames=horizons)


def _mlp(hidden=8):
    regions = region_rows()
    basis = np.linalg.qr(RNG.normal(size=(226, 14)))[0].T
    n_in = N_FEATURES * 14 + 3 * len(regions)
    layers = [(RNG.normal(0, 0.3, (n_in, hidden)), RNG.normal(0, 0.1, hidden)),
              (RNG.normal(0, 0.3, (hidden, hidden)), RNG.normal(0, 0.1, hidden)),
              (RNG.normal(0, 0.3, (hidden, 15 * 14)), RNG.normal(0, 0.1, 15 * 14))]
    return MLPForecaster(basis, RNG.normal(0, 0.05, (15, N_FEATURES)), layers, RNG.normal(0, 1, n_in),
                         np.exp(RNG.normal(0, 0.3, n_in)), gamma=0.5)


@pytest.mark.parametrize('make', [_linear, _mlp])
def test_learned_forecasters_run_the_same_features_as_their_training_data(make):
    fc = make()
    seq = oscillating(5.0, 25.0, 'a', seed=1)
    data = ForecastData.from_sequences([seq], horizon_frames=tuple(np.rint(fc.horizons * 30).astype(int)))
    for i in (5, 40, 110):
        fc.reset()
        for t, face in zip(seq.times[:i + 1], seq.face_xy[:i + 1]):
            fc.update(t, face)
        x, state = fc.features()
        np.testing.assert_allclose(x, data.x[i], atol=1e-5)
        np.testing.assert_allclose(state, data.state[i], rtol=1e-4, atol=1e-4)
        for k in (0, len(fc.horizons) - 1):
            want = predicted_change(fc, data.subset(np.arange(len(data)) == i), k)[0]
            np.testing.assert_allclose(fc.change(k), want, rtol=1e-4, atol=1e-5)
    # A checkpoint entry round trip gives the same forecaster.
    again = forecaster_from({'kind': fc.kind, 'arrays': fc.arrays()})
    fc.reset()
    for t, face in zip(seq.times, seq.face_xy):
        again.update(t, face)
        fc.update(t, face)
    np.testing.assert_allclose(again.forecast(0.3), fc.forecast(0.3))
    with pytest.raises(ValueError, match='kind'):
        forecaster_from({'kind': 'oracle', 'arrays': {}})


def test_state_features_are_scale_free_and_mean_offsets_are_clipped():
    seq = oscillating(4.0, 30.0, 'a', seed=3, amp=0.2, jitter=0.002)
    small = ForecastData.from_sequences([seq])
    big = Seq(seq.face_xy * 3.0, seq.fps, 'a')
    # The step's size relative to the jitter does not depend on the face's scale (the mean offsets
    # do, through their clipping).
    steps = slice(-len(region_rows()), None)
    np.testing.assert_allclose(ForecastData.from_sequences([big]).state[:, steps], small.state[:, steps], atol=0.02)
    columns = region_columns(region_rows())
    means = small.x[:, len(LAGS):]                       # the 1 s and 3 s mean offsets
    for c in columns:
        assert np.abs(means[..., c]).mean(axis=-1).max() <= CLIP + 1e-6


def test_learned_forecaster_interpolates_between_its_horizons():
    fc = _linear()
    seq = oscillating(1.0, 30.0, 'a', seed=2)
    for t, face in zip(seq.times, seq.face_xy):
        fc.update(t, face)
    now = seq.face_xy[-1].astype(np.float64)
    c0, c1, c2 = (fc.change(k).reshape(113, 2) for k in range(3))
    np.testing.assert_allclose(fc.forecast(2 / 30.0), now + c0, atol=1e-9)
    np.testing.assert_allclose(fc.forecast(4 / 30.0), now + 0.5 * (c0 + c1), atol=1e-9)
    np.testing.assert_allclose(fc.forecast(1 / 30.0), now + 0.5 * c0, atol=1e-9)
    np.testing.assert_allclose(fc.forecast(1.0), now + c2, atol=1e-9)
    np.testing.assert_allclose(fc.forecast(0.0), now)
    z = _linear(zero=True)
    for t, face in zip(seq.times, seq.face_xy):
        z.update(t, face)
    np.testing.assert_allclose(z.forecast(0.2), now)       # no weights: copy-current


def test_sample_weights_balance_people_and_weigh_generated_faces_together():
    seqs = [oscillating(6.0, 30.0, 'p1', seed=1), oscillating(2.0, 30.0, 'p2', seed=2, jitter=0.004),
            oscillating(3.0, 30.0, 'synthetic_p000', seed=3), oscillating(3.0, 30.0, 'synthetic_p001', seed=4)]
    data = ForecastData.from_sequences(seqs)
    w = sample_weights(data, generated_weight=0.5)
    assert w.sum() == pytest.approx(1.0)
    per = {p: w[data.person == p].sum() for p in data.people}
    generated = per['synthetic_p000'] + per['synthetic_p001']
    assert generated == pytest.approx(0.5 * (per['p1'] + per['p2']) / 2, rel=1e-6)
    # Three times the footage weighs sqrt(3) times as much, not three times (same motion, same error).
    both = ForecastData.from_sequences([oscillating(6.0, 30.0, 'a', seed=5), oscillating(2.0, 30.0, 'b', seed=5)])
    wb = sample_weights(both)
    ratio = wb[both.person == 'a'].sum() / wb[both.person == 'b'].sum()
    assert 1.3 < ratio < 2.2


@pytest.mark.parametrize('kind', ['linear', 'mlp'])
def test_fitted_forecaster_learns_a_predictable_motion_and_beats_copy_on_new_people(kind):
    train = [oscillating(8.0, fps, f'p{i}', seed=i) for i, fps in enumerate((25.0, 30.0, 25.0, 30.0))]
    test = [oscillating(6.0, 30.0, 'new', seed=99)]
    data = ForecastData.from_sequences(train)
    options = {'linear': dict(n_components=4, weight_decay=1e-6, epochs=12, samples_per_epoch=4096, lr=1e-2),
               'mlp': dict(epochs=8, samples_per_epoch=4096, gamma=1.0, amplitude=0.2)}[kind]
    model, losses = fit(data, kind=kind, **options)
    assert losses[-1] < losses[0]
    k = HORIZON_FRAMES.index(6)
    ratio = person_ratios(model, ForecastData.from_sequences(test), k)['new']
    assert ratio < 0.7, ratio
    # Online, frame by frame, at 200 ms: the same gain over copying the current face.
    seq = test[0]
    errs, copies = [], []
    for i, (t, face) in enumerate(zip(seq.times, seq.face_xy)):
        model.update(t, face)
        if 40 <= i < len(seq.times) - 6:
            errs.append(np.abs(model.forecast(0.2) - seq.face_xy[i + 6]).mean())
            copies.append(np.abs(face - seq.face_xy[i + 6]).mean())
    assert np.mean(errs) < 0.7 * np.mean(copies)


def test_selection_validates_on_held_out_people_and_returns_a_grid_candidate():
    seqs = [oscillating(4.0, 30.0, f'p{i}', seed=10 + i) for i in range(4)]
    data = ForecastData.from_sequences(seqs)
    grid = [{'kind': 'linear', 'n_components': 4, 'weight_decay': 1e-6, 'epochs': 4, 'lr': 1e-2},
            {'kind': 'linear', 'n_components': 4, 'weight_decay': 10.0, 'epochs': 4, 'lr': 1e-2}]
    out = select(data, grid, folds=2)
    assert out['choice'] in grid and len(out['scores']) == 2
    # Held to zero motion model (copy-current but for the shared filter), the second learns less.
    assert out['choice'] == grid[0] and out['scores'][0]['ratio'] < out['scores'][1]['ratio']


def test_online_adaptation_learns_the_person_in_front_of_it():
    base = _linear(c=4, horizons=tuple(range(1, 16)), zero=True)       # the population: copy-current
    motions = RNG.normal(size=(4, 226))
    motions[0] = DIRECTION.ravel()
    base.motions = np.linalg.qr(motions.T)[0].T                        # the person's motion is among them
    with pytest.raises(ValueError, match='motions'):
        OnlineAdaptation(_linear())
    seq = oscillating(40.0, 30.0, 'new', seed=5, hz=1.5)
    adaptive = OnlineAdaptation(base, horizon_s=0.2, n_components=4, prior=1.0, ramp=30)
    fixed = _linear(c=4, horizons=tuple(range(1, 16)), zero=True)
    err_a, err_f = [], []
    for i, (t, face) in enumerate(zip(seq.times, seq.face_xy)):
        adaptive.update(t, face)
        fixed.update(t, face)
        if i >= len(seq.times) // 2 and i + 6 < len(seq.times):
            err_a.append(np.abs(adaptive.forecast(0.2) - seq.face_xy[i + 6]).mean())
            err_f.append(np.abs(fixed.forecast(0.2) - seq.face_xy[i + 6]).mean())
    assert adaptive.seen > 0
    assert np.mean(err_a) < 0.8 * np.mean(err_f)
    adaptive.reset()                                   # a new stream of the same person: keeps what it learned
    assert np.abs(adaptive.theta).max() > 0
    adaptive.forget()
    assert np.abs(adaptive.theta).max() == 0 and adaptive.seen == 0
