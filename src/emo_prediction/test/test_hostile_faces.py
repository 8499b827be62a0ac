"""Issue 13: a face far outside any plausible face frame is rejected by the onset detector, never learned into
its rest face or noise level (one finite 1e30 face used to disable it for good)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emo_common.messages import FACE_FRAME_LIMIT, plausible_face
from emo_prediction.detector import OnsetDetector, run_detector
from emo_common.layout import landmark_layout
from emo_prediction.training.synthetic import ExpressionGenerator

IDS = landmark_layout()[1]


def test_generated_faces_are_plausible():
    """The bound (emo_common.messages) leaves room around generated faces: they reach about 1.5."""
    gen = ExpressionGenerator(seed=71)
    for k in range(5):
        clip = gen.continuous_clip(gen.person(7100 + k), 10.0, talking=True, expressions_per_min=20)
        faces = clip.face_xy[np.isfinite(clip.face_xy).all(axis=(1, 2))]
        assert np.abs(faces).max() < FACE_FRAME_LIMIT / 1.8
        assert all(plausible_face(f) for f in faces[::10])


def fires_with(clip, bad_frames: dict):
    """Frames where the detector (default settings, as the node runs it) fires, with some frames replaced."""
    det = OnsetDetector(None, clip.fps, IDS)
    fires = []
    for i, face in enumerate(clip.face_xy):
        if det.update(i / clip.fps, bad_frames.get(i, face)):
            fires.append(i)
    return fires, det


def test_an_absurd_face_among_the_first_does_not_deafen_the_detector():
    gen = ExpressionGenerator(seed=72)
    clip = gen.expression_clip(gen.person(7200), 'smile', rest_s=1.5, hold_s=1.0, talking=False)
    clean, _ = fires_with(clip, {})
    assert clean, 'the clip should fire without the bad face'
    for frame in (1, 3, 20):                       # during the first rest face, and while learning the noise
        for bad in (np.full((113, 2), 1e30), clip.face_xy[frame] * 1e6, clip.face_xy[frame] + 50.0):
            fires, det = fires_with(clip, {frame: bad})
            assert fires == clean, (frame, bad.max())
            assert np.abs(det.rest_face).max() < FACE_FRAME_LIMIT


def test_run_detector_skips_absurd_frames_like_lost_ones():
    gen = ExpressionGenerator(seed=73)
    clip = gen.expression_clip(gen.person(7300), 'jaw_drop', rest_s=1.5, hold_s=0.8, talking=False)
    faces = clip.face_xy.copy()
    faces[2] = 1e30
    assert [f for f, _ in run_detector(faces, clip.fps, None, IDS)] == \
        [f for f, _ in run_detector(clip.face_xy, clip.fps, None, IDS)]


hostile_face = st.one_of(
    st.just(np.full((113, 2), 1e30)), st.just(np.full((113, 2), -1e30)), st.just(np.full((113, 2), np.nan)),
    st.just(np.full((113, 2), np.inf)), st.just(np.zeros((7, 2))), st.just(np.zeros(226)),
    st.floats(-1e300, 1e300).map(lambda v: np.full((113, 2), v)),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: np.full((113, 2), v)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 80), hostile_face), max_size=6))
def test_hostile_frames_never_raise_and_never_enter_its_state(bad):
    gen = ExpressionGenerator(seed=74)
    clip = gen.expression_clip(gen.person(7400), 'smile', rest_s=1.0, hold_s=0.3, talking=False)
    det = OnsetDetector(None, clip.fps, IDS)
    replaced = dict(bad)
    for i, face in enumerate(clip.face_xy[:90]):
        det.update(i / clip.fps, replaced.get(i, face))
        assert np.isfinite([det.activation, det.velocity, det.noise_sd]).all()
        assert det.rest_face is None or np.abs(det.rest_face).max() < FACE_FRAME_LIMIT
