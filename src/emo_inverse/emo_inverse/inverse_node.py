"""Inverse node: the face the robot should make -> 11 motor commands (the self-model).

    ros2 run emo_inverse inverse_node                                  # from /emo/face/anticipated
    ros2 run emo_inverse inverse_node --ros-args -p source:=landmarks  # straight from /emo/face/landmarks

Each incoming face (AnticipatedFace, or FaceLandmarks for direct mimicry) is
normalized into the robot's face space — displacement from the person's rest
face (estimated online from /emo/face/landmarks), scaled by K, limited by the
robot's range of motion, added to the robot's rest face — and the inverse
model turns it into MotorCommands. header.stamp is carried over from the
source (latency tracing).
"""
import time
from collections import deque

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import Header

from emo_inverse import babbling
from emo_inverse.model import FastInverse, load_checkpoint
from emo_inverse.normalization import Normalizer, RestFaceEstimator


def default_path(name: str) -> str:
    from importlib import resources
    return str(resources.files('emo_inverse').joinpath('data', name))


class InverseNode(Node):
    def __init__(self, **kwargs):
        super().__init__('inverse_node', **kwargs)
        for name, value, text in [
                ('source', 'anticipated', "'anticipated' (AnticipatedFace) or 'landmarks' (FaceLandmarks: mimic directly)"),
                ('model_path', '', 'inverse model checkpoint; empty = the shipped one for the simulated Emo head'),
                ('babbling_path', '', "babbling dataset that calibrates the normalization (robot rest face and range)"),
                ('k', 1.0, 'scale of the human-to-robot landmark displacement (the paper K)')]:
            self.declare_parameter(name, value, ParameterDescriptor(description=text))
        p = {n: self.get_parameter(n).value for n in ('source', 'model_path', 'babbling_path', 'k')}
        if p['source'] not in ('anticipated', 'landmarks'):
            raise ValueError(f"parameter source must be 'anticipated' or 'landmarks', got {p['source']!r}")
        model, _ = load_checkpoint(p['model_path'] or default_path('inverse_default.pt'))
        self.inverse = FastInverse(model)
        self.normalizer = Normalizer.from_babbling(babbling.load(p['babbling_path'] or default_path('babble_default.npz')),
                                                   k=p['k'])
        self.rest = RestFaceEstimator()
        self.source = p['source']
        self.pub = self.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, Topics.DIAGNOSTICS, 10)
        self.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, self.on_landmarks, 10)
        if self.source == 'anticipated':
            self.create_subscription(AnticipatedFace, Topics.FACE_ANTICIPATED, self.on_anticipated, 10)
        self.create_timer(1.0, self.publish_diagnostics)
        self.published = self.malformed = 0
        self.last_error = ''
        self._last_logged = 0.0
        self.step_ms = deque(maxlen=300)

    def _face(self, values, what: str):
        face = np.asarray(values, dtype=np.float32)
        if face.size != 226 or not np.isfinite(face).all():
            self.malformed += 1
            self.last_error = f'malformed {what}: {face.size} face_xy values (need 226) or non-finite; ignored'
            if time.monotonic() - self._last_logged > 5.0:
                self._last_logged = time.monotonic()
                self.get_logger().error(self.last_error)
            return None
        return face.reshape(113, 2)

    def on_landmarks(self, msg: FaceLandmarks) -> None:
        if not msg.face_detected:
            return
        face = self._face(msg.face_xy, 'FaceLandmarks')
        if face is None:
            return
        self.rest.update(face)
        if self.source == 'landmarks':
            self.command(face, msg.header)

    def on_anticipated(self, msg: AnticipatedFace) -> None:
        face = self._face(msg.face_xy, 'AnticipatedFace')
        if face is not None:
            self.command(face, msg.header)

    def command(self, face: np.ndarray, header: Header) -> None:
        if self.rest.rest is None:
            return  # no rest face yet: nothing to measure the expression against
        t0 = time.perf_counter()
        robot_face = self.normalizer(face, self.rest.rest)
        commands = self.inverse.predict(robot_face)
        self.pub.publish(MotorCommands(header=header, commands=commands.astype(np.float32).tolist()))
        self.published += 1
        self.step_ms.append((time.perf_counter() - t0) * 1e3)

    def publish_diagnostics(self) -> None:
        st = DiagnosticStatus(name=f'{self.get_name()}: self-model', hardware_id='inverse model')
        if self.malformed and self.last_error:
            st.level, st.message = DiagnosticStatus.WARN, self.last_error
        elif self.rest.rest is None:
            st.level, st.message = DiagnosticStatus.WARN, 'waiting for a face to learn its rest pose'
        else:
            st.level, st.message = DiagnosticStatus.OK, f'commanding from {self.source}'
        step = np.array(self.step_ms) if self.step_ms else np.array([np.nan])
        st.values = [KeyValue(key='commands_published', value=str(self.published)),
                     KeyValue(key='malformed', value=str(self.malformed)),
                     KeyValue(key='step_ms_p99', value=f'{np.percentile(step, 99):.3f}')]
        self.diag_pub.publish(DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[st]))


def main(args=None):
    rclpy.init(args=args)
    node = InverseNode()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if rclpy.ok():
            raise  # else: a callback in flight when Ctrl-C/SIGTERM shut the context down
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
