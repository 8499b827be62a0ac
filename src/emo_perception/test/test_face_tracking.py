"""Several faces: ids stay with their people across frames, and the followed face is a choice; their
points in ROS4HRI's layout (REP-155) for hri_bridge."""
import math

import numpy as np
import pytest

from emo_perception.face_frame import landmark_ids
from emo_perception.face_tracking import FaceTracker, bounding_box, iou
from emo_perception.hri import (FACE_TOWARDS_CAMERA, HRI_VERTICES, N_HRI, face_position, hri_landmarks,
                                normalized_roi)


def walk(tracker, frames):
    """frames: per frame, the boxes in view; returns per frame [(id, box)] and the followed id."""
    out = []
    for k, boxes in enumerate(frames):
        tracks = tracker.update(k / 30.0, boxes)
        f = tracker.followed
        out.append(([t.id for t in tracks], tracks[f].id if f is not None else None))
    return out


def test_ids_stay_with_their_people_and_new_faces_get_new_ids():
    a = lambda k: (100 + 2 * k, 100, 200 + 2 * k, 220)          # noqa: E731  drifting right
    b = lambda k: (400 - k, 120, 470 - k, 200)                   # noqa: E731  smaller, drifting left
    frames = [[a(k)] for k in range(10)] + [[a(k), b(k)] for k in range(10, 30)] + [[b(k), a(k)] for k in range(30, 40)]
    seen = walk(FaceTracker(), frames)
    first = seen[0][0][0]
    assert all(first == ids[ids.index(first)] for ids, _ in seen)         # a keeps its id throughout
    second = seen[10][0][1]
    assert second != first and all(ids == [second, first] for ids, _ in seen[30:])    # order in = order out
    # gone for longer than forget_s, a face coming back is a new person
    tracker = FaceTracker(forget_s=0.5)
    tracker.update(0.0, [a(0)])
    old = tracker.tracks[0].id
    tracker.update(1.0, [a(0)])
    assert tracker.tracks[-1].id != old and len({t.id for t in tracker.tracks}) == 1


def test_the_followed_face_is_a_choice():
    near_late = (50, 50, 350, 400)       # large: the nearest, arrives second
    far_first = (420, 180, 500, 260)     # small, off-centre, was there first
    centred = (280, 200, 360, 280)
    frames = [[far_first]] * 5 + [[far_first, near_late, centred]] * 5
    for follow, expected in (('largest', 1), ('oldest', 0), ('centered', 2)):
        seen = walk(FaceTracker(follow, image_size=(640, 480)), frames)
        ids, followed = seen[-1]
        assert followed == ids[expected], follow
    with pytest.raises(ValueError, match='follow'):
        FaceTracker('loudest')


def test_boxes_and_overlap():
    assert bounding_box([[1, 2], [5, 1], [3, 7]]) == (1.0, 1.0, 5.0, 7.0)
    assert iou((0, 0, 2, 2), (0, 0, 2, 2)) == 1.0 and iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert iou((0, 0, 2, 2), (1, 0, 3, 2)) == pytest.approx(1 / 3)


IDS = landmark_ids()


def a_face(width=640, height=480):
    """The 113 points of the reference face placed in an image (pixels)."""
    from emo_perception.face_frame import reference_face
    ref = reference_face()[IDS, :2]
    ref = (ref - ref.mean(axis=0)) / np.ptp(ref[:, 0]) * 160 + [width / 2 + 40, height / 2]
    return ref


def test_ros4hri_landmarks_follow_dlibs_order_with_the_pupils():
    xy = a_face()
    points = hri_landmarks(xy, IDS, 640, 480)
    assert points.shape == (N_HRI, 3) and len(HRI_VERTICES) == N_HRI
    assert (points[27:36, 2] == 0).all() and (points[68:, 2] == 0.5).all()
    found = points[:, 2] > 0
    assert found.sum() == 61 and ((points[found, :2] > 0) & (points[found, :2] < 1)).all()
    x, y = points[:, 0], points[:, 1]
    assert x[0] < x[8] < x[16] and y[8] > y[0] and y[8] > y[16]          # jaw: right ear, chin (lowest), left ear
    assert x[17] < x[21] < x[22] < x[26]                                  # brows: right outside ... left outside
    assert x[36] < x[39] < x[42] < x[45]                                  # eyes: corners from the image left
    assert x[48] < x[51] < x[54] and y[51] < y[57]                        # mouth: corners, top above bottom
    assert x[36] < x[68] < x[39] and x[42] < x[69] < x[45]                # each pupil inside its eye


def test_roi_and_position_of_a_face():
    xy = a_face()
    xmin, ymin, xmax, ymax = normalized_roi(xy, 640, 480)
    assert 0 < xmin < xmax < 1 and 0 < ymin < ymax < 1
    x, y, z = face_position(xy, IDS, 640, 480, horizontal_fov_deg=60.0)
    # eye corners ~ 100 px apart at f = 554 px: about half a metre, a little right of the optical axis
    assert 0.2 < z < 1.5 and x > 0
    smaller = (xy - xy.mean(axis=0)) * 0.5 + xy.mean(axis=0)
    assert face_position(smaller, IDS, 640, 480)[2] == pytest.approx(2 * z, rel=1e-6)     # half the size: twice as far
    assert face_position(xy[52:], IDS[52:], 640, 480) is None           # no eye corners (the lower face only)


def test_the_face_frame_looks_at_the_camera():
    x, y, z, w = FACE_TOWARDS_CAMERA
    assert math.isclose(x * x + y * y + z * z + w * w, 1.0)
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    assert np.allclose(r[:, 0], [0, 0, -1]) and np.allclose(r[:, 1], [1, 0, 0]) and np.allclose(r[:, 2], [0, -1, 0])
