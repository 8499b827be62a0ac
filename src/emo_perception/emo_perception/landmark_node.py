"""Landmark node: one eye's images -> emo_msgs/FaceLandmarks (the paper's 113 points).

    ros2 run emo_perception landmark_node --ros-args -p eye:=left

Runs MediaPipe's face mesh in tracking mode (created once), keeps an id with
each face across frames (emo_perception.face_tracking), follows one of them
(`follow`: largest, oldest or centered) and publishes its 113 landmarks in
pixels and in the head-pose-free face frame (emo_perception.face_frame) on
face/landmarks; every face, with its id, goes on faces/tracked (emo_msgs/TrackedFaces,
while someone listens: hri_bridge makes ROS4HRI topics of it). With no face it
publishes face_detected=false and no points. Unreadable images are reported
(throttled) and skipped.
"""
import time
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from emo_msgs.msg import FaceLandmarks, Topics, TrackedFaces
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
from visualization_msgs.msg import MarkerArray

from emo_common.node import spin_node
from emo_common.diagnostics import TopicFrequency, Updater
from emo_perception.face_frame import mesh_to_face_landmarks
from emo_perception.face_mesh import FaceMeshTracker
from emo_perception.face_tracking import FOLLOW, FaceTracker, bounding_box
from emo_perception.image_conversion import ImageConversionError, array_to_image, image_to_rgb
from emo_perception.landmarks_message import face_landmarks_msg
from emo_perception.visualization import annotate, face_markers

# The rate its output should have (/diagnostics warns outside it): a 30 fps camera, with room both ways.
RATE_HZ = (10.0, 120.0)

IMAGE_TOPICS = {'left': Topics.EYE_LEFT_IMAGE, 'right': Topics.EYE_RIGHT_IMAGE}
# Keep last 1, best effort: a late frame is dropped rather than queued, which keeps latency low
# (qos_profile_sensor_data, which the camera publishes with, keeps 5).
IMAGE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.BEST_EFFORT,
                       durability=DurabilityPolicy.VOLATILE)


