"""Babble node: motor babbling through the driver, watching the robot's own face.

    ros2 run emo_inverse babble_node --ros-args -p samples:=1000 -p out:=babble.npz

For each session (upper face, then mouth and jaw): draw commands that the
head's constraints allow, publish them as MotorCommands (the driver makes them
safe and moves the servos), wait until the servos have settled (joint states
still for `settle_s`), take the next robot face from /emo/robot/face/landmarks
(the simulated head, or a camera + landmark node in front of a real head), and
record the pair. Writes the dataset when both sessions are done.
"""
import time

import numpy as np
import rclpy
from emo_msgs.msg import FaceLandmarks, MotorCommands, Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState

from emo_inverse import babbling


class BabbleNode(Node):
    def __init__(self, **kwargs):
        super().__init__('babble_node', **kwargs)
        for name, value, text in [('samples', 1000, 'samples per session'), ('out', 'babble.npz', 'dataset to write'),
                                  ('settle_s', 0.4, 'servos still this long = settled'),
                                  ('head_config', '', 'head YAML; empty = Emo'), ('seed', 0, 'sampling seed')]:
            self.declare_parameter(name, value, ParameterDescriptor(description=text))
        from emo_servo_driver.head import load_head
        self.head = load_head(self.get_parameter('head_config').value or None)
        self.n = self.get_parameter('samples').value
        self.settle_s = self.get_parameter('settle_s').value
        rng = np.random.default_rng(self.get_parameter('seed').value)
        self.plan = [(s, c) for s in ('upper', 'lower') for c in babbling.sample_commands(self.head, s, self.n, rng)]
        self.pub = self.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        self.create_subscription(JointState, Topics.JOINT_STATES, self.on_joints, 10)
        self.create_subscription(FaceLandmarks, Topics.ROBOT_FACE_LANDMARKS, self.on_face, 10)
        self.create_timer(0.05, self.tick)
        self.records = {'commands': [], 'faces': [], 'session': []}
        self.rest_faces = []
        self.i = -1                   # -1: recording the rest face first
        self.sent_at = time.monotonic()
        self.last_positions, self.still_since = None, time.monotonic()
        self.want_face_after = None
        self.done = False

    def on_joints(self, msg: JointState) -> None:
        p = np.asarray(msg.position)
        if self.last_positions is None or p.shape != self.last_positions.shape or \
                np.nanmax(np.abs(p - self.last_positions), initial=0) > 0.002:
            self.still_since = time.monotonic()
        self.last_positions = p

    def on_face(self, msg: FaceLandmarks) -> None:
        if self.want_face_after is None or not msg.face_detected or len(msg.face_xy) != 226:
            return
        if time.monotonic() < self.want_face_after:
            return
        face = np.asarray(msg.face_xy, np.float32).reshape(113, 2)
        if self.i < 0:
            self.rest_faces.append(face)
            if len(self.rest_faces) >= 10:
                self.i, self.want_face_after = 0, None
            return
        session, c = self.plan[self.i]
        self.records['commands'].append(c)
        self.records['faces'].append(face)
        self.records['session'].append(session)
        self.i += 1
        self.want_face_after = None

    def tick(self) -> None:
        if self.done:
            return
        if self.i >= len(self.plan):
            self.finish()
            return
        c = self.head.calm_commands if self.i < 0 else self.plan[self.i][1]
        self.pub.publish(MotorCommands(commands=c.astype(np.float32).tolist()))  # keep the watchdog fed
        now = time.monotonic()
        if self.want_face_after is None and now - self.still_since >= self.settle_s:
            self.want_face_after = now
        if self.i >= 0 and self.i % 100 == 0 and self.want_face_after == now:
            self.get_logger().info(f'babbling: {self.i}/{len(self.plan)}')

    def finish(self) -> None:
        self.done = True
        data = {'commands': np.array(self.records['commands'], np.float32),
                'faces': np.array(self.records['faces'], np.float32),
                'session': np.array(self.records['session']),
                'rest_face': np.mean(self.rest_faces, axis=0).astype(np.float32)}
        out = self.get_parameter('out').value
        babbling.save(out, data)
        self.get_logger().info(f'wrote {len(data["commands"])} babbling samples to {out}')
        raise SystemExit(0)


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
