"""The demo bound's parts: when an onset becomes detectable, what the oracle commands, and that the
replayed plant lags a step as much as the robot's measured lag says."""
import importlib.util
import pathlib

import numpy as np
import pytest

pytest.importorskip('torch')
spec = importlib.util.spec_from_file_location('demo_bound', pathlib.Path(__file__).parents[1] / 'bench' / 'demo_bound.py')
demo_bound = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_bound)


def test_an_onset_is_detectable_once_it_leaves_the_calm_jitter_for_good():
    rng = np.random.default_rng(0)
    t = np.arange(120) / 30.0
    curve = 0.01 + rng.normal(0.0, 0.001, 120)
    curve[60:] += 0.002 * np.arange(60)           # the onset starts at frame 60, 0.002 a frame
    k, sd = demo_bound.detectable_frame(t, curve, 60, sigmas=3.0)
    assert 0.0005 < sd < 0.002
    assert 1 <= k <= 4                             # 3 SD is ~0.003: two to three frames in
    curve[60:63] = curve[59]                       # a flat start: detectable later, not sooner
    k2, _ = demo_bound.detectable_frame(t, curve, 60, sigmas=3.0)
    assert k2 >= 3 and k2 >= k
    flat = 0.01 + rng.normal(0.0, 0.001, 120)
    assert demo_bound.detectable_frame(t, flat, 60, sigmas=6.0)[0] is None


class Clip:
    expressions = [{'label': 'smile', 'onset_start_frame': 10}, {'label': 'jaw_drop', 'onset_start_frame': 40}]


def test_the_oracle_commands_the_held_face_from_its_frame_and_overdrives_first():
    rest, smile, jaw = np.zeros((113, 2)), np.full((113, 2), 0.01), np.full((113, 2), -0.02)
    o = demo_bound.Oracle(Clip, rest, [smile, jaw], [30, 60], {'smile': (2, 2.0, 3), 'jaw_drop': (0, 1.0, 0)})
    current = np.full((113, 2), 0.5)
    assert o.face(11, current) is current                   # before its first frame: mimicry
    assert np.allclose(o.face(12, current), 2 * smile)       # overdrive for 3 frames
    assert np.allclose(o.face(14, current), 2 * smile)
    assert np.allclose(o.face(15, current), smile)           # then the held face to the window's end
    assert np.allclose(o.face(30, current), smile)
    assert o.face(31, current) is current
    assert np.allclose(o.face(40, current), jaw)


def test_the_replayed_plant_lags_a_step_as_the_robot_measured_it():
    from emo_inverse.robot_lag import default_self_model_path, read_lag
    from emo_common.layout import landmark_layout
    from emo_description.head import load_head
    lag = read_lag(default_self_model_path())
    neutral, _, groups = landmark_layout()
    head = load_head()
    plant = demo_bound.RobotChain()
    n = 150
    t = np.arange(n) / 30.0
    person = np.repeat(neutral[None].astype(np.float32), n, axis=0)
    person[100:, groups['jaw21'], 1] += 0.08           # calm (the rest face), then the jaw drops at once
    rt, faces = plant.run(t, person, list(person))
    before = faces[np.searchsorted(rt, t[100]) - 1]            # settled on the person's rest face
    change = np.linalg.norm(faces - before, axis=2).mean(axis=1)
    final = np.median(change[rt > rt[-1] - 0.3])
    assert final > 0.002                               # the robot's face moved
    after = rt >= t[100]
    t90 = rt[after][np.flatnonzero(change[after] >= 0.9 * final)[0]] - t[100]
    assert 0.5 * lag['t50_s'] < t90 < 3 * lag['t90_s']  # as slow as babbling measured it, not instant
    assert plant.new_controller().start(head.calm.astype(np.float64)).shape == head.calm.shape   # every servo driven
