"""Eye camera node: publishes one eye's frames as sensor_msgs/Image and CameraInfo.

    ros2 run emo_perception eye_camera_node --ros-args -p eye:=left -p source:=/dev/video0
    ros2 run emo_perception eye_camera_node --ros-args -p eye:=right -p source:=clip.mp4   # or a folder of images

One instance per eye (parameter `eye`, or remap the topics). Stamps are
capture times: the time a frame is read, less `capture_latency_s` (exposure,
sensor readout and USB transport happen before the frame reaches the host; for
a file or folder it is the simulated camera's). A real camera's image
is one to four frames old when it arrives; the stamp says when the face was. A missing or unplugged device is logged and reopened every
`retry_period_s`; no frame is ever published twice.
"""
import math

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from emo_msgs.msg import Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from emo_common.node import spin_node
from emo_common.diagnostics import TopicFrequency, Updater
from emo_perception.camera_sources import CameraSourceError, open_source
from emo_perception.image_conversion import array_to_compressed, array_to_image

# The rate its output should have (/diagnostics warns outside it): a 30 fps camera, with room both ways.
RATE_HZ = (10.0, 120.0)

# A UVC camera at 30 fps: half an exposure, one frame of sensor readout and the USB transfer
# and driver buffering before the frame is read: about two frames (see eye_camera.yaml).
CAPTURE_LATENCY_S = 0.067
TOPICS = {'left': (Topics.EYE_LEFT_IMAGE, Topics.EYE_LEFT_CAMERA_INFO),
          'right': (Topics.EYE_RIGHT_IMAGE, Topics.EYE_RIGHT_CAMERA_INFO)}


