"""The robot's own lag: skin lag, the step-response fit, offline measurement, and the lag carried by
the babbling dataset into the trained self-model."""
import json
import math

import numpy as np
import pytest

from emo_inverse import robot_lag
from emo_inverse.training import babbling, measure_lag, train
from emo_sim.simulated_head import SimulatedHead, SkinLag
from emo_description.head import load_head
from emo_common.testing import faster_head_yaml

HEAD = load_head()


# --- the skin ------------------------------------------------------------------------------------
def test_a_first_order_skin_reaches_63_percent_at_its_time_constant():
    skin = SkinLag(1, 0.05)
    assert skin.update(0.0, np.zeros(2)).tolist() == [0.0, 0.0]
    assert skin.update(0.05, np.ones(2)) == pytest.approx([1 - math.exp(-1)] * 2)


def test_a_first_order_skin_is_exact_for_uneven_samples():
    tau, skin = 0.04, SkinLag(1, 0.04)
    skin.update(0.0, np.zeros(1))
    for t in (0.003, 0.021, 0.022, 0.07, 0.1, 0.31):
        assert skin.update(t, np.ones(1))[0] == pytest.approx(1 - math.exp(-t / tau), abs=1e-12)


def test_a_servo_that_did_not_answer_holds_the_skin_where_it_was():
    skin = SkinLag(1, 0.05)
    skin.update(0.0, np.zeros(2))
    before = skin.update(0.05, np.ones(2))
    after = skin.update(0.10, np.array([np.nan, 1.0]))
    assert np.isfinite(after).all()
    assert after[0] == before[0] and after[1] > before[1]


def test_a_servo_unknown_at_the_first_sample_joins_when_it_answers():
    """It once stayed NaN for good: the skin's state started from the first (NaN) sample."""
    skin = SkinLag(2, 0.04)
    skin.update(0.0, np.array([1.0, np.nan]))
    out = skin.update(0.02, np.array([1.0, 5.0]))
    assert np.isfinite(out).all() and out[1] == 5.0


def test_no_skin_lag_passes_positions_through():
    x = np.array([1.0, 2.0])
    assert SkinLag(0, 0.04).update(0.0, x).tolist() == [1.0, 2.0]
    assert SkinLag(2, 0.0).update(1.0, x).tolist() == [1.0, 2.0]


# --- the fit -------------------------------------------------------------------------------------
def first_order_steps(taus: dict, n_steps: int = 6, dt: float = 0.02, seconds: float = 1.5, seed: int = 0):
    """Step responses in which each region of `taus` follows a first-order lag of its time constant
    (alternating up and down steps, landmark jitter 0.0005) and every other region stays still."""
    rng = np.random.default_rng(seed)
    regions = robot_lag.robot_face_regions()
    rest = SimulatedHead(HEAD).rest.astype(np.float64)
    t = np.arange(1, int(round(seconds / dt)) + 1) * dt
    steps, before = [], rest.copy()
    for k in range(n_steps):
        target = rest.copy()
        if k % 2 == 0:
            for name in taus:
                target[regions[name]] += rng.uniform(0.02, 0.05) * np.array([0.3, 1.0])
        faces = np.repeat(before[None], len(t), axis=0)
        for name, tau in taus.items():
            rows = regions[name]
            p = (1 - np.exp(-t / tau))[:, None, None]
            faces[:, rows] = before[rows] + p * (target[rows] - before[rows])
        faces += rng.normal(0, 0.0005, faces.shape)
        steps.append((t, faces, before))
        before = np.median(faces[t >= t[-1] - robot_lag.SETTLED_S], axis=0)
    return steps


def test_the_fit_recovers_a_first_order_lag():
    taus = {'jaw': 0.1, 'brows': 0.05}
    lag = robot_lag.fit_lag(first_order_steps(taus), robot_lag.robot_face_regions(), 'synthetic')
    assert set(lag['regions']) == {'jaw', 'brows'}                  # eyes and lips did not move
    for name, tau in taus.items():
        r = lag['regions'][name]
        assert r['responses'] == 6
        assert r['t50_s'] == pytest.approx(tau * math.log(2), abs=0.004)
        assert r['t90_s'] == pytest.approx(tau * math.log(10), abs=0.006)
        assert r['mean_delay_s'] == pytest.approx(tau, abs=0.005)     # a first-order lag's mean delay is tau
    assert lag['lag_s'] == lag['mean_delay_s']
    assert 0.05 <= lag['lag_s'] <= 0.1 and lag['source'] == 'synthetic' and lag['steps'] == 6


def test_a_face_that_never_moved_has_no_lag():
    still = [(t, np.repeat(before[None], len(t), axis=0), before)
             for t, _, before in first_order_steps({'jaw': 0.1}, n_steps=2)]
    with pytest.raises(ValueError, match='no step moved'):
        robot_lag.fit_lag(still, robot_lag.robot_face_regions())


# --- two simulated heads -------------------------------------------------------------------------
@pytest.fixture(scope='module')
def lags(tmp_path_factory):
    fast = load_head(faster_head_yaml(tmp_path_factory.mktemp('heads') / 'fast.yaml'))
    return {'emo': measure_lag.measure_offline(HEAD, 30), 'fast': measure_lag.measure_offline(fast, 30)}


