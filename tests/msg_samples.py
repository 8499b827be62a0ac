"""One filled sample of each emo_msgs type, and a publisher of them.

Run as a script it publishes the samples from its own process until killed:
    python tests/msg_samples.py
The frame_id of every sample names the publishing process, so a receiver can
prove the message crossed a process boundary.
"""
import os
import sys
import time

from builtin_interfaces.msg import Duration, Time
from emo_msgs.msg import AnticipatedFace, FaceLandmarks, MotorCommands, Topics
from std_msgs.msg import Header

# Values exactly representable in float32, so a round trip compares equal.
N = FaceLandmarks.NUM_LANDMARKS


def _header(pid: int, sec: int) -> Header:
    return Header(stamp=Time(sec=sec, nanosec=250_000_000), frame_id=f'eye_left_optical/pid{pid}')


def samples(pid: int) -> dict:
    image_xy = [float(i) * 0.5 for i in range(2 * N)]
    face_xy = [float(i) / 256.0 - 0.25 for i in range(2 * N)]
    return {
        FaceLandmarks: FaceLandmarks(
            header=_header(pid, 100), face_detected=True, detection_confidence=0.75,
            image_width=640, image_height=480, image_xy=image_xy, face_xy=face_xy),
        AnticipatedFace: AnticipatedFace(
            header=_header(pid, 101), mode=AnticipatedFace.MODE_ANTICIPATE,
            peak_activation_stamp=Time(sec=100, nanosec=500_000_000),
            lead_time=Duration(sec=0, nanosec=839_000_000),
            face_xy=face_xy[::-1], target_xy=face_xy, confidence=0.5),
        MotorCommands: MotorCommands(
            header=_header(pid, 102), commands=[i / 16.0 for i in range(MotorCommands.NUM_COMMANDS)]),
    }


TOPICS = {
    FaceLandmarks: Topics.FACE_LANDMARKS,
    AnticipatedFace: Topics.FACE_ANTICIPATED,
    MotorCommands: Topics.MOTOR_COMMANDS,
}


def main() -> int:
    import rclpy
    from rclpy.executors import ExternalShutdownException

    rclpy.init()        # (not `with rclpy.init()`: Jazzy's returns no context manager)
    try:
        node = rclpy.create_node('emo_msg_sample_publisher')
        msgs = samples(os.getpid())
        pubs = {t: node.create_publisher(t, TOPICS[t], 10) for t in msgs}
        deadline = time.monotonic() + 60.0
        while rclpy.ok() and time.monotonic() < deadline:
            for msg_type, pub in pubs.items():
                pub.publish(msgs[msg_type])
            time.sleep(0.1)
        node.destroy_node()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
