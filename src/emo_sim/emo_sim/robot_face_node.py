"""Robot face node: the simulated head's face from the actual servo positions.

    ros2 run emo_sim robot_face_node

Subscribes /emo/joint_states (the driver's present positions), publishes the
robot's own face on /emo/robot/face/landmarks (emo_msgs/FaceLandmarks, face
frame only) as a camera in front of the robot would see it. With `plant`
real (default) the skin lags the servos as the head's dynamics say
(emo_sim.simulated_head.SkinLag); ideal: the skin follows at once. Motor babbling and
the coexpression timing measurements read it; with a real head, a camera and
the landmark node publish the same topic instead.
"""
import math

import numpy as np
from emo_msgs.msg import FaceLandmarks, Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import JointState
from visualization_msgs.msg import MarkerArray

from emo_common.messages import face_values
from emo_common.node import spin_node
from emo_sim.simulated_head import SimulatedHead, SkinLag


# The frame of the robot's face: emo_description's URDF link at the front of the head.
FACE_FRAME = 'face'


class RobotFaceNode(Node):
    def __init__(self, **kwargs):
        super().__init__('robot_face_node', **kwargs)
        self.declare_parameter('head_config', '', ParameterDescriptor(description='head YAML; empty = Emo'))
        self.declare_parameter('seed', 0, ParameterDescriptor(description='noise seed of the simulated head'))
        self.declare_parameter('plant', 'real', ParameterDescriptor(
            description="real: the skin lags the servos (head dynamics.skin); ideal: no lag"))
        self.declare_parameter('frame_prefix', '', ParameterDescriptor(
            description="prefix of the TF frames of a namespaced head (robot_state_publisher's frame_prefix)"))
        self.frame_id = self.get_parameter('frame_prefix').value + FACE_FRAME
        from emo_description.head import load_head
        head = load_head(self.get_parameter('head_config').value or None)
        self.twin = SimulatedHead(head, seed=self.get_parameter('seed').value)
        plant = self.get_parameter('plant').value
        if plant not in ('real', 'ideal'):
            raise ValueError(f"parameter plant must be 'real' or 'ideal', got {plant!r}")
        d = head.dynamics
        self.skin = SkinLag(d.skin_order, d.skin_time_constant_s) if plant == 'real' else SkinLag(0, 0.0)
        self.head = head
        self.rejected = 0
        self.pub = self.create_publisher(FaceLandmarks, Topics.ROBOT_FACE_LANDMARKS, 10)
        self.marker_pub = self.create_publisher(MarkerArray, Topics.ROBOT_FACE_MARKERS, 10)
        self.create_subscription(JointState, Topics.JOINT_STATES, self.on_joints, 10)

    def on_joints(self, msg: JointState) -> None:
        radians = np.full(len(self.head.servos), np.nan)
        for name, rad in zip(msg.name, msg.position):
            i = self.head.index.get(name)
            if i is not None and math.isfinite(rad):
                radians[i] = rad
        positions = self.head.radians_to_ticks(radians)      # the driver's units (emo_description)
        # A position this head cannot reach is not one (a hostile or corrupt message): not learned into the skin.
        span = self.head.max - self.head.min
        outside = (positions < self.head.min - 0.1 * span) | (positions > self.head.max + 0.1 * span)
        if outside.any():
            self.rejected += 1
            self.get_logger().warning(f'ignoring impossible positions of {", ".join(np.array(self.head.names)[outside])} '
                                      f'({self.rejected} messages so far)', throttle_duration_sec=5.0)
            positions[outside] = np.nan
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        face = self.twin.face(self.skin.update(t, positions))
        out = FaceLandmarks(header=msg.header, face_detected=True, detection_confidence=1.0)
        out.header.frame_id = self.frame_id
        try:
            out.face_xy = face_values(face)
        except ValueError as err:      # e.g. every servo position impossible: no face to show
            self.rejected += 1
            self.get_logger().warning(f'no robot face from these positions ({err})', throttle_duration_sec=5.0)
            return
        self.pub.publish(out)
        if self.marker_pub.get_subscription_count():
            from emo_perception.visualization import face_markers
            self.marker_pub.publish(face_markers(face, out.header, 'robot_face', (0.85, 0.1, 0.1), distance_m=0.0))


def main(args=None):
    spin_node(RobotFaceNode, args)


if __name__ == '__main__':
    main()
