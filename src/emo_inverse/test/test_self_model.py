"""Simulated head, babbling, normalization, inverse model and the activation metrics."""
import numpy as np
import pytest

from emo_inverse import babbling
from emo_inverse.evaluate import activation_metrics, compare
from emo_inverse.model import FastInverse, InverseModel
from emo_inverse.normalization import Normalizer, RestFaceEstimator
from emo_inverse.simulated_head import SimulatedHead
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
    ids = __import__('emo_inverse.simulated_head', fromlist=['robot_face_model']).robot_face_model()[1]
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
    ids = __import__('emo_inverse.simulated_head', fromlist=['robot_face_model']).robot_face_model()[1]
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
    assert len(data['commands']) == 600
    for c, s in zip(data['commands'], data['session']):
        assert not HEAD.violations(c)
        other = slice(4, 11) if s == 'upper' else slice(0, 4)
        assert np.allclose(c[other], HEAD.calm_commands[other])   # the other half of the face stays calm


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


def test_the_inverse_model_beats_the_papers_baselines(data):
    from emo_inverse.train import train
    model, history = train(data, hidden=128, epochs=40, per_epoch=2000, patience=40, progress=False)
    tr, val = babbling.split(data, 0.2, 0)
    x, y = babbling.augment(val, 300, np.random.default_rng(5))
    l1, ours = compare(model, tr, x, y)
    assert l1['ours'].mean() < l1['nearest_neighbour'].mean() < l1['random_commands'].mean()
    assert l1['ours'].mean() < l1['random_face_commands'].mean()
    assert ((ours >= 0) & (ours <= 1)).all()
    fast = FastInverse(model)
    assert np.allclose(np.stack([fast.predict(f) for f in x[:20]]), ours[:20], atol=1e-4)


def test_architecture_is_the_papers():
    m = InverseModel(hidden=32)
    layers = [type(x).__name__ for x in m.children()]
    assert layers == ['Linear', 'BatchNorm1d', 'Linear', 'Linear']
    assert m.fc1.in_features == 226 and m.fc3.out_features == 11