def test_the_faster_head_measures_the_shorter_lag(lags):
    emo, fast = lags['emo'], lags['fast']
    assert fast['lag_s'] < 0.8 * emo['lag_s']
    for lag in (emo, fast):
        assert 0.0 < lag['t50_s'] < lag['t90_s']
        assert set(lag['regions']) == {'brows', 'eyes', 'lips', 'jaw'}
        assert lag['responses'] >= 30 * 2
    # Emo: speed under load, the profile's acceleration and the skin (2 x 40 ms) add up to ~0.2 s.
    assert 0.12 < emo['lag_s'] < 0.35
    assert 'fast_emo' in fast['source'] and fast['dynamics']['skin_time_constant_s'] == 0.02


def test_the_ideal_plant_is_faster_than_the_real_one(lags):
    ideal = measure_lag.measure_offline(HEAD, 30, plant='ideal')
    assert ideal['lag_s'] < lags['emo']['lag_s'] and ideal['dynamics'] == 'ideal'


def test_the_lag_is_saved_with_a_checkpoint(lags, tmp_path):
    import shutil
    path = tmp_path / 'inverse.pt'
    shutil.copy(robot_lag.default_self_model_path(), path)
    robot_lag.write_lag(path, lags['fast'])
    assert robot_lag.read_lag(path) == lags['fast']
    assert robot_lag.read_lag(robot_lag.default_self_model_path())['lag_s'] > 0   # the shipped one has one


# --- the dataset and the self-model carry it -----------------------------------------------------
@pytest.fixture(scope='module')
def small(tmp_path_factory):
    """A small offline babbling dataset with its measured lag, written and read back."""
    data = babbling.babble_offline(HEAD, SimulatedHead(HEAD, seed=3), n_per_session=30, seed=3, lag_steps=12)
    path = tmp_path_factory.mktemp('babble') / 'babble.npz'
    babbling.save(path, data)
    return data, path


def test_offline_babbling_measures_the_lag_and_the_dataset_keeps_it(small):
    data, path = small
    loaded = babbling.load(path)
    assert isinstance(loaded['robot_lag'], dict)
    assert loaded['robot_lag'] == json.loads(json.dumps(data['robot_lag']))
    assert loaded['robot_lag']['steps'] == 12 and loaded['robot_lag']['lag_s'] > 0
    with np.load(path, allow_pickle=False) as f:                     # stored as JSON: no pickle needed
        assert f['robot_lag'].dtype.kind == 'U' and f['robot_lag'].shape == ()
    assert np.array_equal(loaded['faces'], data['faces'])
    parts = babbling.split(loaded)                                    # the lag is the dataset's, not a sample's
    assert parts.train['robot_lag'] == loaded['robot_lag'] == parts.test['robot_lag']


def test_a_dataset_without_a_lag_loads_as_before(tmp_path):
    data = babbling.babble_offline(HEAD, SimulatedHead(HEAD), n_per_session=5)
    assert 'robot_lag' not in data
    babbling.save(tmp_path / 'old.npz', data)
    assert set(babbling.load(tmp_path / 'old.npz')) == {'commands', 'faces', 'session', 'rest_face'}


def test_a_malformed_lag_is_a_clear_error(tmp_path):
    data = babbling.babble_offline(HEAD, SimulatedHead(HEAD), n_per_session=5)
    np.savez_compressed(tmp_path / 'bad.npz', **data, robot_lag=np.array('not json'))
    with pytest.raises(ValueError, match='robot_lag'):
        babbling.load(tmp_path / 'bad.npz')


def test_the_babbling_command_line_writes_the_lag(tmp_path):
    assert babbling.main(['--samples', '10', '--lag-steps', '6', '--out', str(tmp_path / 'b.npz')]) == 0
    assert babbling.load(tmp_path / 'b.npz')['robot_lag']['steps'] == 6
    assert babbling.main(['--samples', '10', '--lag-steps', '0', '--out', str(tmp_path / 'c.npz')]) == 0
    assert 'robot_lag' not in babbling.load(tmp_path / 'c.npz')


def test_a_retrained_self_model_carries_its_heads_lag(small, tmp_path):
    _, path = small
    out = tmp_path / 'inverse.pt'
    assert train.main(['--data', str(path), '--out', str(out), '--epochs', '1', '--widths', '16']) == 0
    assert robot_lag.read_lag(out) == babbling.load(path)['robot_lag']
    data = babbling.load(path)
    del data['robot_lag']
    babbling.save(tmp_path / 'no_lag.npz', data)
    assert train.main(['--data', str(tmp_path / 'no_lag.npz'), '--out', str(out), '--epochs', '1',
                       '--widths', '16']) == 0
    assert robot_lag.read_lag(out) is None


def test_a_lag_measured_by_babbling_can_be_saved_with_any_self_model(small, tmp_path):
    import shutil
    _, path = small
    model = tmp_path / 'inverse.pt'
    shutil.copy(robot_lag.default_self_model_path(), model)
    assert measure_lag.main(['--model', str(model), '--babbling', str(path)]) == 0
    assert robot_lag.read_lag(model) == babbling.load(path)['robot_lag']
    data = babbling.load(path)
    del data['robot_lag']
    babbling.save(tmp_path / 'no_lag.npz', data)
    with pytest.raises(SystemExit):                                   # says the dataset has no lag
        measure_lag.main(['--model', str(model), '--babbling', str(tmp_path / 'no_lag.npz')])
