"""The predictive model: the paper's architecture, the fast runner, checkpoints, training."""
import numpy as np
import pytest
import torch

from emo_prediction.training.dataset import WindowDataset, build_from_clips, synthetic_clips
from emo_prediction.model import NumpyPredictor, PredictiveModel, load_checkpoint, save_checkpoint


def test_architecture_is_the_papers():
    model = PredictiveModel(hidden=64)
    assert len(model.fc) == 8
    assert model.fc[0].in_features == 4 * 113 * 2 and model.fc[-1].out_features == 113 * 2
    out = model(torch.zeros(3, 4, 113, 2))
    assert out.shape == (3, 113, 2)


def test_the_skip_connection_carries_layer_4_into_layer_6():
    torch.manual_seed(0)
    model = PredictiveModel(hidden=16).eval()
    x = torch.randn(2, 4, 113, 2)
    base = model(x)
    with torch.no_grad():
        model.fc[4].weight.zero_()
        model.fc[4].bias.zero_()      # layer 5 now outputs tanh(0) = 0 ...
    changed = model(x)
    assert not torch.allclose(base, changed)
    # ... and layer 6 still sees layer 4 through the skip, so the output still depends on the input.
    assert not torch.allclose(model(x), model(x + 0.5))


def test_fast_predictor_matches_torch():
    torch.manual_seed(1)
    model = PredictiveModel(hidden=32).eval()
    fast = NumpyPredictor.from_model(model)
    x = np.random.default_rng(0).normal(0, 0.3, (5, 4, 113, 2)).astype(np.float32)
    with torch.inference_mode():
        ref = model(torch.from_numpy(x)).numpy()
    assert np.allclose(np.stack([fast.predict(s) for s in x]), ref, atol=1e-5)


def test_checkpoint_round_trip(tmp_path):
    model = PredictiveModel(hidden=24)
    save_checkpoint(tmp_path / 'm.pt', model, {'median_lead_s': 0.7})
    loaded, meta = load_checkpoint(tmp_path / 'm.pt')
    assert meta['median_lead_s'] == 0.7 and loaded.hidden == 24
    x = torch.randn(1, 4, 113, 2)
    assert torch.allclose(model.eval()(x), loaded(x))


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    torch.save({'weights': 1}, tmp_path / 'other.pt')
    with pytest.raises(ValueError, match='not a predictive-model checkpoint'):
        load_checkpoint(tmp_path / 'other.pt')


@pytest.fixture(scope='module')
def small_data():
    data, _ = build_from_clips(synthetic_clips(400, 20, seed=5), progress=False)
    return data


def test_windows_follow_the_paper(small_data):
    rng = np.random.default_rng(0)
    inputs, labels = small_data.draw(rng)
    assert inputs.shape == (len(small_data), 4, 113, 2) and labels.shape == (len(small_data), 113, 2)
    # Every input frame comes from the 17 kept around the peak activation, in time order.
    i = 0
    pos = [int(np.argmin(np.abs(small_data.around_peak[i] - f).sum(axis=(1, 2)))) for f in inputs[i]]
    assert pos == sorted(pos) and 0 <= pos[0] and pos[-1] <= 16


def test_splits_keep_videos_and_participants_apart(small_data):
    train, val = small_data.split('within', 0.2, seed=0)
    assert not set(train.video) & set(val.video)
    assert set(val.participant) <= set(train.participant)           # 80:20 within each participant
    train, val = small_data.split('lpo', 0.2, seed=0)
    assert not set(train.participant) & set(val.participant)        # leave participants out
    folds = list(small_data.folds(5, 'participant'))
    assert len(folds) == 5 and sum(len(te) for _, te in folds) == len(small_data)


def test_dataset_save_and_load(tmp_path, small_data):
    small_data.save(tmp_path / 'w.npz')
    again = WindowDataset.load(tmp_path / 'w.npz')
    assert len(again) == len(small_data) and np.array_equal(again.video, small_data.video)


def test_a_short_training_beats_mimicry_on_unseen_people(small_data):
    from emo_prediction.training.evaluate import compare
    from emo_prediction.training.train import train
    train_set, val_set = small_data.split('within', 0.2, seed=0)
    model, history = train(train_set, val_set, hidden=64, lr=1e-3, epochs=25, patience=25, progress=False)
    assert history[-1]['train_mae'] < history[0]['train_mae']
    test, _ = build_from_clips(synthetic_clips(150, 10, seed=6, first_person=2000), progress=False)
    res = compare(NumpyPredictor.from_model(model), test, small_data)
    assert res['summary']['ours']['mean'] < res['summary']['mimicry']['mean'] < res['summary']['random_search']['mean']
    assert res['ttest_vs_mimicry']['p'] < 0.05