def camera_info(header, width: int, height: int, horizontal_fov_deg: float) -> CameraInfo:
    """A pinhole CameraInfo from the image size and horizontal field of view (no distortion)."""
    f = (width / 2.0) / math.tan(math.radians(horizontal_fov_deg) / 2.0)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    info = CameraInfo(header=header, width=width, height=height, distortion_model='plumb_bob')
    info.d = [0.0] * 5
    info.k = [f, 0.0, cx, 0.0, f, cy, 0.0, 0.0, 1.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.p = [f, 0.0, cx, 0.0, 0.0, f, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


class EyeCameraNode(Node):
    def __init__(self, **kwargs):
        super().__init__('eye_camera', **kwargs)
        self.declare_parameter('eye', 'left', _doc('which eye: left or right (picks the topics)'))
        self.declare_parameter('source', '0', _doc('device index or /dev/videoN | video file | image folder (the demo clip: python -m emo_sim.demo_video --path)'))
        self.declare_parameter('frame_id', '', _doc('camera frame; default eye_<eye>_optical_frame'))
        self.declare_parameter('fps', 0.0, _doc('frames per second; 0 = the source own rate'))
        self.declare_parameter('width', 0, _doc('output width in pixels; 0 = native'))
        self.declare_parameter('height', 0, _doc('output height in pixels; 0 = native'))
        self.declare_parameter('loop', True, _doc('restart files and folders at their end'))
        self.declare_parameter('realtime', True, _doc('pace files at fps; false = as fast as subscribers take them'))
        self.declare_parameter('wait_for_subscriber', True, _doc('files and folders play only while the image has a subscriber'))
        self.declare_parameter('horizontal_fov_deg', 60.0, _doc('field of view for the pinhole CameraInfo'))
        self.declare_parameter('retry_period_s', 2.0, _doc('seconds between attempts to (re)open the source'))
        self.declare_parameter('publish_compressed', False, _doc(
            'also publish a JPEG of every frame on <image>/compressed (image_transport layout): for datasets'))
        self.declare_parameter('jpeg_quality', 90, _doc('JPEG quality of the compressed images (1-100)'))
        self.declare_parameter('capture_latency_s', CAPTURE_LATENCY_S, _doc(
            'how old a frame is when it is read (exposure + readout + transport): stamps are read time minus this'))

        p = self._params = {name: self.get_parameter(name).value for name in (
            'eye', 'source', 'frame_id', 'fps', 'width', 'height', 'loop', 'realtime',
            'wait_for_subscriber', 'horizontal_fov_deg', 'retry_period_s', 'capture_latency_s', 'publish_compressed',
            'jpeg_quality')}
        if not 0.0 <= p['capture_latency_s'] < 1.0:
            raise ValueError(f"parameter capture_latency_s must be in [0, 1) s, got {p['capture_latency_s']}")
        self.capture_latency = Duration(seconds=p['capture_latency_s'])
        if p['eye'] not in TOPICS:
            raise ValueError(f"parameter eye must be 'left' or 'right', got {p['eye']!r}")
        self.frame_id = p['frame_id'] or f"eye_{p['eye']}_optical_frame"
        image_topic, info_topic = TOPICS[p['eye']]
        self.image_pub = self.create_publisher(Image, image_topic, qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, info_topic, qos_profile_sensor_data)
        self.compressed_pub = self.create_publisher(CompressedImage, image_topic + '/compressed',
                                                    qos_profile_sensor_data) if p['publish_compressed'] else None
        self.updater = Updater(self)                 # /diagnostics: this node's status, its output's rate
        self.rate = TopicFrequency(f'{self.get_name()}: {self.resolve_topic_name(image_topic)}', *RATE_HZ)

        self.source = None
        self.frames_published = 0
        self.last_error = ''
        self._next_open = self.get_clock().now()
        self._ended = False
        self._open_source()
        fps = p['fps'] or (self.source.fps if self.source else 30.0)
        period = 1.0 / fps if p['realtime'] or (self.source and self.source.live) else 0.002
        self.timer = self.create_timer(period, self._tick)
        self.updater.add(self.diagnostic_status)
        self.updater.add(self.rate.status)

    def _open_source(self) -> None:
        p = self._params
        try:
            self.source = open_source(p['source'], p['width'], p['height'], p['fps'], p['loop'],
                                      warn=self.get_logger().warning)
            self.get_logger().info(f"eye {p['eye']}: {self.source.kind} source {p['source']!r} at {self.source.fps:.1f} fps")
            self.last_error = ''
        except CameraSourceError as err:
            self.source = None
            self.last_error = str(err)
            self.get_logger().error(f'{err}; retrying every {p["retry_period_s"]} s', throttle_duration_sec=10.0)
            self._next_open = self.get_clock().now() + Duration(seconds=p['retry_period_s'])

    def _tick(self) -> None:
        if self.source is None:
            if not self._ended and self.get_clock().now() >= self._next_open:
                self._open_source()
            return
        if (not self.source.live and self.image_pub.get_subscription_count() == 0
                and (self._params['wait_for_subscriber'] or not self._params['realtime'])):
            return  # a recording plays to a reader (pausing meanwhile) instead of dropping its frames
        try:
            rgb = self.source.read()
        except CameraSourceError as err:  # e.g. a folder with no readable image left: reopen it later
            self.last_error = str(err)
            self.get_logger().error(f'{err}; retrying every {self._params["retry_period_s"]} s', throttle_duration_sec=10.0)
            self.source.close()
            self.source = None
            self._next_open = self.get_clock().now() + Duration(seconds=self._params['retry_period_s'])
            return
        if rgb is None:
            if self.source.live:
                self.last_error = f'camera {self._params["source"]} stopped delivering frames'
                self.get_logger().error(f'{self.last_error}; reopening', throttle_duration_sec=10.0)
                self.source.close()
                self.source = None
                self._next_open = self.get_clock().now()
            else:
                self.get_logger().info('end of the file source (loop is false): no more frames')
                self.source.close()
                self.source = None
                self._ended = True
            return
        header = Header(stamp=(self.get_clock().now() - self.capture_latency).to_msg(), frame_id=self.frame_id)
        self.image_pub.publish(array_to_image(rgb, 'rgb8', header))
        if self.compressed_pub is not None:
            self.compressed_pub.publish(array_to_compressed(rgb, header, self._params['jpeg_quality']))
        self.rate.tick()
        self.info_pub.publish(camera_info(header, rgb.shape[1], rgb.shape[0], self._params['horizontal_fov_deg']))
        self.frames_published += 1

    def diagnostic_status(self) -> DiagnosticStatus:
        status = DiagnosticStatus(name=f'{self.get_name()}: eye {self._params["eye"]} camera', hardware_id=str(self._params['source']))
        if self.source is not None:
            status.level, status.message = DiagnosticStatus.OK, f'{self.source.kind} source streaming'
        elif self._ended:
            status.level, status.message = DiagnosticStatus.OK, 'file source ended'
        else:
            status.level, status.message = DiagnosticStatus.ERROR, self.last_error or 'no source'
        status.values = [KeyValue(key='frames_published', value=str(self.frames_published))]
        return status

    def destroy_node(self):
        if self.source is not None:
            self.source.close()
        super().destroy_node()


def _doc(text: str) -> ParameterDescriptor:
    return ParameterDescriptor(description=text)


def main(args=None):
    spin_node(EyeCameraNode, args)


if __name__ == '__main__':
    main()
