"""What the predictor publishes per frame: the person's face, or the anticipated one, paced."""
import numpy as np
import pytest

from emo_prediction.anticipator import FOLLOW, ONSET, Anticipator
from emo_common.layout import landmark_layout
from emo_prediction.training.synthetic import ExpressionGenerator

IDS = landmark_layout()[1]


class TargetOracle:
    """A stand-in predictive model that knows the clip's target face (tests the pacing, not the model)."""

    def __init__(self, target):
        self.target = np.asarray(target, np.float32)
        self.calls = 0

    def predict(self, frames):
        assert frames.shape == (4, 113, 2)
        self.calls += 1
        return self.target


def _clip(seed=41, label='smile'):
    gen = ExpressionGenerator(seed=seed)
    return gen.expression_clip(gen.person(800), label, rest_s=1.5, hold_s=1.0, talking=False)


def _run(anticipator, clip):
    return [anticipator.update(i / clip.fps, face) for i, face in enumerate(clip.face_xy)]


def test_mimic_mode_is_the_current_face():
    clip = _clip()
    outs = _run(Anticipator(None, 'mimic', fps=clip.fps, vertex_ids=IDS), clip)
    for face, out in zip(clip.face_xy, outs):
        assert out.kind == FOLLOW and out.target_xy is None
        np.testing.assert_array_equal(out.face_xy, face)


def test_bad_modes_and_a_missing_model_are_refused():
    with pytest.raises(ValueError, match='mode'):
        Anticipator(None, 'copy')
    with pytest.raises(ValueError, match='model'):
        Anticipator(None, 'anticipate')


def test_without_pacing_the_target_is_shown_from_the_firing_on():
    clip = _clip()
    target = clip.face_xy[clip.target_frame]
    outs = _run(Anticipator(TargetOracle(target), 'anticipate', 0.8, clip.fps, None, IDS, robot_lag_s=0.0,
                            onset_face='paced'), clip)
    kinds = [o.kind for o in outs]
    first = kinds.index(ONSET)
    assert clip.onset_start_frame <= first < clip.target_frame
    assert all(k == FOLLOW for k in kinds[:first])
    np.testing.assert_allclose(outs[first].face_xy, target)
    np.testing.assert_allclose(outs[first].target_xy, target)
    assert outs[first].lead_s == pytest.approx(0.8)


def _arrival(faces, rest, target, fraction=0.9):
    d = np.linalg.norm(np.asarray(faces) - rest, axis=2).mean(axis=1)
    return int(np.flatnonzero(d >= fraction * np.linalg.norm(target - rest, axis=1).mean())[0])


@pytest.mark.parametrize('label', ['smile', 'brow_raise', 'jaw_drop'])
def test_paced_anticipation_leads_the_person_by_about_the_robot_lag(label):
    clip = _clip(seed=42, label=label)
    rest, target = clip.face_xy[0], clip.face_xy[clip.target_frame]
    lag_s = 0.15
    oracle = TargetOracle(target)
    outs = _run(Anticipator(oracle, 'anticipate', 1.5, clip.fps, None, IDS, robot_lag_s=lag_s, onset_face='paced'), clip)
    shown = [o.face_xy for o in outs]
    person = _arrival(clip.face_xy, rest, target)
    told = _arrival(shown, rest, target)
    lead_frames = person - told
    # Told to arrive ahead of the person: about the lag (at the speed of the moment, which
    # overshoots while the person slows into the target), not the whole onset ahead as the
    # unpaced target shown from the firing on would be.
    assert 1 <= lead_frames <= 2 * lag_s * clip.fps + 1, (label, person, told)
    first = next(i for i, o in enumerate(outs) if o.kind == ONSET)
    assert first < told, (label, first, told)
    # Every paced face lies on the way from the current face to the target.
    for face, o in zip(clip.face_xy, outs):
        if o.kind == ONSET:
            assert np.linalg.norm(o.face_xy - face) <= np.linalg.norm(target - face) + 1e-6


@pytest.mark.parametrize('label', ['smile', 'brow_raise'])
def test_extrapolated_onsets_go_past_an_under_predicted_target_at_the_persons_pace(label):
    """A model that predicts only half the expression: paced stops at that half, extrapolated goes on at the
    person's pace along the onset (not further than its cap), and leads the person as paced does a right
    target; it stays with the onset while the face still rises after the lead time."""
    from emo_prediction.anticipator import EXTRAPOLATION_CAP
    clip = _clip(seed=42, label=label)
    rest, target = clip.face_xy[0], clip.face_xy[clip.target_frame]
    half = rest + 0.5 * (target - rest)
    lag_s = 0.15

    def shown(onset_face, lead_s=1.5):
        a = Anticipator(TargetOracle(half), 'anticipate', lead_s, clip.fps, None, IDS, robot_lag_s=lag_s,
                        onset_face=onset_face)
        return _run(a, clip)
    paced, extrapolated = shown('paced'), shown('extrapolated')
    d = lambda f: np.linalg.norm(np.asarray(f) - rest, axis=1).mean()      # noqa: E731
    amplitude = d(target)
    assert max(d(o.face_xy) for o in paced if o.kind == ONSET) <= 0.5 * amplitude + 1e-6
    person = _arrival(clip.face_xy, rest, target)
    told = _arrival([o.face_xy for o in extrapolated], rest, target)
    assert 1 <= person - told <= 2 * lag_s * clip.fps + 1, (label, person, told)
    reach = max(d(o.face_xy) for o in extrapolated)
    assert reach <= (1.0 + EXTRAPOLATION_CAP) * amplitude + 0.01 and reach >= 0.95 * amplitude
    short = shown('extrapolated', lead_s=0.1)          # the lead time ends long before the apex
    assert sum(o.kind == ONSET for o in short) > 0.1 * clip.fps + 3


def test_a_lost_face_keeps_the_prediction_for_its_lead_time_only():
    clip = _clip(seed=43, label='surprise')
    target = clip.face_xy[clip.target_frame]
    a = Anticipator(TargetOracle(target), 'anticipate', 0.5, clip.fps, None, IDS, robot_lag_s=0.0)
    for i, face in enumerate(clip.face_xy):
        out = a.update(i / clip.fps, face)
        if out.kind == ONSET:
            break
    t = i / clip.fps
    assert a.update(t + 0.1, None) is out
    assert a.update(t + 0.6, None) is None
