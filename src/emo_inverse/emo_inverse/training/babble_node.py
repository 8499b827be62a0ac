"""Babble node: motor babbling through the driver, watching the robot's own face.

    ros2 run emo_inverse babble_node --ros-args -p samples:=1000 -p out:=babble.npz

For each session (`sessions`: upper face, then mouth and jaw, then the whole
face, emo_inverse.training.babbling): draw commands that the
head's constraints allow, publish them as MotorCommands (the driver makes them
safe and moves the servos), wait until the servos have settled (joint states
still for `settle_s` since the command was first published), take the next
robot face from /emo/robot/face/landmarks (the simulated head, or a camera +
landmark node in front of a real head), and record the pair. Writes the
dataset when every session is done.

Every command is also a step: from its first publish (stamped with this
node's clock) until its sample is taken, every robot face is recorded with its
header stamp. At the end the head's lag is fitted on those step responses
(emo_inverse.robot_lag.fit_lag: t50, t90 and mean delay per face region, the
face before a step being the previous step's settled face), logged, and
written with the dataset (`robot_lag`); `emo_inverse.training.train` saves it with the
self-model. `lag_steps` bounds how many steps are kept for it (spread over
the sessions); 0 = no lag measurement.
"""
import math
import time

import numpy as np
import rclpy
from emo_msgs.msg import FaceLandmarks, MotorCommands, Topics
from emo_common.messages import check_face
from rcl_interfaces.msg import ParameterDescriptor
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Header

from emo_inverse import robot_lag

from emo_inverse.training import babbling


