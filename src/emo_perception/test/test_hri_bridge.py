"""hri_bridge over real rclpy: ROS4HRI topics from the landmark node's tracked faces. hri_msgs has no
wheel: this runs where it is installed (a system ROS), the conversions are tested always
(test_face_tracking.py)."""
import numpy as np
import pytest

pytest.importorskip('hri_msgs')
rclpy = pytest.importorskip('rclpy')
pytestmark = pytest.mark.ros


def test_tracked_faces_become_ros4hri_topics(ros_node):
    from emo_msgs.msg import FaceLandmarks, Topics, TrackedFaces
    from hri_msgs.msg import FacialLandmarks, IdsList, NormalizedRegionOfInterest2D

    from emo_common.testing import spin_until
    from emo_perception.face_frame import landmark_ids, reference_face
    from emo_perception.hri_bridge_node import HriBridgeNode
    node, ex = ros_node
    bridge = HriBridgeNode(context=node.context)
    ex.add_node(bridge)
    got = {'ids': [], 'roi': [], 'landmarks': []}
    node.create_subscription(IdsList, '/humans/faces/tracked', got['ids'].append, 10)
    node.create_subscription(NormalizedRegionOfInterest2D, '/humans/faces/abcde/roi', got['roi'].append, 10)
    node.create_subscription(FacialLandmarks, '/humans/faces/abcde/landmarks', got['landmarks'].append, 10)
    pub = node.create_publisher(TrackedFaces, Topics.TRACKED_FACES, 10)
    xy = reference_face()[landmark_ids(), :2] * 100 + 300
    face = FaceLandmarks(face_detected=True, detection_confidence=0.9, image_width=640, image_height=480,
                         image_xy=xy.ravel().tolist(), face_xy=np.zeros(226).tolist())
    try:
        def sent():
            pub.publish(TrackedFaces(ids=['abcde'], faces=[face], followed_id='abcde'))
            return got['ids'] and got['roi'] and got['landmarks']
        assert spin_until(ex, sent, 10.0)
        assert got['ids'][-1].ids == ['abcde'] and 0 < got['roi'][-1].xmin < got['roi'][-1].xmax < 1
        assert len(got['landmarks'][-1].landmarks) == 70 and got['landmarks'][-1].width == 640
    finally:
        ex.remove_node(bridge)
        bridge.destroy_node()
