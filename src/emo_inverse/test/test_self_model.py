"""Simulated head, babbling, normalization, inverse model and the activation metrics."""
import numpy as np
import pytest

from emo_inverse.training import babbling
from emo_inverse.training.evaluate import OverlapError, activation_metrics, evaluate
from emo_inverse.model import NumpyInverse, InverseModel
from emo_inverse.normalization import Normalizer, RestFaceEstimator
from emo_sim.simulated_head import SimulatedHead
from emo_description.head import load_head

HEAD = load_head()


@pytest.fixture(scope='module')
def twin():
    return SimulatedHead(HEAD, seed=0)


@pytest.fixture(scope='module')
def data(twin):
    return babbling.babble_offline(HEAD, SimulatedHead(HEAD, seed=1), n_per_session=300, seed=1)


def test_calm_pose_gives_the_rest_face(twin):
    assert np.allclose(twin.face(HEAD.calm, noise=False), twin.rest, atol=1e-6)


def test_jaw_opens_the_mouth_and_smile_raises_the_corners(twin):
    ids = __import__('emo_sim.simulated_head', fromlist=['robot_face_model']).robot_face_model()[1]
    c = HEAD.calm_commands
    c[10] = 1.0
    open_face = twin.face_of_commands(c, noise=False)
    assert open_face[ids.index(152), 1] - twin.rest[ids.index(152), 1] > 0.15        # chin down
    c = HEAD.calm_commands
    c[8] = 1.0
    smile = twin.face_of_commands(c, noise=False)
    assert smile[ids.index(61), 1] < twin.rest[ids.index(61), 1] - 0.02               # right corner up
    assert smile[ids.index(291), 1] < twin.rest[ids.index(291), 1] - 0.02             # left corner up


def test_soft_skin_is_not_linear(twin):
    """Saturation and coupling: half a command is not half the motion; jaw and corners interact."""
    base = twin.face_of_commands(HEAD.calm_commands, noise=False)
    c_full, c_half = HEAD.calm_commands, HEAD.calm_commands
    c_full[8], c_half[8] = 1.0, 0.75
    full = twin.face_of_commands(c_full, noise=False) - base
    half = twin.face_of_commands(c_half, noise=False) - base
    assert np.abs(half).sum() > 0.5 * np.abs(full).sum() * 1.05
    both = HEAD.calm_commands
    both[8], both[10] = 1.0, 0.8
    jaw = HEAD.calm_commands
    jaw[10] = 0.8
    coupled = twin.face_of_commands(both, noise=False) - base
    summed = full + (twin.face_of_commands(jaw, noise=False) - base)
    assert np.abs(coupled - summed).max() > 0.01


def test_left_and_right_differ_a_little(twin):
    ids = __import__('emo_sim.simulated_head', fromlist=['robot_face_model']).robot_face_model()[1]
    c = HEAD.calm_commands
    c[0] = 1.0                                                   # brows up
    d = twin.face_of_commands(c, noise=False) - twin.rest
    r, l = d[ids.index(105), 1], d[ids.index(334), 1]
    assert r < 0 and l < 0 and 1.02 < l / r < 1.1


def test_seeded_noise_is_deterministic():
    a = SimulatedHead(HEAD, seed=3).face(HEAD.calm)
    b = SimulatedHead(HEAD, seed=3).face(HEAD.calm)
    assert np.array_equal(a, b) and not np.array_equal(a, SimulatedHead(HEAD, seed=4).face(HEAD.calm))


def test_babbling_respects_constraints_and_sessions(data):
    assert len(data['commands']) == 900
    assert [list(data['session']).count(s) for s in babbling.SESSIONS] == [300, 300, 300]
    for c, s in zip(data['commands'], data['session']):
        assert not HEAD.violations(c)
        if s != 'whole':
            other = slice(4, 11) if s == 'upper' else slice(0, 4)
            assert np.allclose(c[other], HEAD.calm_commands[other])   # the other half of the face stays calm
    whole = data['commands'][data['session'] == 'whole']
    moved = np.abs(whole - HEAD.calm_commands) > 0.05
    assert moved[:, :4].any(axis=1).mean() > 0.9 and moved[:, 4:].any(axis=1).mean() > 0.9   # both halves move


