"""Gaze from the face's position in the eye camera image: any message's points give a centre or None."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emo_servo_driver.gaze import Gaze, face_center
from emo_description.head import load_head


def test_the_centre_of_a_face_in_its_image():
    pts = np.array([[300, 200], [340, 260]], dtype=float)
    assert face_center(pts.ravel().tolist(), 640, 480) == (320 / 640, 230 / 480)


def test_what_is_not_a_face_gives_none():
    assert face_center([1.0, 2.0, 3.0], 640, 480) is None            # an odd number of values
    assert face_center([], 640, 480) is None
    assert face_center([1.0, float('nan')], 640, 480) is None
    assert face_center([100.0, 100.0], 0, 480) is None                 # no image size
    assert face_center([1e30, 1e30], 640, 480) is None                 # finite, but nowhere near the image


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=12),
       st.integers(-10, 5000), st.integers(-10, 5000))
def test_no_message_can_break_gaze(values, width, height):
    c = face_center(values, width, height)
    assert c is None or (len(c) == 2 and all(np.isfinite(c)) and all(-0.5 <= v <= 1.5 for v in c))
    head = load_head()
    goals = Gaze(head).update(c, 0.02, head.calm)
    assert np.isfinite(goals).all() and (goals >= head.min).all() and (goals <= head.max).all()
