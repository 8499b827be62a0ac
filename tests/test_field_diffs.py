"""The field-for-field comparison used by the interface tests finds every kind of difference."""
import pytest

pytest.importorskip('emo_msgs')
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands  # noqa: E402

from msg_samples import samples  # noqa: E402
from emo_common.testing import field_diffs  # noqa: E402


def test_identical_samples_have_no_diffs():
    a, b = samples(1), samples(1)
    for t in a:
        assert field_diffs(a[t], b[t]) == []


@pytest.mark.parametrize('mutate, expected_path', [
    (lambda m: setattr(m[FaceLandmarks].header, 'frame_id', 'other'), 'msg.header.frame_id'),
    (lambda m: m[FaceLandmarks].face_xy.__setitem__(7, 9.0), 'msg.face_xy[7]'),
    (lambda m: setattr(m[FaceLandmarks], 'image_xy', []), 'msg.image_xy: length'),
    (lambda m: setattr(m[AnticipatedFace].lead_time, 'nanosec', 1), 'msg.lead_time.nanosec'),
    (lambda m: m[MotorCommands].commands.__setitem__(10, 0.0), 'msg.commands[10]'),
])
def test_a_changed_field_is_reported_by_its_path(mutate, expected_path):
    expected, received = samples(1), samples(1)
    mutate(received)
    diffs = [d for t in expected for d in field_diffs(expected[t], received[t])]
    assert len(diffs) == 1 and diffs[0].startswith(expected_path), diffs