class LandmarkNode(Node):
    def __init__(self, **kwargs):
        super().__init__('landmark_node', **kwargs)
        self.declare_parameter('eye', 'left', ParameterDescriptor(description='which eye camera to read: left or right'))
        self.declare_parameter('max_faces', 2, ParameterDescriptor(description='faces MediaPipe finds in an image'))
        self.declare_parameter('follow', 'largest', ParameterDescriptor(
            description="the face published on face/landmarks (the one the robot coexpresses with): largest (the "
                        "nearest) | oldest (the person tracked longest) | centered (nearest the camera's centre)",
            additional_constraints='one of: ' + ', '.join(FOLLOW)))
        self.declare_parameter('min_detection_confidence', 0.5, ParameterDescriptor(description='MediaPipe face detection threshold'))
        self.declare_parameter('min_tracking_confidence', 0.5, ParameterDescriptor(description='MediaPipe tracking threshold'))
        self.declare_parameter('publish_markers', False, ParameterDescriptor(description='publish a MarkerArray of the face-frame points'))
        self.declare_parameter('publish_debug_image', False, ParameterDescriptor(description='publish the image annotated with the landmarks'))
        self.declare_parameter('latency_warn_ms', 40.0, ParameterDescriptor(description='diagnostics warn above this p95 stamp-to-publish latency'))
        eye = self.get_parameter('eye').value
        if eye not in IMAGE_TOPICS:
            raise ValueError(f"parameter eye must be 'left' or 'right', got {eye!r}")
        self.publish_markers = self.get_parameter('publish_markers').value
        self.publish_debug = self.get_parameter('publish_debug_image').value
        self.latency_warn_ms = self.get_parameter('latency_warn_ms').value

        self.tracker = FaceMeshTracker(
            max_faces=self.get_parameter('max_faces').value,
            min_detection_confidence=self.get_parameter('min_detection_confidence').value,
            min_tracking_confidence=self.get_parameter('min_tracking_confidence').value)
        self.faces_tracker = FaceTracker(self.get_parameter('follow').value)
        self.pub = self.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, QoSProfile(depth=10))
        self.tracked_pub = self.create_publisher(TrackedFaces, Topics.TRACKED_FACES, QoSProfile(depth=10))
        self.marker_pub = self.create_publisher(MarkerArray, Topics.FACE_MARKERS, 10) if self.publish_markers else None
        self.debug_pub = self.create_publisher(Image, Topics.FACE_DEBUG_IMAGE, qos_profile_sensor_data) \
            if self.publish_debug else None
        self.updater = Updater(self)                 # /diagnostics: this node's status, its output's rate
        self.rate = TopicFrequency(f'{self.get_name()}: {self.resolve_topic_name(Topics.FACE_LANDMARKS)}', *RATE_HZ)
        self.image_sub = self.create_subscription(Image, IMAGE_TOPICS[eye], self.on_image, IMAGE_QOS)
        self.updater.add(self.diagnostic_status)
        self.updater.add(self.rate.status)

        self.process_ms = deque(maxlen=300)
        self.latency_ms = deque(maxlen=300)
        self.frames = self.faces = self.bad_images = 0
        self.last_error = ''
        self._last_logged = {}

    def on_image(self, image: Image) -> None:
        t0 = time.perf_counter()
        try:
            rgb = image_to_rgb(image)
        except ImageConversionError as err:
            self.bad_images += 1
            self.last_error = f'unusable image: {err}'
            # Throttled per kind of problem (a fixed set), so each distinct fault is reported.
            now = time.monotonic()
            if now - self._last_logged.get(err.kind, -1e9) > 5.0:
                self._last_logged[err.kind] = now
                self.get_logger().error(self.last_error)
            return
        meshes = self.tracker.process(rgb)
        height, width = rgb.shape[:2]
        every = [mesh_to_face_landmarks(m, width, height) for m in meshes]
        self.faces_tracker.image_size = (width, height)
        tracks = self.faces_tracker.update(time.monotonic(), [bounding_box(f.image_xy) for f in every])
        followed = self.faces_tracker.followed
        sets = every[followed] if followed is not None else None
        msg = face_landmarks_msg(image.header, width, height, sets)
        self.pub.publish(msg)
        if self.tracked_pub.get_subscription_count():
            self.tracked_pub.publish(TrackedFaces(
                header=image.header, ids=[k.id for k in tracks],
                faces=[face_landmarks_msg(image.header, width, height, f) for f in every],
                followed_id=tracks[followed].id if followed is not None else ''))
        self.rate.tick()
        self.frames += 1
        self.faces += sets is not None
        now_ns = self.get_clock().now().nanoseconds
        stamp_ns = image.header.stamp.sec * 1_000_000_000 + image.header.stamp.nanosec
        self.latency_ms.append((now_ns - stamp_ns) / 1e6)
        self.process_ms.append((time.perf_counter() - t0) * 1e3)
        if self.marker_pub is not None and sets is not None:
            self.marker_pub.publish(face_markers(sets.face_xy, image.header))
        if self.debug_pub is not None:
            self.debug_pub.publish(array_to_image(annotate(rgb, None if sets is None else sets.image_xy), 'rgb8', image.header))

    def diagnostic_status(self) -> DiagnosticStatus:
        status = DiagnosticStatus(name=f'{self.get_name()}: face landmarks', hardware_id='mediapipe face mesh')
        p95 = float(np.percentile(self.latency_ms, 95)) if self.latency_ms else float('nan')
        if self.frames == 0:
            status.level, status.message = DiagnosticStatus.WARN, self.last_error or 'no images received yet'
        elif p95 > self.latency_warn_ms:
            status.level, status.message = DiagnosticStatus.WARN, f'latency p95 {p95:.1f} ms above {self.latency_warn_ms} ms'
        else:
            status.level, status.message = DiagnosticStatus.OK, 'tracking' if self.faces else 'no face in view'
        values = {'frames': self.frames, 'frames_with_face': self.faces, 'bad_images': self.bad_images,
                  'process_ms_p50': np.percentile(self.process_ms, 50) if self.process_ms else float('nan'),
                  'latency_ms_p95': p95}
        status.values = [KeyValue(key=k, value=f'{v:.2f}' if isinstance(v, float) else str(v)) for k, v in values.items()]
        return status

    def destroy_node(self):
        self.tracker.close()
        super().destroy_node()


def main(args=None):
    spin_node(LandmarkNode, args)


if __name__ == '__main__':
    main()
