"""Building emo_msgs/FaceLandmarks from the landmark sets (no rclpy needed)."""
from emo_common.messages import face_values
from emo_msgs.msg import FaceLandmarks

from emo_perception.face_frame import FaceLandmarkSets, fit_confidence


def face_landmarks_msg(header, width: int, height: int, sets: FaceLandmarkSets = None) -> FaceLandmarks:
    """A FaceLandmarks message; with `sets` None it says no face was detected (and carries no points)."""
    msg = FaceLandmarks(header=header, image_width=int(width), image_height=int(height))
    if sets is not None:
        msg.face_detected = True
        msg.detection_confidence = fit_confidence(sets.fit_rms)
        msg.image_xy = face_values(sets.image_xy)
        msg.face_xy = face_values(sets.face_xy)
    return msg
