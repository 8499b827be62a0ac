"""Predictor node: FaceLandmarks -> AnticipatedFace (coexpression, or the mimicry baseline).

    ros2 run emo_prediction predictor_node                                # anticipate, shipped model
    ros2 run emo_prediction predictor_node --ros-args -p mode:=mimic

For every observed face it publishes what the robot should show now, for a
robot whose face gets there a horizon later: the frame's age when it arrives
(capture latency, landmarks, transport: measured on every frame, or
`input_latency_s`) plus the robot's own lag `robot_lag_s`, by default the lag
measured by motor babbling and saved with the self-model (`self_model_path`;
`ros2 param get /predictor_node robot_lag_source` says where the value came
from). So: in mode `anticipate`, the
forecaster's face at t + the horizon (the checkpoint's forecaster, fitted on
real faces), and from the moment the onset detector fires until the expected
lead time has passed (lead_time > 0), a face on the way to the predicted
target face (target_xy), paced so the robot arrives with the person; in mode
`mimic`, always the current face. header.stamp is the newest observed frame's
capture stamp (latency tracing).

No message can stop it (issue 13): a frame whose stamp is negative, unset or
out of range, whose face is malformed (size, non-finite) or no plausible face
(emo_common.messages), or whose stamp is not after the newest frame
seen (stale) is skipped, counted in /diagnostics and logged (throttled);
nothing of it reaches the detector or the forecaster. Stale stamps for
`restart_after_frames` frames in a row are a new stream (a replay started
over, a clock reset): the detector and the forecaster's history start afresh.
"""
import dataclasses
import time
import traceback
from collections import deque

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from rclpy.time import Time
from std_msgs.msg import Float32, Header
from visualization_msgs.msg import MarkerArray

from emo_common.node import spin_node
from emo_common.params import Param, declare, watch
from emo_common.diagnostics import TopicFrequency, Updater
from emo_common.messages import (IMPLAUSIBLE, MALFORMED, Rejections, StampOrder, check_face, face_values,
                                 stamp_problem)
from emo_prediction.anticipator import ANTICIPATE, MIMIC, MODES, ONSET, ONSET_FACES, Anticipator
from emo_prediction.detector import DetectorParams
from emo_prediction.model import NumpyPredictor, default_model_path, load_checkpoint, load_forecaster
from emo_common.layout import landmark_layout
from emo_prediction.forecast_model import OnlineAdaptation

# The rate its output should have (/diagnostics warns outside it): a 30 fps camera, with room both ways.
RATE_HZ = (10.0, 120.0)


def stamp_seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


_D = DetectorParams()
# Changed at run time (`ros2 param set`, rqt_reconfigure): the detector's thresholds, from the next frame.
DETECTOR_LIVE = ('activation_min', 'noise_factor', 'velocity_min', 'confirm_frames', 'refractory_s', 'max_gap_s')
PARAMS = [
    Param('mode', ANTICIPATE, f"'{ANTICIPATE}' (coexpression) or '{MIMIC}' (baseline)", choices=MODES),
    Param('model_path', '', 'predictive model checkpoint; empty = the shipped default'),
    Param('lead_time_s', 0.0, "expected peak-activation-to-target time; 0 = the model's measured median",
          low=0.0, high=5.0),
    Param('fps', 30.0, 'expected landmark rate (detector smoothing)', low=1.0, high=240.0),
    Param('robot_lag_s', -1.0, "how long the robot's face takes to follow a command (s); < 0 = the lag measured "
          "by motor babbling, saved with the self-model; 0 = no anticipation of the robot's lag", low=-1.0, high=5.0,
          live=True),
    Param('self_model_path', '', "self-model checkpoint whose measured lag sets robot_lag_s; empty = emo_inverse's "
          'shipped one'),
    Param('input_latency_s', -1.0, 'how old a frame is when it arrives (capture stamp to here); < 0 = measured on '
          'every frame', low=-1.0, high=2.0, live=True),
    Param('forecast', True, "publish the forecaster's face at t + robot_lag_s (false: the current face) outside onsets"),
    Param('adapt', True, 'learn a correction of the forecast online on the person in front of the robot'),
    Param('adapt_forget_s', 10.0, 'with adapt: no face for this long means a new person (what was learned is dropped)',
          low=0.5, high=3600.0, live=True),
    Param('onset_face', 'paced', "during an onset: 'paced' (on the way to the target face), 'extrapolated' (at the "
          "person's pace along the onset, past the predicted target if they go on) or 'forecast'",
          choices=ONSET_FACES, live=True),
    Param('restart_after_frames', 30, 'this many frames in a row stamped before the newest one seen are a new stream '
          '(a replay started over, a clock reset): the detector starts afresh', low=1, high=100000),
    Param('activation_min', _D.activation_min, 'least activation (face units) that can fire', low=0.0, high=1.0, live=True),
    Param('noise_factor', _D.noise_factor, 'or this many calm-noise SDs, whichever is larger', low=0.0, high=100.0,
          live=True),
    Param('velocity_min', _D.velocity_min, 'least rate of rise when firing (face units/s)', low=0.0, high=10.0, live=True),
    Param('confirm_frames', _D.confirm_frames, 'consecutive frames meeting both', low=1, high=30, live=True),
    Param('refractory_s', _D.refractory_s, 'least time between two firings', low=0.0, high=10.0, live=True),
    Param('max_gap_s', _D.max_gap_s, 'a longer gap without a face resets the detector', low=0.0, high=10.0, live=True),
]


