"""hri_bridge: the landmark node's faces as ROS4HRI topics (REP-155), for HRI stacks that speak it.

    ros2 run emo_perception hri_bridge_node        # needs hri_msgs (system ROS: ros-$ROS_DISTRO-hri-msgs)

From emo/faces/tracked (emo_msgs/TrackedFaces: every face in view, each with an id that stays with
its person) it publishes /humans/faces/tracked (hri_msgs/IdsList), and per face
/humans/faces/<id>/roi (hri_msgs/NormalizedRegionOfInterest2D) and /humans/faces/<id>/landmarks
(hri_msgs/FacialLandmarks, emo_perception.hri's layout), and the TF frame face_<id> in the camera's
optical frame (from a pinhole camera and an adult's eye-corner distance; tf2_ros where installed).
A face gone for `forget_s` has its topics' publishers destroyed, as REP-155 asks.
"""
import time

from emo_msgs.msg import Topics, TrackedFaces
from hri_msgs.msg import FacialLandmarks, IdsList, NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D
from rclpy.node import Node

from emo_common.node import spin_node
from emo_perception.face_frame import landmark_ids
from emo_perception.hri import FACE_TOWARDS_CAMERA, face_position, hri_landmarks, normalized_roi


class HriBridgeNode(Node):
    def __init__(self, **kwargs):
        super().__init__('hri_bridge', **kwargs)
        self.declare_parameter('forget_s', 1.0)
        self.declare_parameter('horizontal_fov_deg', 60.0)
        self.forget_s = float(self.get_parameter('forget_s').value)
        self.fov = float(self.get_parameter('horizontal_fov_deg').value)
        self.vertex_ids = landmark_ids()
        self.tracked_pub = self.create_publisher(IdsList, '/humans/faces/tracked', 10)
        self.faces = {}              # id -> (roi publisher, landmarks publisher, last seen)
        try:
            from tf2_ros import TransformBroadcaster
            self.tf = TransformBroadcaster(self)
        except ImportError:
            self.tf = None
            self.get_logger().warning('tf2_ros is not installed: no face_<id> frames')
        self.create_subscription(TrackedFaces, Topics.TRACKED_FACES, self.on_faces, 10)

    def on_faces(self, msg: TrackedFaces) -> None:
        now = time.monotonic()
        self.tracked_pub.publish(IdsList(header=msg.header, ids=list(msg.ids)))
        for face_id, face in zip(msg.ids, msg.faces):
            if not face.face_detected or not face.image_width:
                continue
            if face_id not in self.faces:
                base = f'/humans/faces/{face_id}'
                self.faces[face_id] = [self.create_publisher(NormalizedRegionOfInterest2D, f'{base}/roi', 10),
                                       self.create_publisher(FacialLandmarks, f'{base}/landmarks', 10), now]
            roi_pub, landmarks_pub, _ = self.faces[face_id]
            self.faces[face_id][2] = now
            w, h = face.image_width, face.image_height
            xmin, ymin, xmax, ymax = normalized_roi(face.image_xy, w, h)
            roi_pub.publish(NormalizedRegionOfInterest2D(header=face.header, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax,
                                                         c=float(face.detection_confidence)))
            points = hri_landmarks(face.image_xy, self.vertex_ids, w, h)
            landmarks_pub.publish(FacialLandmarks(
                header=face.header, height=h, width=w,
                landmarks=[NormalizedPointOfInterest2D(x=float(x), y=float(y), c=float(c)) for x, y, c in points]))
            self._frame(face_id, face)
        for face_id in [k for k, v in self.faces.items() if now - v[2] > self.forget_s]:
            for pub in self.faces.pop(face_id)[:2]:
                self.destroy_publisher(pub)

    def _frame(self, face_id: str, face) -> None:
        if self.tf is None:
            return
        xyz = face_position(face.image_xy, self.vertex_ids, face.image_width, face.image_height, self.fov)
        if xyz is None:
            return
        from geometry_msgs.msg import TransformStamped
        t = TransformStamped()
        t.header = face.header                     # the camera's optical frame, the image's stamp
        t.child_frame_id = f'face_{face_id}'
        t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = xyz
        t.transform.rotation.x, t.transform.rotation.y, t.transform.rotation.z, t.transform.rotation.w = \
            FACE_TOWARDS_CAMERA
        self.tf.sendTransform(t)


def main(args=None):
    spin_node(HriBridgeNode, args)


if __name__ == '__main__':
    main()
