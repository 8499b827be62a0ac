"""The built-in demo clip: human-like onsets, ground truth, and a face in every frame."""
import numpy as np
import pytest

from emo_sim.demo_video import (
    DEMO_EXPRESSIONS, PEAK_ACTIVATION_TAU, minimum_jerk, onset_durations, timeline)


def test_onsets_spread_like_the_papers():
    durations = onset_durations(len(DEMO_EXPRESSIONS))
    assert 0.3 <= durations.min() and durations.max() <= 2.0
    assert durations.max() / durations.min() > 3  # quick and slow onsets
    assert abs(np.median(durations) - 0.84) < 0.3


def test_peak_activation_is_where_the_rise_accelerates_most():
    tau = np.linspace(0, 1, 100001)
    accel = np.gradient(np.gradient(minimum_jerk(tau), tau), tau)
    assert abs(tau[np.argmax(accel)] - PEAK_ACTIVATION_TAU) < 1e-3


def test_ground_truth_orders_onset_peak_and_target():
    frames, truth = timeline()
    assert [t['label'] for t in truth] == [label for label, _ in DEMO_EXPRESSIONS]
    for t in truth:
        assert t['onset_start_frame'] <= t['peak_activation_frame'] < t['target_frame']
        assert frames[t['target_frame']][1] == pytest.approx(1.0)
        assert frames[t['onset_start_frame'] - 1][1] == 0.0  # calm before the onset
    assert all(intensity == 0.0 for _, intensity in frames[:60])  # two calm seconds first


@pytest.fixture(scope='module')
def clip():
    pytest.importorskip('mediapipe')
    from emo_sim.demo_video import demo_clip
    return demo_clip(progress=False)


def test_mediapipe_tracks_the_face_in_every_frame(clip):
    meshes = np.load(clip.meshes_path)['meshes']
    assert meshes.shape == (clip.num_frames, 468, 3)
    assert (np.abs(meshes).sum(axis=(1, 2)) > 0).all()


def test_the_expressions_move_the_face_the_right_way(clip):
    from emo_perception.face_frame import landmark_ids, mesh_to_face_landmarks
    meshes = np.load(clip.meshes_path)['meshes']
    ids = list(landmark_ids())
    face = {}
    for e in clip.expressions:
        face[e['label']] = mesh_to_face_landmarks(meshes[e['target_frame']], 640, 480).face_xy
    rest = mesh_to_face_landmarks(meshes[10], 640, 480).face_xy

    def dy(label, vertex):
        return face[label][ids.index(vertex), 1] - rest[ids.index(vertex), 1]

    width = lambda xy: xy[ids.index(291), 0] - xy[ids.index(61), 0]  # noqa: E731
    # MediaPipe's face prior damps the warped motion; these are what it tracks, with margin.
    assert dy('smile', 61) < -0.015 and dy('smile', 291) < -0.01 and width(face['smile']) > width(rest) + 0.05
    assert dy('jaw_drop', 152) > 0.06 and dy('jaw_drop', 14) > 0.1
    assert dy('brow_raise', 105) < -0.035 and dy('brow_raise', 334) < -0.03
    assert dy('surprise', 105) < -0.04 and dy('surprise', 152) > 0.1


def test_the_eye_camera_plays_the_clip_as_a_file(clip):
    """camera:=demo gives the eye camera the clip's path (emo_bringup.graph.camera_source)."""
    from emo_bringup.graph import camera_source
    from emo_perception.camera_sources import open_source
    path = camera_source({'camera': 'demo'})
    assert path == str(clip.video_path)
    source = open_source(path, loop=False)
    assert source.kind == 'file' and source.fps == clip.fps
    count = 0
    while source.read() is not None:
        count += 1
    assert count == clip.num_frames
