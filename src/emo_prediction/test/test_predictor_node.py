"""The predictor node over real rclpy and Fast DDS, in its own process."""

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from builtin_interfaces.msg import Time  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, Topics  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from emo_prediction.training.synthetic import ExpressionGenerator  # noqa: E402
from emo_common.testing import NodeProcess, spin_until  # noqa: E402

pytestmark = pytest.mark.ros
T0 = 1000.0


@pytest.fixture
def rig(ros_node):
    node, executor = ros_node
    got = {'out': [], 'diag': [], 'intensity': [], 'lead': []}
    from std_msgs.msg import Float32
    node.create_subscription(Float32, Topics.EXPRESSION_INTENSITY, lambda m: got['intensity'].append(m.data), 100)
    node.create_subscription(Float32, Topics.LEAD_TIME, lambda m: got['lead'].append(m.data), 100)
    node.create_subscription(AnticipatedFace, Topics.FACE_ANTICIPATED, got['out'].append, 100)
    node.create_subscription(DiagnosticArray, Topics.DIAGNOSTICS, got['diag'].append, 50)
    pub = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 100)
    return node, executor, pub, got


def landmarks(i: int, face, fps=30.0) -> FaceLandmarks:
    t = T0 + i / fps
    msg = FaceLandmarks(header=Header(stamp=Time(sec=int(t), nanosec=int(round((t % 1) * 1e9))), frame_id='eye_left'),
                        image_width=640, image_height=480)
    if face is not None:
        msg.face_detected, msg.detection_confidence = True, 0.9
        msg.face_xy = np.asarray(face, np.float32).ravel().tolist()
    return msg


def stream(executor, pub, faces):
    for i, face in enumerate(faces):
        pub.publish(landmarks(i, face))
        spin_until(executor, lambda: False, timeout_s=1 / 30)


def seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def wait_for_subscriber(executor, pub):
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout_s=30.0)
    spin_until(executor, lambda: False, timeout_s=0.5)


def test_anticipates_the_target_before_the_person_reaches_it(rig, tmp_path):
    node, executor, pub, got = rig
    gen = ExpressionGenerator(seed=42)
    clip = gen.expression_clip(gen.person(3000), 'smile', rest_s=1.5, hold_s=1.0)
    with NodeProcess('emo_prediction', 'predictor_node', {'mode': 'anticipate'}, tmp_path) as proc:
        wait_for_subscriber(executor, pub)
        stream(executor, pub, clip.face_xy)
        spin_until(executor, lambda: len(got['out']) >= len(clip.face_xy), timeout_s=10.0)
        assert proc.alive(), proc.log()[-2000:]
    assert proc.returncode == 0, proc.log()[-2000:]
    target_t = T0 + clip.target_frame / 30.0
    predicted = [m for m in got['out'] if m.lead_time.sec + m.lead_time.nanosec > 0]
    assert predicted, 'the detector never fired'
    first = min(predicted, key=lambda m: seconds(m.header.stamp))
    assert seconds(first.header.stamp) < target_t, 'fired after the person reached the target face'
    assert first.mode == AnticipatedFace.MODE_ANTICIPATE
    assert seconds(first.peak_activation_stamp) <= seconds(first.header.stamp)
    # The prediction is nearer the target face than the face the robot saw when it fired (mimicry).
    frame = int(round((seconds(first.header.stamp) - T0) * 30))
    target = clip.face_xy[clip.target_frame]
    pred_err = np.abs(np.array(first.face_xy).reshape(113, 2) - target).mean()
    mimic_err = np.abs(clip.face_xy[frame] - target).mean()
    assert pred_err < mimic_err
    # Before the onset it follows the calm face.
    calm = [m for m in got['out'] if seconds(m.header.stamp) < T0 + (clip.onset_start_frame - 2) / 30]
    assert calm and all(m.lead_time.sec == 0 and m.lead_time.nanosec == 0 for m in calm)
    # rqt_plot topics: the expression intensity rises with the smile; a lead time is shown while predicting.
    assert max(got['intensity']) > 5 * abs(np.median(got['intensity'][:20])) + 0.005
    assert max(got['lead']) > 0.1


def test_mimic_mode_repeats_the_current_face(rig, tmp_path):
    node, executor, pub, got = rig
    gen = ExpressionGenerator(seed=43)
    clip = gen.expression_clip(gen.person(3001), 'jaw_drop', rest_s=0.5, hold_s=0.3)
    with NodeProcess('emo_prediction', 'predictor_node', {'mode': 'mimic'}, tmp_path):
        wait_for_subscriber(executor, pub)
        stream(executor, pub, clip.face_xy)
        spin_until(executor, lambda: len(got['out']) >= len(clip.face_xy), timeout_s=10.0)
    assert len(got['out']) >= len(clip.face_xy) - 2
    for m in got['out']:
        i = int(round((seconds(m.header.stamp) - T0) * 30))
        assert m.mode == AnticipatedFace.MODE_MIMIC and m.lead_time.sec == 0 and m.lead_time.nanosec == 0
        assert np.allclose(np.array(m.face_xy).reshape(113, 2), clip.face_xy[i], atol=1e-6)


