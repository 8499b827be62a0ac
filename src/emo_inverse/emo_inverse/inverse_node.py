"""Inverse node: the face the robot should make -> 11 motor commands (the self-model).

    ros2 run emo_inverse inverse_node                                  # from /emo/face/anticipated
    ros2 run emo_inverse inverse_node --ros-args -p source:=landmarks  # straight from /emo/face/landmarks

Each incoming face (AnticipatedFace, or FaceLandmarks for direct mimicry) is
normalized into the robot's face space — displacement from the person's rest
face (estimated online from /emo/face/landmarks), scaled by K, limited by the
robot's range of motion, added to the robot's rest face — and the inverse
model turns it into MotorCommands. header.stamp is carried over from the
source (latency tracing).

The rest face is the median of the person's calm faces (RestFaceEstimator): it
settles on the calm face once calm faces come, starts anew after no face for
`rest_face_forget_s`, and on `~/reset_rest_face` (std_srvs/Trigger). No message
can stop the node (issue 13): a face that is malformed or no plausible face
(emo_common.messages) is never learned nor commanded, a face to
command whose stamp is negative or out of range, or not after the newest one
commanded (stale), is skipped; each is counted in /diagnostics and logged
(throttled). An unset (zero) stamp is accepted: the node needs no time from it.
"""
import time
import traceback
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics
from rclpy.node import Node
from std_msgs.msg import Header
from std_srvs.srv import Trigger

from emo_common.node import spin_node
from emo_common.params import Param, declare, watch
from emo_inverse import babbling_file, default_path
from emo_inverse.model import NumpyInverse, load_checkpoint
from emo_inverse.normalization import Normalizer, RestFaceEstimator
from emo_common.diagnostics import TopicFrequency, Updater
from emo_common.messages import IMPLAUSIBLE, MALFORMED, Rejections, StampOrder, check_face, stamp_problem

# The rate its output should have (/diagnostics warns outside it): a 30 fps camera, with room both ways.
RATE_HZ = (10.0, 120.0)


PARAMS = [
    Param('source', 'anticipated', "'anticipated' (AnticipatedFace) or 'landmarks' (FaceLandmarks: mimic directly)",
          choices=('anticipated', 'landmarks')),
    Param('model_path', '', 'inverse model checkpoint; empty = the shipped one for the simulated Emo head'),
    Param('babbling_path', '', 'babbling dataset that calibrates the normalization (robot rest face and range)'),
    Param('k', 1.0, 'scale of the human-to-robot landmark displacement (the paper K)', low=0.0, high=5.0, live=True),
    Param('rest_face_window_s', 30.0, "the person's rest face: the median of their calm faces of this long",
          low=1.0, high=600.0, live=True),
    Param('rest_face_forget_s', 10.0, 'no face for this long: the rest face is estimated anew (a new person)',
          low=0.5, high=3600.0, live=True),
]


