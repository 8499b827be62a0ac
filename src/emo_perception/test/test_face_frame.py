"""MediaPipe on a real face, the 113-point subset and the head-pose-free face frame."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from emo_perception.face_frame import (
    MESH_SIZE, NUM_LANDMARKS, fit_confidence, landmark_ids, mesh_to_face_landmarks, reference_face)

pytest.importorskip('mediapipe')
from emo_perception.face_mesh import FaceMeshTracker  # noqa: E402

IDS = list(landmark_ids())


def rows(vertex_ids):
    """Rows of the 113-point arrays that hold these MediaPipe vertices."""
    return [IDS.index(v) for v in vertex_ids]


def detect(rgb):
    with FaceMeshTracker(static_image_mode=True) as tracker:
        meshes = tracker.process(rgb)
    assert meshes, 'MediaPipe found no face'
    return mesh_to_face_landmarks(meshes[0], rgb.shape[1], rgb.shape[0])


@pytest.fixture(scope='module')
def astronaut_sets(astronaut_rgb):
    return detect(astronaut_rgb)


def test_the_subset_is_the_papers_113_in_model_order():
    ids = landmark_ids()
    assert len(ids) == NUM_LANDMARKS == len(set(ids))
    assert list(ids[:52]) == sorted(ids[:52]) and list(ids[52:]) == sorted(ids[52:])
    assert ids[0] == 7 and ids[52] == 0  # upper face starts at vertex 7, lower face at vertex 0


def test_landmarks_land_on_the_right_features(astronaut_sets):
    from emo_common.layout import group_vertices
    groups = group_vertices()
    for xy in (astronaut_sets.image_xy, astronaut_sets.face_xy):
        mean = {name: xy[rows(ids)].mean(axis=0) for name, ids in groups.items()}
        # y grows downwards: brows above eyes above lips; the chin (152) is the lowest point.
        assert mean['right_brow10'][1] < mean['right_eye16'][1] < mean['lips40'][1]
        assert mean['left_brow10'][1] < mean['left_eye16'][1] < mean['lips40'][1]
        assert np.argmax(xy[:, 1]) == IDS.index(152)
        # The person's left eye appears on the image's right for a camera facing them.
        assert mean['left_eye16'][0] > mean['right_eye16'][0]
        assert xy[IDS.index(291), 0] > xy[IDS.index(61), 0]  # mouth corners
    face = astronaut_sets.face_xy
    # Face frame unit: the outer eye corners are about 1 apart.
    assert 0.9 < np.linalg.norm(face[IDS.index(263)] - face[IDS.index(33)]) < 1.1


def test_points_lie_inside_the_image_in_pixels(astronaut_rgb, astronaut_sets):
    xy = astronaut_sets.image_xy
    assert (xy >= 0).all() and (xy[:, 0] < astronaut_rgb.shape[1]).all() and (xy[:, 1] < astronaut_rgb.shape[0]).all()


@pytest.mark.parametrize('angle_deg, scale, shift', [(15, 1.0, (0, 0)), (-15, 0.8, (30, -20)),
                                                     (0, 0.75, (-40, 30)), (25, 1.2, (0, 0))])
def test_face_frame_ignores_head_rotation_scale_and_shift(astronaut_rgb, astronaut_sets, angle_deg, scale, shift):
    import cv2
    m = cv2.getRotationMatrix2D((230, 180), angle_deg, scale)
    m[:, 2] += shift
    moved = detect(cv2.warpAffine(astronaut_rgb, m, (512, 512), borderMode=cv2.BORDER_REFLECT))
    pixel_change = np.abs(moved.image_xy - astronaut_sets.image_xy).mean()
    face_change = np.abs(moved.face_xy - astronaut_sets.face_xy)
    assert pixel_change > 5.0  # the face really moved in the image
    # An expression moves points by 0.1-0.4 units; the head motion leaves < 0.015 on average.
    assert face_change.mean() < 0.015 and face_change.max() < 0.06, (face_change.mean(), face_change.max())


@settings(max_examples=30, deadline=None)
@given(angle=st.floats(-np.pi, np.pi), scale=st.floats(0.2, 5.0),
       tx=st.floats(-300, 300), ty=st.floats(-300, 300), yaw=st.floats(-0.5, 0.5))
def test_a_rigidly_moved_mesh_gives_the_same_face_frame(angle, scale, tx, ty, yaw):
    """Exact check of the alignment: any similarity in 3D, in-plane and out-of-plane, is removed."""
    rng = np.random.default_rng(0)
    mesh = reference_face() * 80.0 + np.array([320.0, 240.0, 0.0]) + rng.normal(0, 0.5, (MESH_SIZE, 3))
    c, s = np.cos(angle), np.sin(angle)
    roll = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    cy, sy = np.cos(yaw), np.sin(yaw)
    turn = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    moved = scale * mesh @ (roll @ turn).T + np.array([tx, ty, 0.0])
    to_norm = np.array([640.0, 480.0, 640.0])
    a = mesh_to_face_landmarks(mesh / to_norm, 640, 480)
    b = mesh_to_face_landmarks(moved / to_norm, 640, 480)
    assert np.allclose(a.face_xy, b.face_xy, atol=1e-3)
    assert abs(a.fit_rms - b.fit_rms) < 1e-4


def test_a_mirrored_face_is_not_folded_onto_the_reference():
    mirrored = reference_face() * np.array([-1.0, 1.0, 1.0]) * 80 + 300
    sets = mesh_to_face_landmarks(mirrored / 640.0, 640, 640)
    assert fit_confidence(sets.fit_rms) < fit_confidence(0.0)


@pytest.mark.parametrize('mesh, size, message', [
    (np.zeros((100, 3)), (640, 480), 'shape'),
    (np.full((468, 3), np.nan), (640, 480), 'NaN'),
    (np.zeros((468, 3)), (0, 480), 'positive'),
])
def test_bad_meshes_raise_a_clear_error(mesh, size, message):
    with pytest.raises(ValueError, match=message):
        mesh_to_face_landmarks(mesh, *size)


def test_no_face_in_a_blank_image():
    with FaceMeshTracker(static_image_mode=True) as tracker:
        assert tracker.process(np.full((240, 320, 3), 128, np.uint8)) == []


def test_the_largest_of_two_faces_comes_first(astronaut_rgb):
    import cv2
    face = astronaut_rgb[0:320, 100:380]
    canvas = np.full((480, 960, 3), 200, np.uint8)
    canvas[80:480, 40:400] = cv2.resize(face, (360, 400))     # the smaller face, left
    canvas[0:480, 500:920] = cv2.resize(face, (420, 480))     # the larger face, right
    with FaceMeshTracker(max_faces=2, static_image_mode=True) as tracker:
        meshes = tracker.process(canvas)
    assert len(meshes) == 2
    assert meshes[0][:, 0].mean() > 0.5 > meshes[1][:, 0].mean()  # the larger face is followed


def test_the_shared_layouts_neutral_face_is_the_reference_face_in_this_frame():
    """emo_common's neutral face (what the generator and the tests start from) is this frame's reference face."""
    from emo_common.layout import landmark_layout
    assert np.allclose(landmark_layout().neutral, reference_face()[landmark_ids(), :2], atol=1e-9)
