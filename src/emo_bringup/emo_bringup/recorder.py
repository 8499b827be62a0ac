"""Recording graph topics into a rosbag2 bag in MCAP storage, without rosbag2 (via `rosbags`).

    rec = BagRecorder(node, 'run_bag', RECORD_TOPICS)    # subscribes; every message is written as CDR
    ...
    rec.close()

The bag is a real rosbag2 bag (metadata.yaml, MCAP with the message
definitions and the offered QoS), so `ros2 bag info/play`, the `mcap` tools,
Foxglove and emo_prediction's dataset builder open it. Each chunk carries the
CRC of its records (rosbags alone writes none), so a damaged bag is found when
it is read (emo_prediction.training.bag_reading). With ROS 2 installed,
`ros2 bag record -s mcap` records the same topics (record.launch.py).
"""
import pathlib
import struct
import threading
import zlib

from rclpy.qos import QoSProfile


class BagRecorder:
    def __init__(self, node, path, topics: dict, qos: QoSProfile = None):
        from emo_prediction.training.bag_reading import emo_typestore
        self.path = pathlib.Path(path)
        if self.path.exists():
            raise FileExistsError(f'{self.path} exists: a bag is never overwritten')
        self.store = emo_typestore()
        self.writer = mcap_bag_writer(self.path)
        self.writer.open()
        self.lock = threading.Lock()
        self.counts = {}
        self.node = node
        self.subs = []
        self.types = {}
        self.connections = {}
        for topic, msgtype in topics.items():
            topic = node.resolve_topic_name(topic)      # a bag holds full names (Topics' are relative)
            self.types[topic] = msgtype
            cls = _message_class(msgtype)
            self.subs.append(node.create_subscription(
                cls, topic, lambda raw, t=topic: self._write(t, raw), qos or QoSProfile(depth=100), raw=True))

    def _connection(self, topic: str):
        """The topic's connection, made at its first message with the QoS its publishers offer (as
        rosbag2 records them: `ros2 bag play` offers the same again)."""
        if topic not in self.connections:
            offered = [bag_qos(info.qos_profile) for info in self.node.get_publishers_info_by_topic(topic)]
            self.connections[topic] = self.writer.add_connection(topic, self.types[topic], typestore=self.store,
                                                                 offered_qos_profiles=offered)
        return self.connections[topic]

    def _write(self, topic: str, raw: bytes) -> None:
        t = self.node.get_clock().now().nanoseconds
        with self.lock:
            if self.writer is not None:
                self.writer.write(self._connection(topic), t, raw)
                self.counts[topic] = self.counts.get(topic, 0) + 1

    def close(self) -> dict:
        for s in self.subs:
            self.node.destroy_subscription(s)
        with self.lock:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
        return dict(self.counts)


def bag_qos(profile):
    """An rclpy QoSProfile as rosbags writes it into metadata.yaml (the same rmw enum values)."""
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    def duration(d):
        ns = d.nanoseconds
        return QosTime(sec=ns // 1_000_000_000, nsec=ns % 1_000_000_000)
    return Qos(history=QosHistory(int(profile.history)), depth=int(profile.depth),
               reliability=QosReliability(int(profile.reliability)), durability=QosDurability(int(profile.durability)),
               deadline=duration(profile.deadline), lifespan=duration(profile.lifespan),
               liveliness=QosLiveliness(int(profile.liveliness)),
               liveliness_lease_duration=duration(profile.liveliness_lease_duration),
               avoid_ros_namespace_conventions=bool(profile.avoid_ros_namespace_conventions))


def mcap_bag_writer(path):
    """A rosbags Writer (rosbag2 version 9, MCAP storage) whose chunks carry the CRC of their records."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.rosbag2.storage_mcap import McapWriter

    class ChecksummedMcapWriter(McapWriter):
        def close_chunk(self) -> None:
            crc = zlib.crc32(self.chunk.bio.getvalue())
            start = self.bio.tell()
            super().close_chunk()
            end = self.bio.tell()
            # The chunk record: opcode (1), length (8), start and end time (16), uncompressed size (8), CRC (4).
            self.bio.seek(start + 33)
            self.bio.write(struct.pack('<I', crc))
            self.bio.seek(end)

    class ChecksummedWriter(Writer):
        STORAGE_PLUGINS = {**Writer.STORAGE_PLUGINS, StoragePlugin.MCAP: ChecksummedMcapWriter}

    return ChecksummedWriter(pathlib.Path(path), version=9, storage_plugin=StoragePlugin.MCAP)


def _message_class(msgtype: str):
    import importlib
    pkg, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{pkg}.msg'), name)