def test_lost_faces_and_malformed_input_do_not_stop_it(rig, tmp_path):
    node, executor, pub, got = rig
    gen = ExpressionGenerator(seed=44)
    calm = gen.calm_clip(gen.person(3002), seconds=1.0, talking=False).face_xy
    with NodeProcess('emo_prediction', 'predictor_node', {}, tmp_path) as proc:
        wait_for_subscriber(executor, pub)
        faces = list(calm[:10]) + [None] * 10 + list(calm[10:20])
        stream(executor, pub, faces)
        bad = landmarks(40, calm[0])
        bad.face_xy = [0.5] * 10                                 # wrong size
        pub.publish(bad)
        nan = landmarks(41, calm[0])
        nan.face_xy = [float('nan')] * 226                       # not finite
        pub.publish(nan)
        stream(executor, pub, [None] * 3)

        def reported():
            return any('malformed' in s.message for d in got['diag'] for s in d.status)
        assert spin_until(executor, reported, timeout_s=10.0)
        assert proc.alive()
        n_before = len(got['out'])
        pub.publish(landmarks(60, calm[25]))
        assert spin_until(executor, lambda: len(got['out']) > n_before, timeout_s=5.0)
    assert proc.returncode == 0
    assert 'malformed FaceLandmarks' in proc.log() and 'Traceback' not in proc.log()


def test_publishes_the_forecast_and_the_target_on_a_replayed_real_like_sequence(rig, tmp_path):
    """Continuous footage (calm, an expression that rises and returns, then talking) replayed at
    30 fps: every published face is what the Anticipator computes offline on the same frames with
    the shipped model, i.e. the face forecast robot_lag_s ahead (not the current face) outside onsets
    and, from the detector's firing on, the paced face and the predicted target face."""
    from emo_prediction.anticipator import ONSET, Anticipator
    from emo_prediction.detector import DetectorParams
    from emo_common.layout import landmark_layout
    from emo_prediction.forecast_model import OnlineAdaptation
    from emo_prediction.model import NumpyPredictor, default_model_path, load_checkpoint, load_forecaster
    node, executor, pub, got = rig
    gen = ExpressionGenerator(seed=45)
    clip = gen.continuous_clip(gen.person(3003), 8.0, talking=True, expressions_per_min=12)
    faces = clip.face_xy.astype(np.float32)
    lag = 0.2
    with NodeProcess('emo_prediction', 'predictor_node', {'robot_lag_s': lag}, tmp_path) as proc:
        wait_for_subscriber(executor, pub)
        stream(executor, pub, faces)
        spin_until(executor, lambda: len(got['out']) >= len(faces), timeout_s=15.0)
        assert proc.alive(), proc.log()[-2000:]
    assert len(got['out']) == len(faces), 'frames were lost: the replay would diverge'
    model, meta = load_checkpoint(default_model_path())
    forecaster, _ = load_forecaster(default_model_path())
    assert forecaster is not None and 'OnlineAdaptation' in proc.log()      # adapt: true by default
    offline = Anticipator(NumpyPredictor.from_model(model), 'anticipate', float(meta['median_lead_s']), 30.0,
                          DetectorParams(), landmark_layout()[1], lag, OnlineAdaptation(forecaster, horizon_s=lag))
    expected = [offline.update(seconds(landmarks(i, f).header.stamp), f) for i, f in enumerate(faces)]
    anticipating, moved = 0, []
    for m in got['out']:
        i = int(round((seconds(m.header.stamp) - T0) * 30))
        shown = np.array(m.face_xy).reshape(113, 2)
        np.testing.assert_allclose(shown, expected[i].face_xy, atol=1e-5)
        if expected[i].kind == ONSET:
            anticipating += 1
            assert len(m.target_xy) == 226 and m.lead_time.sec + m.lead_time.nanosec > 0
            np.testing.assert_allclose(np.array(m.target_xy).reshape(113, 2), expected[i].target_xy, atol=1e-5)
        else:
            assert len(m.target_xy) == 0
            moved.append(np.abs(shown - faces[i]).mean())
    assert anticipating > 0, 'the detector never fired on the expression'
    # Outside onsets the face shown is the forecast, not the current face.
    assert np.median(moved) > 1e-4


def test_detector_thresholds_change_at_run_time(ros_context):
    """set_parameters (what `ros2 param set` and rqt_reconfigure call): the detector's thresholds take
    effect on the running anticipator; the mode is read-only; a range is enforced."""
    from rclpy.parameter import Parameter

    from emo_prediction.predictor_node import PredictorNode
    node = PredictorNode(context=ros_context, parameter_overrides=[Parameter('robot_lag_s', value=0.2)])
    try:
        results = node.set_parameters([Parameter('activation_min', value=0.01), Parameter('confirm_frames', value=3),
                                       Parameter('onset_face', value='forecast'), Parameter('input_latency_s', value=0.05)])
        assert all(r.successful for r in results), [r.reason for r in results]
        detector = node.anticipator.detector
        assert (detector.p.activation_min, detector.p.confirm_frames) == (0.01, 3)
        assert node.anticipator.onset_face == 'forecast'
        assert node.anticipator.robot_lag_s == pytest.approx(0.25)            # the horizon: lag + input latency
        for bad in (Parameter('mode', value='mimic'), Parameter('confirm_frames', value=0),
                    Parameter('onset_face', value='guess'), Parameter('robot_lag_s', value=-1.0)):
            assert not node.set_parameters([bad])[0].successful, bad.name
        assert node.get_parameter('mode').value == 'anticipate'
        node._restart(0.0)                                       # a new stream keeps the new thresholds
        assert node.anticipator.detector.p.activation_min == 0.01
    finally:
        node.destroy_node()