class PredictorNode(Node):
    def __init__(self, **kwargs):
        super().__init__('predictor_node', **kwargs)
        p = declare(self, PARAMS)
        p['robot_lag_s'] = self._resolve_robot_lag(p['robot_lag_s'], p['self_model_path'])
        self.input_latency_s = p['input_latency_s'] if p['input_latency_s'] >= 0 else None   # None: measured
        self.ages = deque(maxlen=90)
        self.robot_lag_s = p['robot_lag_s']
        predictor, forecaster, lead = None, None, p['lead_time_s']
        if p['mode'] == ANTICIPATE:
            path = p['model_path'] or default_model_path()
            model, meta = load_checkpoint(path)
            predictor = NumpyPredictor.from_model(model)
            lead = lead or float(meta.get('median_lead_s', 0.8))
            if p['forecast']:
                forecaster, _ = load_forecaster(path, max_gap_s=p['max_gap_s'])
                if forecaster is None:
                    self.get_logger().warn(f'{path} has no forecaster: showing the current face outside onsets')
                elif p['adapt'] and p['robot_lag_s'] > 0:
                    forecaster = OnlineAdaptation(forecaster, horizon_s=p['robot_lag_s'])
            self.get_logger().info(f'anticipating with {path} ({model.parameter_count()} parameters), lead {lead:.2f} s, '
                                   f'forecast {p["robot_lag_s"]:.3f} s + the input latency ahead: '
                                   f'{type(forecaster).__name__}')
        self.detector_params = DetectorParams(**{k: p[k] for k in DETECTOR_LIVE})
        self.onset_face = p['onset_face']
        _, ids, _ = landmark_layout()

        def new_anticipator() -> Anticipator:
            return Anticipator(predictor, p['mode'], lead or 0.0, p['fps'], self.detector_params, ids,
                               self._horizon(), forecaster, self.onset_face)
        self._new_anticipator = new_anticipator
        self.anticipator = new_anticipator()
        self.order = StampOrder(p['restart_after_frames'])
        self.restarts = self._fires_before = 0
        self.mode = p['mode']
        self.adapt_forget_s = p['adapt_forget_s']
        self._last_face_t = None
        self.pub = self.create_publisher(AnticipatedFace, Topics.FACE_ANTICIPATED, QoSProfile(depth=10))
        self.updater = Updater(self)                 # /diagnostics: this node's status, its output's rate
        self.rate = TopicFrequency(f'{self.get_name()}: {self.resolve_topic_name(Topics.FACE_ANTICIPATED)}', *RATE_HZ)
        self.intensity_pub = self.create_publisher(Float32, Topics.EXPRESSION_INTENSITY, 10)
        self.lead_pub = self.create_publisher(Float32, Topics.LEAD_TIME, 10)
        self.marker_pub = self.create_publisher(MarkerArray, Topics.ANTICIPATED_MARKERS, 10)
        self.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, self.on_landmarks, QoSProfile(depth=10))
        self.updater.add(self.diagnostic_status)
        self.updater.add(self.rate.status)
        watch(self, PARAMS, self.apply_parameters)
        self.frames = self.no_face = 0
        self.rejections = Rejections()    # frames skipped: malformed or implausible face, bad or stale stamp, error
        self.step_ms = deque(maxlen=300)
        self.last_lead = 0.0

    def apply_parameters(self, changes: dict) -> None:
        """`ros2 param set` at run time: the detector's thresholds, the onset face and the horizon's parts
        take effect from the next frame (what needs a model loaded again is read-only)."""
        if changes.get('robot_lag_s', 0.0) < 0:
            raise ValueError('robot_lag_s: set a lag >= 0 at run time (the measured one is read at start)')
        detector = {k: v for k, v in changes.items() if k in DETECTOR_LIVE}
        if detector:
            self.detector_params = dataclasses.replace(self.detector_params, **detector)
            self.anticipator.detector.p = self.detector_params
        if 'onset_face' in changes:
            self.onset_face = self.anticipator.onset_face = changes['onset_face']
        if 'adapt_forget_s' in changes:
            self.adapt_forget_s = float(changes['adapt_forget_s'])
        if 'input_latency_s' in changes:
            self.input_latency_s = changes['input_latency_s'] if changes['input_latency_s'] >= 0 else None
        if 'robot_lag_s' in changes:
            self.robot_lag_s = float(changes['robot_lag_s'])
            if isinstance(self.anticipator.forecaster, OnlineAdaptation):
                self.anticipator.forecaster.horizon_s = self.robot_lag_s
        self.anticipator.robot_lag_s = self._horizon()

    def _resolve_robot_lag(self, value: float, self_model_path: str) -> float:
        """robot_lag_s as given, or the lag measured with the self-model; says which in robot_lag_source."""
        if value >= 0:
            source = 'set by parameter'
        else:
            from emo_inverse.robot_lag import default_self_model_path, read_lag
            path = self_model_path or default_self_model_path()
            try:
                lag = read_lag(path)
            except Exception as err:  # unreadable file: anticipate nothing of the robot's lag, say why
                lag, why = None, f'{path} unreadable: {err}'
            else:
                why = f'{path} has no measured lag'
            if lag is None:
                value, source = 0.0, f'none: {why} (run python -m emo_inverse.training.measure_lag --model {path})'
                self.get_logger().warn(f'robot_lag_s 0: {why}')
            else:
                value = float(lag['lag_s'])
                source = (f"measured: mean delay of {lag.get('responses', '?')} step responses, command to robot face "
                          f"(t50 {lag.get('t50_s')} s, t90 {lag.get('t90_s')} s), {lag.get('source', '')}; "
                          f'saved with the self-model {path}')
        self.set_parameters([Parameter('robot_lag_s', value=float(value))])
        self.declare_parameter('robot_lag_source', source, ParameterDescriptor(
            description='where robot_lag_s came from (set by the node)', read_only=True), ignore_override=True)
        self.get_logger().info(f'robot_lag_s {value:.3f} s: {source}')
        return float(value)

    def _horizon(self) -> float:
        """How far ahead to anticipate: the input's age when it arrives plus the robot's own lag."""
        if self.robot_lag_s == 0.0:
            return 0.0
        latency = self.input_latency_s if self.input_latency_s is not None else (
            float(np.median(self.ages)) if self.ages else 0.0)
        return self.robot_lag_s + latency

    def _reject(self, kind: str, text: str) -> None:
        """Count a skipped frame and say why (logged at most every 5 s; the latest in /diagnostics)."""
        if self.rejections.add(kind, text):
            self.get_logger().error(f'{text} ({self.rejections.total} frames skipped so far)')

    def on_landmarks(self, msg: FaceLandmarks) -> None:
        try:
            self._on_landmarks(msg)
        except Exception as err:  # the last guard: a message the checks did not foresee must not end the node
            self._reject('error', f'{type(err).__name__} on a FaceLandmarks message: {err}; frame skipped\n'
                                  f'{traceback.format_exc()}')

    def _on_landmarks(self, msg: FaceLandmarks) -> None:
        t0 = time.perf_counter()
        problem = stamp_problem(msg.header.stamp)
        if problem:
            self._reject('bad_stamp', f'FaceLandmarks with an unusable stamp: {problem}; frame ignored')
            return
        t = stamp_seconds(msg.header.stamp)
        face = None
        if msg.face_detected:
            check = check_face(msg.face_xy, FaceLandmarks.NUM_LANDMARKS)
            if check.face is None:
                self._reject(check.kind, f'{check.kind} FaceLandmarks: {check.why}; frame ignored')
                return
            face = check.face.astype(np.float32)
        order = self.order.check(t)
        if order == StampOrder.STALE:
            self._reject('stale', f'stale FaceLandmarks: stamped {t:.3f}, not after the newest frame '
                                  f'({self.order.newest:.3f}); frame ignored')
            return
        if order == StampOrder.RESTART:
            self._restart(t)
        if self.input_latency_s is None:
            age = self.get_clock().now().nanoseconds * 1e-9 - t
            if 0.0 <= age < 1.0:                      # a frame from another clock or a replay says nothing
                self.ages.append(age)
                if len(self.ages) == 1 or self.frames % 30 == 0:
                    self.anticipator.robot_lag_s = self._horizon()
        if face is not None:
            forecaster = self.anticipator.forecaster
            if (isinstance(forecaster, OnlineAdaptation) and self._last_face_t is not None
                    and t - self._last_face_t > self.adapt_forget_s):
                forecaster.forget()      # long without a face: whoever comes now is a new person
            self._last_face_t = t
        else:
            self.no_face += 1
        self.frames += 1
        confidence = float(msg.detection_confidence) if face is not None else 0.0
        confidence = min(max(confidence, 0.0), 1.0) if np.isfinite(confidence) else 0.0
        out = self.anticipator.update(t, face, confidence)
        if out is None:
            return
        remaining = max(0.0, out.lead_s - (t - out.stamp)) if out.kind == ONSET else 0.0
        self.last_lead = remaining if out.kind == ONSET else self.last_lead
        reply = AnticipatedFace(header=Header(stamp=msg.header.stamp, frame_id=msg.header.frame_id),
                                mode=self.mode, confidence=float(out.confidence))
        reply.peak_activation_stamp = Time(seconds=out.peak_activation_time).to_msg() \
            if out.kind == ONSET else msg.header.stamp
        reply.lead_time = Duration(sec=int(remaining), nanosec=int((remaining % 1.0) * 1e9))
        reply.face_xy = face_values(out.face_xy)      # ValueError on a broken face: counted, not published
        if out.target_xy is not None:
            reply.target_xy = face_values(out.target_xy)
        self.pub.publish(reply)
        self.rate.tick()
        self.intensity_pub.publish(Float32(data=float(self.anticipator.detector.activation)))
        self.lead_pub.publish(Float32(data=float(remaining)))
        if self.marker_pub.get_subscription_count():
            from emo_perception.visualization import face_markers
            shown = out.target_xy if out.target_xy is not None else out.face_xy   # rviz: the predicted target
            self.marker_pub.publish(face_markers(shown, reply.header, 'anticipated_face', (0.9, 0.5, 0.1)))
        self.step_ms.append((time.perf_counter() - t0) * 1e3)

    def _restart(self, t: float) -> None:
        """A new stream (its stamps went back and stayed back): the detector and histories start afresh."""
        self._fires_before += self.anticipator.fires
        if self.anticipator.forecaster is not None:
            self.anticipator.forecaster.reset()        # what adaptation learned stays: it may be the same person
        self.anticipator = self._new_anticipator()
        self._last_face_t = None
        self.restarts += 1
        self.get_logger().warn(f'frame stamps went back to {t:.3f} and stayed: a new stream, the detector '
                               f'starts afresh')

    def diagnostic_status(self) -> DiagnosticStatus:
        status = DiagnosticStatus(name=f'{self.get_name()}: anticipation', hardware_id='predictive model')
        if self.rejections.recent():
            status.level = DiagnosticStatus.ERROR if self.rejections.latest_kind == 'error' else DiagnosticStatus.WARN
            status.message = self.rejections.summary('frames')
        elif self.frames == 0:
            status.level, status.message = DiagnosticStatus.WARN, 'no landmarks received yet'
        else:
            status.level, status.message = DiagnosticStatus.OK, f'{self.mode}'
        step = np.array(self.step_ms) if self.step_ms else np.array([np.nan])
        values = {'mode': self.mode, 'frames': self.frames,
                  'horizon_s': f'{self.anticipator.robot_lag_s:.3f}', 'robot_lag_s': f'{self.robot_lag_s:.3f}',
                  'input_latency_s': f'{self._horizon() - self.robot_lag_s:.3f}' if self.robot_lag_s else 'n/a', 'frames_without_face': self.no_face,
                  'malformed': self.rejections.counts[MALFORMED], 'implausible': self.rejections.counts[IMPLAUSIBLE],
                  'bad_stamps': self.rejections.counts['bad_stamp'], 'stale': self.rejections.counts['stale'],
                  'callback_errors': self.rejections.counts['error'], 'stream_restarts': self.restarts,
                  'onsets_detected': self._fires_before + self.anticipator.fires,
                  'last_lead_time_s': f'{self.last_lead:.3f}',
                  'forecaster': type(self.anticipator.forecaster).__name__,
                  'adaptation_samples': getattr(self.anticipator.forecaster, 'seen', 0),
                  'step_ms_p50': f'{np.percentile(step, 50):.3f}', 'step_ms_p99': f'{np.percentile(step, 99):.3f}'}
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        return status


def main(args=None):
    spin_node(PredictorNode, args)


if __name__ == '__main__':
    main()