class BabbleNode(Node):
    def __init__(self, **kwargs):
        super().__init__('babble_node', **kwargs)
        def declare(name, value, text):
            self.declare_parameter(name, value, ParameterDescriptor(description=text))
        declare('samples', 1000, 'samples per session')
        declare('out', 'babble.npz', 'dataset to write')
        declare('settle_s', 0.4, 'servos still this long = settled')
        declare('head_config', '', 'head YAML; empty = Emo')
        declare('seed', 0, 'sampling seed')
        declare('lag_steps', 200, "step responses kept to measure the robot's lag (spread over the sessions); "
                                  '0 = no lag measurement')
        self.declare_parameter('sessions', list(babbling.SESSIONS), ParameterDescriptor(
            description=f'babbling sessions in order, from {babbling.SESSIONS}', read_only=True))
        sessions = list(self.get_parameter('sessions').value)
        if not sessions or set(sessions) - set(babbling.SESSIONS):
            raise ValueError(f'sessions must be taken from {babbling.SESSIONS}, got {sessions}')
        from emo_description.head import load_head
        self.head = load_head(self.get_parameter('head_config').value or None)
        self.n = self.get_parameter('samples').value
        self.settle_s = self.get_parameter('settle_s').value
        rng = np.random.default_rng(self.get_parameter('seed').value)
        self.plan = [(s, c) for s in sessions for c in babbling.sample_commands(self.head, s, self.n, rng)]
        self.pub = self.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        self.create_subscription(JointState, Topics.JOINT_STATES, self.on_joints, 10)
        self.create_subscription(FaceLandmarks, Topics.ROBOT_FACE_LANDMARKS, self.on_face, 10)
        self.create_timer(0.05, self.tick)
        self.records = {'commands': [], 'faces': [], 'session': []}
        self.rest_faces = []
        self.i = -1                   # -1: recording the rest face first
        self.last_positions, self.still_since = None, time.monotonic()
        self.want_face_after = None
        self.want_stamp_after = 0.0   # node clock (the joint states' stamps): faces from then on
        self.done = False
        # The step response of the command being babbled: its first publish (node clock, s; and
        # monotonic), the faces since (stamp - publish, face); the settled face of the step before.
        lag_steps = self.get_parameter('lag_steps').value
        self.lag_every = math.ceil(len(self.plan) / lag_steps) if lag_steps > 0 else 0
        self.step_t0 = self.step_started = None
        self.response = []
        self.before = None
        self.steps = []               # (t, faces, face before) of the steps kept for the lag
        self.bad_faces = 0

    def on_joints(self, msg: JointState) -> None:
        p = np.asarray(msg.position)
        if self.last_positions is None or p.shape != self.last_positions.shape or \
                np.nanmax(np.abs(p - self.last_positions), initial=0) > 0.002:
            self.still_since = time.monotonic()
        self.last_positions = p

    def on_face(self, msg: FaceLandmarks) -> None:
        if not msg.face_detected:
            return
        checked = check_face(msg.face_xy)
        if checked.face is None:        # never recorded into a training set
            self.bad_faces += 1
            self.get_logger().warning(f'ignoring a robot face: {checked.why} ({self.bad_faces} so far)',
                                      throttle_duration_sec=5.0)
            return
        face = checked.face.astype(np.float32)
        if self.step_t0 is not None:
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 - self.step_t0
            if t >= 0.0:              # a face from before the command cannot show it
                self.response.append((t, face))
        if self.want_face_after is None or time.monotonic() < self.want_face_after:
            return
        # A face made from joint states read before the servos were found settled is not this command's
        # face yet (under load, faces queue behind the joint states): its stamp says when it was read.
        if msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 < self.want_stamp_after:
            return
        if self.i < 0:
            self.rest_faces.append(face)
            if len(self.rest_faces) >= 10:
                self.end_step()
                self.i, self.want_face_after = 0, None
            return
        session, c = self.plan[self.i]
        self.records['commands'].append(c)
        self.records['faces'].append(face)
        self.records['session'].append(session)
        self.end_step()
        self.i += 1
        self.want_face_after = None

    def end_step(self) -> None:
        """The sample is taken: the step response ends; keep it for the lag if this step is one to keep."""
        if self.response:
            t = np.array([r[0] for r in self.response])
            faces = np.stack([r[1] for r in self.response])
            if self.i >= 0 and self.lag_every and self.i % self.lag_every == 0 and self.before is not None:
                self.steps.append((t, faces, self.before))
            self.before = np.median(faces[t >= t[-1] - robot_lag.SETTLED_S], axis=0)
        else:                         # no face since the command: the next step has no known face before
            self.before = None
        self.step_t0 = self.step_started = None
        self.response = []

    def tick(self) -> None:
        if self.done:
            return
        if self.i >= len(self.plan):
            self.finish()
            return
        c = self.head.calm_commands if self.i < 0 else self.plan[self.i][1]
        stamp = self.get_clock().now()
        self.pub.publish(MotorCommands(header=Header(stamp=stamp.to_msg()),
                                       commands=c.astype(np.float32).tolist()))  # keep the watchdog fed
        now = time.monotonic()
        if self.step_t0 is None:      # this command's first publish: its step response starts
            self.step_t0, self.step_started = stamp.nanoseconds * 1e-9, now
        # Settled: the servos still for settle_s, counted from no earlier than the command's first publish
        # (they were still before it reached the driver: that stillness says nothing of this command).
        if self.want_face_after is None and now - max(self.still_since, self.step_started) >= self.settle_s:
            self.want_face_after, self.want_stamp_after = now, stamp.nanoseconds * 1e-9
        if self.i >= 0 and self.i % 100 == 0 and self.want_face_after == now:
            self.get_logger().info(f'babbling: {self.i}/{len(self.plan)}')

    def finish(self) -> None:
        self.done = True
        data = {'commands': np.array(self.records['commands'], np.float32),
                'faces': np.array(self.records['faces'], np.float32),
                'session': np.array(self.records['session']),
                'rest_face': np.mean(self.rest_faces, axis=0).astype(np.float32)}
        lag = self.measure_lag()
        if lag is not None:
            data['robot_lag'] = lag
        out = self.get_parameter('out').value
        babbling.save(out, data)
        self.get_logger().info(f'wrote {len(data["commands"])} babbling samples to {out}'
                               + (' with the measured lag' if lag is not None else ''))
        raise SystemExit(0)

    def measure_lag(self):
        """The head's lag fitted on the recorded step responses, logged; None if it cannot be measured."""
        if not self.lag_every:
            return None
        try:
            lag = robot_lag.fit_lag(self.steps, robot_lag.robot_face_regions(), source=(
                f'babble_node through the driver: {len(self.steps)} babbling steps on the {self.head.name} head, '
                f'command publish to the stamp of {Topics.ROBOT_FACE_LANDMARKS}'))
        except ValueError as err:
            self.get_logger().warn(f'robot lag not measured: {err}')
            return None
        regions = ', '.join(f"{name} {r['mean_delay_s']:.3f}" for name, r in lag['regions'].items())
        self.get_logger().info(
            f"measured robot lag {lag['lag_s']:.3f} s (mean delay; t50 {lag['t50_s']} s, t90 {lag['t90_s']} s) from "
            f"{lag['responses']} region responses of {lag['steps']} steps; per region: {regions}")
        return lag


def main(args=None):
    rclpy.init(args=args)
    node = BabbleNode()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException, SystemExit):
        pass
    except RCLError:
        if rclpy.ok():
            raise
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