def test_the_upper_and_lower_face_pull_on_each_other(twin):
    """Coupling (SimulatedHead.COUPLING): a smile lifts the lower lids, an open jaw lowers the upper lids,
    raised brows open them; so the halves of two faces are not the face of their commands together."""
    ids = __import__('emo_sim.simulated_head', fromlist=['robot_face_model']).robot_face_model()[1]
    lower_lid, upper_lid = ids.index(145), ids.index(159)       # the right eye's lower and upper lid middles
    calm = twin.face_of_commands(HEAD.calm_commands, noise=False)

    def moved(index, value, row):
        c = HEAD.calm_commands
        c[index] = value
        return twin.face_of_commands(c, noise=False)[row, 1] - calm[row, 1]
    assert moved(8, 1.0, lower_lid) < -0.005          # corner raise: lower lid up (y down)
    assert moved(10, 1.0, upper_lid) > 0.005          # jaw open: upper lid down
    assert moved(0, 1.0, upper_lid) < -0.005          # brows up: upper lid up
    # A whole face is not the upper half of its upper commands' face with the lower half of its lower ones'.
    c = HEAD.calm_commands
    c[0], c[8], c[10] = 1.0, 1.0, 0.6
    upper_only, lower_only = HEAD.calm_commands, HEAD.calm_commands
    upper_only[:4], lower_only[4:] = c[:4], c[4:]
    combined = np.concatenate([twin.face_of_commands(upper_only, noise=False)[babbling.UPPER_POINTS],
                               twin.face_of_commands(lower_only, noise=False)[babbling.LOWER_POINTS]])
    assert np.abs(combined - twin.face_of_commands(c, noise=False)).max() > 0.01


def test_augmentation_combines_upper_and_lower(data):
    faces, commands = babbling.augment(data, 50, np.random.default_rng(0))
    assert faces.shape == (50, 113, 2) and commands.shape == (50, 11)
    assert not np.allclose(commands[:, :4], HEAD.calm_commands[:4]) and not np.allclose(commands[:, 4:], HEAD.calm_commands[4:])


def test_normalization_follows_equations_1_2(data):
    norm = Normalizer.from_babbling(data, k=1.0)
    human_rest = np.zeros((113, 2), np.float32)
    assert np.allclose(norm(human_rest, human_rest), norm.robot_rest)               # rest maps to rest
    huge = human_rest + 5.0
    out = norm(huge, human_rest)
    assert np.allclose(out, norm.robot_max)                                         # limited by the robot's range
    small = human_rest.copy()
    small[0, 1] = -0.001
    assert np.isclose(norm(small, human_rest)[0, 1] - norm.robot_rest[0, 1], max(-0.001, norm.robot_min[0, 1] - norm.robot_rest[0, 1]))
    assert np.allclose(Normalizer.from_babbling(data, k=2.0)(small, human_rest)[0, 1] - norm.robot_rest[0, 1],
                       max(-0.002, norm.robot_min[0, 1] - norm.robot_rest[0, 1]))


def test_rest_face_estimator_ignores_expressions():
    est = RestFaceEstimator(init=5)
    calm = np.zeros((113, 2), np.float32)
    for _ in range(60):
        est.update(calm)
    for _ in range(40):
        est.update(calm + 0.1)                                    # a held expression, shorter than the calm
    assert np.allclose(est.rest, calm, atol=1e-6)


def test_activation_metrics_count_like_table_1():
    calm = np.full(11, 0.5, np.float32)
    target = np.array([[0.9] * 5 + [0.5] * 6], np.float32)
    pred = np.array([[0.9] * 3 + [0.5] * 2 + [0.9] * 1 + [0.5] * 5], np.float32)
    m = activation_metrics(pred, target, calm)
    assert (m['tp'], m['fn'], m['fp'], m['tn']) == (3, 2, 1, 5)
    assert m['accuracy'] == pytest.approx(8 / 11) and m['ppv'] == pytest.approx(0.75)
    assert m['sensitivity'] == pytest.approx(0.6) and m['fpr'] == pytest.approx(1 / 6)


def test_splits_are_disjoint_by_babbling_sample_and_keep_each_sessions_share(data):
    parts = babbling.split(data, 0.15, 0.15, seed=3)
    rows = [set(parts.index[k].tolist()) for k in ('train', 'val', 'test')]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2]) and not (rows[1] & rows[2])
    assert set.union(*rows) == set(range(len(data['commands'])))
    for s in babbling.SESSIONS:
        assert (parts.test['session'] == s).sum() == (parts.val['session'] == s).sum() == 45
    digests = babbling.sample_digests(data)
    assert len(set(digests)) == len(digests)
    assert babbling.sample_digests(parts.test) == [digests[i] for i in parts.index['test']]


@pytest.fixture(scope='module')
def trained(data):
    from emo_inverse.training.train import split_record, train
    model, history, parts = train(data, widths=(128,), epochs=40, per_epoch=2000, patience=40, progress=False)
    return model, {'split': split_record(data, parts, 0)}, parts