class InverseNode(Node):
    def __init__(self, **kwargs):
        super().__init__('inverse_node', **kwargs)
        p = declare(self, PARAMS)
        model, _ = load_checkpoint(p['model_path'] or default_path('inverse_default.pt'))
        self.inverse = NumpyInverse(model)
        self.normalizer = Normalizer.from_babbling(babbling_file.load(p['babbling_path'] or default_path('babble_default.npz')),
                                                   k=p['k'])
        self.rest = RestFaceEstimator(window_s=p['rest_face_window_s'], forget_s=p['rest_face_forget_s'])
        self.source = p['source']
        self.order = StampOrder()
        self.pub = self.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        self.updater = Updater(self)                 # /diagnostics: this node's status, its output's rate
        self.rate = TopicFrequency(f'{self.get_name()}: {self.resolve_topic_name(Topics.MOTOR_COMMANDS)}', *RATE_HZ)
        self.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, self.on_landmarks, 10)
        if self.source == 'anticipated':
            self.create_subscription(AnticipatedFace, Topics.FACE_ANTICIPATED, self.on_anticipated, 10)
        self.create_service(Trigger, '~/reset_rest_face', self.on_reset_rest_face)
        self.updater.add(self.diagnostic_status)
        self.updater.add(self.rate.status)
        watch(self, PARAMS, self.apply_parameters)
        self.published = self.rest_resets = 0
        self.rejections = Rejections()    # messages skipped: malformed or implausible face, bad or stale stamp, error
        self.step_ms = deque(maxlen=300)

    def apply_parameters(self, changes: dict) -> None:
        """`ros2 param set` at run time: K and the rest face's memory take effect on the next face."""
        if 'k' in changes:
            self.normalizer.k = float(changes['k'])
        if 'rest_face_window_s' in changes:
            self.rest.window_s = float(changes['rest_face_window_s'])
        if 'rest_face_forget_s' in changes:
            self.rest.forget_s = float(changes['rest_face_forget_s'])

    def _reject(self, kind: str, text: str) -> None:
        """Count a skipped message and say why (logged at most every 5 s; the latest in /diagnostics)."""
        if self.rejections.add(kind, text):
            self.get_logger().error(f'{text} ({self.rejections.total} messages skipped so far)')

    def _guarded(self, handle, msg, what: str) -> None:
        try:
            handle(msg)
        except Exception as err:  # the last guard: a message the checks did not foresee must not end the node
            self._reject('error', f'{type(err).__name__} on a {what} message: {err}; ignored\n'
                                  f'{traceback.format_exc()}')

    def _face(self, values, what: str):
        check = check_face(values)
        if check.face is None:
            self._reject(check.kind, f'{check.kind} {what}: {check.why}; ignored')
            return None
        return check.face.astype(np.float32)

    def _commandable(self, header: Header, what: str) -> bool:
        """Whether a face with this header may be commanded: its stamp usable and after the newest commanded."""
        problem = stamp_problem(header.stamp, allow_zero=True)
        if problem:
            self._reject('bad_stamp', f'{what} with an unusable stamp: {problem}; ignored')
            return False
        t = header.stamp.sec + header.stamp.nanosec * 1e-9
        if t > 0.0 and self.order.check(t) == StampOrder.STALE:
            self._reject('stale', f'stale {what}: stamped {t:.3f}, not after the newest commanded '
                                  f'({self.order.newest:.3f}); ignored')
            return False
        return True

    def on_landmarks(self, msg: FaceLandmarks) -> None:
        self._guarded(self._on_landmarks, msg, 'FaceLandmarks')

    def _on_landmarks(self, msg: FaceLandmarks) -> None:
        if not msg.face_detected:
            return
        face = self._face(msg.face_xy, 'FaceLandmarks')
        if face is None:
            return
        self.rest.update(face, self.get_clock().now().nanoseconds * 1e-9)    # arrival time: stamps may be unset
        if self.source == 'landmarks' and self._commandable(msg.header, 'FaceLandmarks'):
            self.command(face, msg.header)

    def on_anticipated(self, msg: AnticipatedFace) -> None:
        self._guarded(self._on_anticipated, msg, 'AnticipatedFace')

    def _on_anticipated(self, msg: AnticipatedFace) -> None:
        face = self._face(msg.face_xy, 'AnticipatedFace')
        if face is not None and self._commandable(msg.header, 'AnticipatedFace'):
            self.command(face, msg.header)

    def on_reset_rest_face(self, request, response):
        self.rest.reset()
        self.rest_resets += 1
        response.success = True
        response.message = f'rest face forgotten: the next {self.rest.init} faces make a new one'
        self.get_logger().info(response.message)
        return response

    def command(self, face: np.ndarray, header: Header) -> None:
        if self.rest.rest is None:
            return  # no rest face yet: nothing to measure the expression against
        t0 = time.perf_counter()
        robot_face = self.normalizer(face, self.rest.rest)
        commands = self.inverse.predict(robot_face)
        if not np.isfinite(commands).all():
            self._reject('error', 'the self-model gave non-finite commands; not published')
            return
        commands = np.clip(commands, 0.0, 1.0).astype(np.float32)
        self.pub.publish(MotorCommands(header=header, commands=commands.tolist()))
        self.rate.tick()
        self.published += 1
        self.step_ms.append((time.perf_counter() - t0) * 1e3)

    def diagnostic_status(self) -> DiagnosticStatus:
        st = DiagnosticStatus(name=f'{self.get_name()}: self-model', hardware_id='inverse model')
        if self.rejections.recent():
            st.level = DiagnosticStatus.ERROR if self.rejections.latest_kind == 'error' else DiagnosticStatus.WARN
            st.message = self.rejections.summary('messages')
        elif self.rest.rest is None:
            st.level, st.message = DiagnosticStatus.WARN, 'waiting for a face to learn its rest pose'
        else:
            st.level, st.message = DiagnosticStatus.OK, f'commanding from {self.source}'
        step = np.array(self.step_ms) if self.step_ms else np.array([np.nan])
        n = self.rejections.counts
        values = {'commands_published': self.published, 'malformed': n[MALFORMED], 'implausible': n[IMPLAUSIBLE],
                  'bad_stamps': n['bad_stamp'], 'stale': n['stale'], 'callback_errors': n['error'],
                  'rest_face': 'none' if self.rest.rest is None else f'median of {self.rest.samples} faces',
                  'rest_face_restarts': self.rest.resets,
                  'rest_face_resets': self.rest_resets, 'step_ms_p99': f'{np.percentile(step, 99):.3f}'}
        st.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        return st


def main(args=None):
    spin_node(InverseNode, args)


if __name__ == '__main__':
    main()
