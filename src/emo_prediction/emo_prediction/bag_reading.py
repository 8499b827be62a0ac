"""Reading emo_msgs from rosbag2 recordings (MCAP or SQLite) without ROS, via `rosbags`.

    stamps, face_xy = read_face_landmarks('capture_2026_11_23/')   # (n,), (n, 113, 2) NaN without a face

Works on bags from `ros2 bag record` and from the emo_bringup recorder. The
emo_msgs definitions are taken from the installed emo_msgs package, so the
reader always matches the interfaces this workspace was built with.
"""
import pathlib

import numpy as np


class BagError(ValueError):
    """The recording cannot be read (missing, malformed, or without the topic)."""


def emo_typestore():
    """A rosbags typestore of ROS 2 Kilted's types plus this workspace's emo_msgs."""
    from ament_index_python.packages import get_package_share_directory
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore
    store = get_typestore(Stores.ROS2_KILTED)
    msg_dir = pathlib.Path(get_package_share_directory('emo_msgs')) / 'msg'
    types = {}
    for path in sorted(msg_dir.glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'emo_msgs/msg/{path.stem}'))
    store.register(types)
    return store


def read_messages(path, topic: str):
    """(log time ns, message) of one topic in a rosbag2 recording, in time order."""
    from rosbags.rosbag2 import Reader
    path = pathlib.Path(path)
    if not path.exists():
        raise BagError(f'no recording at {path}')
    store = emo_typestore()
    try:
        with Reader(path) as reader:
            conns = [c for c in reader.connections if c.topic == topic]
            if not conns:
                raise BagError(f'{path} has no {topic} (topics: {sorted({c.topic for c in reader.connections})})')
            for conn, t, raw in reader.messages(connections=conns):
                yield t, store.deserialize_cdr(raw, conn.msgtype)
    except BagError:
        raise
    except Exception as err:  # rosbags raises several types for damaged files
        raise BagError(f'cannot read recording {path}: {err}') from err


def read_face_landmarks(path, topic: str = '/emo/face/landmarks'):
    """(capture stamps in s (n,), face_xy (n, 113, 2) with NaN where no face) of a recording."""
    stamps, faces = [], []
    for _, msg in read_messages(path, topic):
        stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
        face = np.asarray(msg.face_xy, np.float32)
        faces.append(face.reshape(113, 2) if msg.face_detected and face.size == 226
                     else np.full((113, 2), np.nan, np.float32))
    if not stamps:
        return np.zeros(0), np.zeros((0, 113, 2), np.float32)
    order = np.argsort(stamps)
    return np.array(stamps)[order], np.array(faces)[order]