def test_the_inverse_model_beats_the_baselines_on_augmented_and_whole_faces(data, trained):
    model, meta, parts = trained
    res = evaluate(model, meta, data, HEAD, seed=5, n_augmented=300)
    aug, whole = res['augmented']['l1'], res['whole_face']['l1']
    assert res['test_samples'] == {'upper': 45, 'lower': 45, 'whole': 45}
    assert aug['ours']['mean'] < aug['nearest_neighbour_per_half']['mean'] < aug['random_commands']['mean']
    assert aug['ours']['mean'] < aug['random_face_commands']['mean']
    assert whole['ours']['mean'] < whole['nearest_neighbour_whole_face']['mean'] < whole['random_commands']['mean']
    assert res['augmented']['paired_l1']['nearest_neighbour_per_half']['p'] < 0.01
    for name in ('augmented', 'whole_face'):
        s = res[name]['l1']['ours']
        assert s['ci95'][0] < s['mean'] < s['ci95'][1] and s['sem'] > 0 and s['n'] == res[name]['faces']
        assert res[name]['face_error']['ours']['mean'] < res[name]['face_error']['random_commands']['mean']


def test_evaluate_refuses_a_test_set_that_was_trained_or_early_stopped_on(data, trained):
    model, meta, parts = trained
    for leaked in (parts.train, parts.val, babbling.subset(data, [int(parts.index['test'][0]),
                                                                  int(parts.index['val'][0])])):
        with pytest.raises(OverlapError, match='refused'):
            evaluate(model, meta, data, HEAD, test_data=leaked)
    fresh = babbling.babble_offline(HEAD, SimulatedHead(HEAD, seed=9), n_per_session=20, seed=9)
    assert evaluate(model, meta, data, HEAD, test_data=fresh, n_augmented=50)['test_samples']['whole'] == 20
    with pytest.raises(ValueError, match='records no training split'):
        evaluate(model, {}, data, HEAD)


def test_the_cli_refuses_an_overlapping_test_set_and_reports_a_clean_one(data, trained, tmp_path):
    from emo_inverse.training import evaluate as cli
    from emo_inverse.model import save_checkpoint
    model, meta, parts = trained
    babbling.save(tmp_path / 'b.npz', data)
    babbling.save(tmp_path / 'leak.npz', parts.val)
    save_checkpoint(tmp_path / 'm.pt', model, meta)
    args = ['--model', str(tmp_path / 'm.pt'), '--data', str(tmp_path / 'b.npz')]
    assert cli.main(args + ['--test-data', str(tmp_path / 'leak.npz'), '--out', str(tmp_path / 'no')]) == 2
    assert not (tmp_path / 'no' / 'results.json').exists()
    assert cli.main(args + ['--out', str(tmp_path / 'ok')]) == 0
    import json
    out = json.loads((tmp_path / 'ok' / 'results.json').read_text())
    assert out['protocol']['split']['counts'] == {'train': 630, 'val': 135, 'test': 135}
    assert set(out['whole_face']['l1']) >= {'ours', 'nearest_neighbour_whole_face', 'nearest_neighbour_per_half'}


@pytest.mark.parametrize('widths', [(32,), (32, 16), (64, 32, 16)])
def test_the_fast_runner_is_the_network(widths, data):
    m = InverseModel(widths, data['rest_face'])
    m.train()
    with __import__('torch').no_grad():                    # give batch norm statistics of its own
        m(__import__('torch').from_numpy(data['faces'][:200].astype(np.float32)))
    m.eval()
    x = data['faces'][200:220].astype(np.float32)
    with __import__('torch').inference_mode():
        expect = m(__import__('torch').from_numpy(x)).numpy()
    fast = NumpyInverse(m)
    assert np.allclose(np.stack([fast.predict(f) for f in x]), expect, atol=1e-5)


def test_the_authors_shape_is_one_of_the_architectures():
    m = InverseModel((1024, 512))
    kinds = [type(x).__name__ for x in m.net]
    assert kinds == ['Linear', 'ReLU', 'BatchNorm1d', 'Linear', 'ReLU', 'BatchNorm1d', 'Linear']
    assert [x.out_features for x in m.net if hasattr(x, 'out_features')] == [1024, 512, 11]
    assert m.net[0].in_features == 226


def test_the_shipped_architecture_is_the_one_the_evidence_chose():
    """Training's defaults, the shipped checkpoint and results/inverse_architecture.json agree."""
    import json
    import pathlib
    from emo_inverse import default_path
    from emo_inverse.training import train
    from emo_inverse.model import load_checkpoint
    model, meta = load_checkpoint(default_path('inverse_default.pt'))
    assert model.widths == train.WIDTHS == InverseModel().widths and meta['whole_share'] == train.WHOLE_SHARE
    results = pathlib.Path(__file__).resolve().parents[3] / 'results' / 'inverse_architecture.json'
    if not results.is_file():
        pytest.skip(f'{results} not found (run make self-model-choice)')
    choice = json.loads(results.read_text())['choice']
    assert tuple(choice['widths']) == train.WIDTHS and choice['whole_share'] == train.WHOLE_SHARE
