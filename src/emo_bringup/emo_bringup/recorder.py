"""Recording graph topics into a rosbag2 bag in MCAP storage, without rosbag2 (via `rosbags`).

    rec = BagRecorder(node, 'run_bag', RECORD_TOPICS)    # subscribes; every message is written as CDR
    ...
    rec.close()

The bag is a real rosbag2 bag (metadata.yaml, MCAP with the message
definitions and the offered QoS), so `ros2 bag info/play`, the `mcap` tools,
Foxglove and emo_prediction's dataset builder open it. With ROS 2 installed,
`ros2 bag record -s mcap` records the same topics (record.launch.py).
"""
import pathlib
import threading

from rclpy.qos import QoSProfile


class BagRecorder:
    def __init__(self, node, path, topics: dict, qos: QoSProfile = None):
        from rosbags.rosbag2 import StoragePlugin, Writer

        from emo_prediction.bag_reading import emo_typestore
        self.path = pathlib.Path(path)
        if self.path.exists():
            raise FileExistsError(f'{self.path} exists: a bag is never overwritten')
        self.store = emo_typestore()
        self.writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
        self.writer.open()
        self.lock = threading.Lock()
        self.counts = {}
        self.node = node
        self.subs = []
        for topic, msgtype in topics.items():
            conn = self.writer.add_connection(topic, msgtype, typestore=self.store)
            cls = _message_class(msgtype)
            self.subs.append(node.create_subscription(
                cls, topic, lambda raw, c=conn, t=topic: self._write(c, t, raw), qos or QoSProfile(depth=100), raw=True))

    def _write(self, conn, topic: str, raw: bytes) -> None:
        t = self.node.get_clock().now().nanoseconds
        with self.lock:
            if self.writer is not None:
                self.writer.write(conn, t, raw)
                self.counts[topic] = self.counts.get(topic, 0) + 1

    def close(self) -> dict:
        for s in self.subs:
            self.node.destroy_subscription(s)
        with self.lock:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
        return dict(self.counts)


def _message_class(msgtype: str):
    import importlib
    pkg, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{pkg}.msg'), name)
