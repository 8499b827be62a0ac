"""Issue 13 over real rclpy and Fast DDS: no FaceLandmarks message can stop the predictor node or deafen its
onset detector. Negative stamps used to crash it (rclpy refuses a negative peak activation time); one finite
but absurd face disabled the detector for good."""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from builtin_interfaces.msg import Time  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, Topics  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from emo_common.messages import FACE_FRAME_LIMIT  # noqa: E402
from emo_prediction.training.synthetic import ExpressionGenerator  # noqa: E402
from emo_common.testing import NodeProcess, spin_until  # noqa: E402

pytestmark = pytest.mark.ros
T0 = 1000.0


@pytest.fixture
def rig(ros_node):
    node, executor = ros_node
    got = {'out': [], 'diag': []}
    node.create_subscription(AnticipatedFace, Topics.FACE_ANTICIPATED, got['out'].append, 100)
    node.create_subscription(DiagnosticArray, Topics.DIAGNOSTICS, got['diag'].append, 50)
    pub = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 100)
    return executor, pub, got


def smile_clip():
    """A smile after 1.5 s of calm (the clip test_predictor_node fires on with the default settings)."""
    gen = ExpressionGenerator(seed=42)
    return gen.expression_clip(gen.person(3000), 'smile', rest_s=1.5, hold_s=1.0)


def landmarks(t: float, face) -> FaceLandmarks:
    sec = int(np.floor(t))
    msg = FaceLandmarks(header=Header(stamp=Time(sec=sec, nanosec=int(round((t - sec) * 1e9)) % 1_000_000_000),
                                      frame_id='eye_left'), image_width=640, image_height=480)
    msg.face_detected, msg.detection_confidence = True, 0.9
    msg.face_xy = np.asarray(face, np.float32).ravel().tolist()
    return msg


def send(executor, pub, messages):
    for msg in messages:
        pub.publish(msg)
        spin_until(executor, lambda: False, timeout_s=1 / 30)


def seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def counts(got) -> dict:
    """The predictor's newest /diagnostics values."""
    for d in reversed(got['diag']):
        for s in d.status:
            if s.name.startswith('predictor_node'):
                return {kv.key: kv.value for kv in s.values} | {'message': s.message}
    return {}


def start(executor, pub, proc):
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout_s=30.0), proc.log()[-2000:]
    spin_until(executor, lambda: False, timeout_s=0.5)


def onsets(got, after: float) -> list:
    return [m for m in got['out'] if seconds(m.header.stamp) > after and m.lead_time.sec + m.lead_time.nanosec > 0]


def test_negative_stamps_are_skipped_and_counted_and_it_detects_on_after_them(rig, tmp_path):
    executor, pub, got = rig
    clip = smile_clip()
    with NodeProcess('emo_prediction', 'predictor_node', {'mode': 'anticipate'}, tmp_path) as proc:
        start(executor, pub, proc)
        # The whole clip stamped before the epoch (a clock gone wrong), then the same clip stamped right.
        send(executor, pub, [landmarks(-100.0 + i / 30, f) for i, f in enumerate(clip.face_xy)])
        assert proc.alive(), proc.log()[-3000:]
        send(executor, pub, [landmarks(T0 + i / 30, f) for i, f in enumerate(clip.face_xy)])
        assert spin_until(executor, lambda: int(counts(got).get('bad_stamps', 0)) == len(clip.face_xy)
                          and int(counts(got).get('frames', 0)) == len(clip.face_xy), 10.0), counts(got)
        assert proc.alive(), proc.log()[-3000:]
        assert onsets(got, T0), 'the detector never fired on the smile after the bad stamps'
        assert 'bad_stamp' in counts(got)['message']
        # The replay starts over (the same stamps again): stale at first, then a new stream, detected as well.
        first = int(counts(got)['onsets_detected'])
        send(executor, pub, [landmarks(T0 + i / 30, f) for i, f in enumerate(clip.face_xy)])
        assert spin_until(executor, lambda: int(counts(got).get('stale', 0)) == 29
                          and int(counts(got)['frames']) == 2 * len(clip.face_xy) - 29, 10.0), counts(got)
        assert counts(got)['stream_restarts'] == '1'
        assert spin_until(executor, lambda: int(counts(got)['onsets_detected']) > first, 5.0), counts(got)
    assert proc.returncode == 0 and 'Traceback' not in proc.log(), proc.log()[-3000:]
    assert all(seconds(m.header.stamp) >= T0 for m in got['out'])       # nothing published for the bad stamps
    assert 'unusable stamp: negative stamp' in proc.log() and 'a new stream' in proc.log()


def test_an_absurd_face_and_stale_frames_neither_stop_nor_deafen_it(rig, tmp_path):
    executor, pub, got = rig
    clip = smile_clip()
    messages = [landmarks(T0 + i / 30, f) for i, f in enumerate(clip.face_xy)]
    messages.insert(2, landmarks(T0 + 1.5 / 30, np.full((113, 2), 1e30)))       # finite but absurd (issue 13)
    messages.insert(12, landmarks(T0 + 3 / 30, clip.face_xy[3]))                # stale: older than the newest
    messages.insert(20, landmarks(T0 + 17.5 / 30, clip.face_xy[17] * 1e4))      # another absurd one
    with NodeProcess('emo_prediction', 'predictor_node', {'mode': 'anticipate'}, tmp_path) as proc:
        start(executor, pub, proc)
        send(executor, pub, messages)
        assert spin_until(executor, lambda: int(counts(got).get('frames', 0)) == len(clip.face_xy)
                          and int(counts(got).get('stale', 0)) == 1, 10.0), counts(got)
        assert proc.alive(), proc.log()[-3000:]
    assert proc.returncode == 0 and 'Traceback' not in proc.log(), proc.log()[-3000:]
    c = counts(got)
    assert (c['implausible'], c['stale'], c['malformed'], c['bad_stamps']) == ('2', '1', '0', '0'), c
    assert int(c['onsets_detected']) >= 1, c
    assert onsets(got, T0 + 20 / 30), 'the detector never fired after the absurd face'
    # Nothing of the absurd faces reaches what it publishes.
    shown = np.array([m.face_xy for m in got['out']])
    assert np.isfinite(shown).all() and np.abs(shown).max() < FACE_FRAME_LIMIT
    assert 'implausible FaceLandmarks' in proc.log()
