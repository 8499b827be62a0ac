"""Monitoring views of the landmarks for rviz and rqt (no rclpy needed)."""
import numpy as np
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

# Face-frame unit (outer-eye-corner distance) in metres for display, and how
# far in front of the camera the face is drawn (optical frame: z forward).
FACE_UNIT_M = 0.09
FACE_DISTANCE_M = 0.6


def face_markers(face_xy: np.ndarray, header, ns: str = 'human_face', color=(0.1, 0.8, 0.3),
                 distance_m: float = FACE_DISTANCE_M) -> MarkerArray:
    """A POINTS marker of face-frame landmarks drawn distance_m in front of the frame of `header` (an optical
    frame: z forward, x right, y down): a person in front of the eye camera, the robot's face on its `face`."""
    marker = Marker(header=header, ns=ns, id=0, type=Marker.POINTS, action=Marker.ADD)
    marker.scale.x = marker.scale.y = 0.004
    marker.color = ColorRGBA(r=color[0], g=color[1], b=color[2], a=1.0)
    marker.pose.orientation.w = 1.0
    marker.points = [Point(x=float(x) * FACE_UNIT_M, y=float(y) * FACE_UNIT_M, z=float(distance_m))
                     for x, y in np.asarray(face_xy).reshape(-1, 2)]
    return MarkerArray(markers=[marker])


def annotate(rgb: np.ndarray, image_xy) -> np.ndarray:
    """A copy of the image with the 113 landmarks drawn (upper face blue, lower face green)."""
    import cv2
    out = rgb.copy()
    if image_xy is None:
        cv2.putText(out, 'no face', (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 0, 0), 2)
        return out
    for i, (x, y) in enumerate(np.asarray(image_xy).reshape(-1, 2)):
        cv2.circle(out, (int(round(x)), int(round(y))), 2, (60, 120, 255) if i < 52 else (40, 220, 80), -1)
    return out
