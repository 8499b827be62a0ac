"""Faces between messages and arrays, and the shared checks of incoming faces and stamps (issue 13):
hostile values are rejected, never raised on."""
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emo_common.layout import landmark_layout
from emo_common.messages import (FACE_FRAME_LIMIT, IMPLAUSIBLE, MALFORMED, StampOrder, check_face, face_values,
                                 plausible_face, stamp_problem)


def reference_face_113() -> np.ndarray:
    """The neutral face of the layout: the reference face's 113 points (checked in emo_perception's tests)."""
    return landmark_layout().neutral


def test_a_real_face_passes_and_comes_back_as_113_points():
    face = reference_face_113()
    check = check_face(face.ravel().tolist())
    assert check.kind == '' and check.face.shape == (113, 2) and np.allclose(check.face, face)
    assert plausible_face(face.astype(np.float32))


def test_a_face_goes_into_a_message_field_and_back_unchanged():
    face = reference_face_113()
    values = face_values(face)
    assert isinstance(values, list) and len(values) == 226 and all(isinstance(v, float) for v in values)
    assert np.array_equal(check_face(values).face, face)
    assert face_values(face.ravel()) == values


@pytest.mark.parametrize('bad', [np.zeros((112, 2)), np.zeros(227), np.full((113, 2), np.nan),
                                 np.full((113, 2), np.inf)])
def test_a_broken_face_is_never_put_into_a_message(bad):
    with pytest.raises(ValueError):
        face_values(bad)


def test_the_bound_leaves_room_around_the_reference_face():
    """The reference face reaches 1.24 face units from the origin; the largest real (1.49), generated (1.52) and
    babbled robot faces (1.51) measured when the bound was set are within about half of it (the generated and
    babbled ones are checked in emo_prediction's and emo_inverse's tests)."""
    assert np.abs(reference_face_113()).max() < FACE_FRAME_LIMIT / 2


@pytest.mark.parametrize('values, kind', [
    ([0.5] * 10, MALFORMED),                                       # wrong size
    ([], MALFORMED),
    ([float('nan')] * 226, MALFORMED),
    ([float('inf')] + [0.0] * 225, MALFORMED),
    (['a'] * 226, MALFORMED),                                      # not numbers
    ([[0.0, 1.0], [2.0]], MALFORMED),                              # ragged
    ([1e30] * 226, IMPLAUSIBLE),                                   # finite but absurd (issue 13)
    ([0.0] * 225 + [-3.5], IMPLAUSIBLE),                           # one landmark far outside the frame
])
def test_bad_faces_are_rejected_with_their_kind(values, kind):
    check = check_face(values)
    assert check.face is None and check.kind == kind and check.why


def test_an_absurd_copy_of_a_real_face_is_implausible():
    assert check_face(reference_face_113() * 1e30).kind == IMPLAUSIBLE
    assert check_face(reference_face_113() + 10.0).kind == IMPLAUSIBLE


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    hnp.arrays(np.float64, st.integers(0, 300), elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(np.float32, 226, elements=st.floats(allow_nan=True, allow_infinity=True, width=32)),
    hnp.arrays(np.float64, (113, 2), elements=st.floats(-1e300, 1e300)),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=240)))
def test_hostile_arrays_are_rejected_or_plausible_never_an_exception(values):
    check = check_face(values)
    if check.face is None:
        assert check.kind in (MALFORMED, IMPLAUSIBLE) and check.why
    else:
        assert check.kind == '' and check.face.shape == (113, 2)
        assert np.isfinite(check.face).all() and np.abs(check.face).max() <= FACE_FRAME_LIMIT


def test_stamps_that_cannot_be_a_capture_time():
    assert stamp_problem(Time(sec=1000, nanosec=5)) == ''
    assert 'negative' in stamp_problem(Time(sec=-5, nanosec=0))
    assert 'nanosec' in stamp_problem(Time(sec=10, nanosec=1_000_000_000))
    assert 'zero' in stamp_problem(Time())
    assert stamp_problem(Time(), allow_zero=True) == ''


def test_stale_stamps_are_skipped_and_a_lasting_jump_back_is_a_new_stream():
    order = StampOrder(restart_after=3)
    assert [order.check(t) for t in (1.0, 2.0, 2.0, 1.5, 3.0)] == ['ok', 'ok', 'stale', 'stale', 'ok']
    assert order.newest == 3.0
    # A replay that starts over: skipped at first, then taken as a new stream.
    assert [order.check(t) for t in (0.1, 0.2, 0.3, 0.4)] == ['stale', 'stale', 'restart', 'ok']
    # A far-future outlier holds the stream back for restart_after frames only.
    order.check(1e9)
    assert [order.check(t) for t in (0.5, 0.6, 0.7, 0.8)] == ['stale', 'stale', 'restart', 'ok']
    assert order.check(float('nan')) == 'stale' and order.newest == 0.8


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=60))
def test_what_stamp_order_accepts_only_runs_forward_between_restarts(stamps):
    order = StampOrder(restart_after=5)
    accepted = []
    for t in stamps:
        verdict = order.check(t)
        if verdict == 'restart':
            accepted = []
        if verdict != 'stale':
            accepted.append(t)
    assert all(b > a for a, b in zip(accepted, accepted[1:]))


def test_rejections_count_by_kind_and_log_the_first_then_throttled():
    from emo_common.messages import Rejections
    r = Rejections(log_every_s=60.0)
    assert not r.recent() and r.total == 0
    assert r.add(MALFORMED, 'malformed FaceLandmarks: 10 face_xy values (need 226)')
    assert not r.add('stale', 'stale FaceLandmarks\nmore lines')
    assert r.counts[MALFORMED] == 1 and r.counts['stale'] == 1 and r.total == 2 and r.recent()
    assert r.summary('frames') == 'frames skipped (1 malformed, 1 stale); latest: stale FaceLandmarks'
