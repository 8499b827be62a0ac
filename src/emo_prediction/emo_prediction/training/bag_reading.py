"""Reading emo_msgs from rosbag2 recordings (MCAP or SQLite) without ROS, via `rosbags`.

    stamps, face_xy = read_face_landmarks('capture_2026_11_23/')   # (n,), (n, 113, 2) NaN without a face

Works on bags from `ros2 bag record` and from the emo_bringup recorder. The
emo_msgs definitions are taken from the installed emo_msgs package, so the
reader always matches the interfaces this workspace was built with.

MCAP files are read chunk by chunk against their index, and every chunk is
checked: its header against the index, its size, its CRC (when the writer
stored one: `ros2 bag record` and the emo_bringup recorder do), its records,
and its message count against its message index. A damaged chunk is a
`BagError` naming the file, the byte span and the messages in it; with
`skip_corrupt=True` it is skipped instead, with a warning, and recorded in a
`BagReport`:

    report = BagReport()
    messages = list(read_messages(bag, '/emo/face/landmarks', skip_corrupt=True, report=report))
    report.skipped, report.corrupt     # messages lost, [CorruptSpan(file, start, end, messages, reason)]

Without a CRC, damage to message contents alone cannot be seen; damage to the
record structure still is. SQLite bags, compressed bags and MCAP files without
a chunk index (never closed) are read by rosbags as they are: a damaged chunk
with a CRC is an error there too, but cannot be skipped.
"""
import dataclasses
import heapq
import pathlib
import struct
import warnings
import zlib

import numpy as np
from emo_msgs.msg import Topics

from emo_common.layout import FACE_SIZE, NUM_LANDMARKS

FACE_LANDMARKS_TOPIC = '/' + Topics.FACE_LANDMARKS      # where a graph in the root namespace records them


class BagError(ValueError):
    """The recording cannot be read (missing, malformed, damaged, or without the topic)."""


@dataclasses.dataclass
class CorruptSpan:
    """A damaged chunk of an MCAP file: bytes [start, end) and the messages of the topic in it."""
    file: str
    start: int
    end: int
    messages: int  # None: the chunk has no message index to count them by
    reason: str
    log_time_ns: tuple = (0, 0)

    def __str__(self) -> str:
        what = 'an unindexed chunk' if self.messages is None else f'a chunk with {self.messages} messages of the topic'
        return (f'{self.file}: corrupted bytes {self.start}..{self.end} ({what}, log time '
                f'{self.log_time_ns[0] / 1e9:.3f}..{self.log_time_ns[1] / 1e9:.3f} s): {self.reason}')


@dataclasses.dataclass
class BagReport:
    """What a read with skip_corrupt=True left out."""
    corrupt: list = dataclasses.field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Messages of the topic in the skipped spans."""
        return sum(span.messages or 0 for span in self.corrupt)


def emo_typestore():
    """A rosbags typestore of this ROS 2 distribution's types (Kilted unless ROS_DISTRO says Jazzy) plus
    this workspace's emo_msgs."""
    import os

    from ament_index_python.packages import get_package_share_directory
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore
    store = get_typestore(Stores.ROS2_JAZZY if os.environ.get('ROS_DISTRO') == 'jazzy' else Stores.ROS2_KILTED)
    msg_dir = pathlib.Path(get_package_share_directory('emo_msgs')) / 'msg'
    types = {}
    for path in sorted(msg_dir.glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'emo_msgs/msg/{path.stem}'))
    store.register(types)
    return store


def bag_topics(path) -> set:
    """The topics a rosbag2 recording holds."""
    from rosbags.rosbag2 import Reader
    try:
        with Reader(pathlib.Path(path)) as reader:
            return {c.topic for c in reader.connections}
    except Exception as err:  # rosbags raises several types for damaged files
        raise BagError(f'cannot read recording {path}: {err}') from err


def read_messages(path, topic: str, skip_corrupt: bool = False, report: BagReport = None):
    """(log time ns, message) of one topic in a rosbag2 recording, in time order.

    A damaged part of the recording is a BagError; with skip_corrupt, it is skipped with a warning
    and recorded in `report` (a BagReport), if one is given.
    """
    from rosbags.rosbag2 import Reader
    path = pathlib.Path(path)
    if not path.exists():
        raise BagError(f'no recording at {path}')
    store = emo_typestore()
    report = BagReport() if report is None else report
    try:
        with Reader(path) as reader:
            conns = [c for c in reader.connections if c.topic == topic]
            if not conns:
                raise BagError(f'{path} has no {topic} (topics: {sorted({c.topic for c in reader.connections})})')
            files = _plain_mcap_files(path)
            if files:
                try:
                    yield from _mcap_messages(files, topic, store, skip_corrupt, report)
                    return
                except _Unindexed:
                    pass  # raised before any message: rosbags scans such files (checking chunk CRCs)
            for conn, t, raw in reader.messages(connections=conns):
                yield t, store.deserialize_cdr(raw, conn.msgtype)
    except BagError:
        raise
    except Exception as err:  # rosbags raises several types for damaged files
        raise BagError(f'cannot read recording {path}: {err}') from err


def read_face_landmarks(path, topic: str = FACE_LANDMARKS_TOPIC, skip_corrupt: bool = False,
                        report: BagReport = None):
    """(capture stamps in s (n,), face_xy (n, 113, 2) with NaN where no face) of a recording."""
    stamps, faces = [], []
    for _, msg in read_messages(path, topic, skip_corrupt, report):
        stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
        face = np.asarray(msg.face_xy, np.float32)
        faces.append(face.reshape(NUM_LANDMARKS, 2) if msg.face_detected and face.size == FACE_SIZE
                     else np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
    if not stamps:
        return np.zeros(0), np.zeros((0, NUM_LANDMARKS, 2), np.float32)
    order = np.argsort(stamps)
    return np.array(stamps)[order], np.array(faces)[order]


# --- MCAP, chunk by chunk -------------------------------------------------------------------------

class _Damage(Exception):
    """A chunk that does not read back as written."""


class _Unindexed(Exception):
    """An MCAP file without a summary or chunk index (a recording that was not closed)."""


def _plain_mcap_files(path: pathlib.Path):
    """The MCAP files of a bag stored as MCAP without rosbag2 file or message compression, else None
    (those are left to rosbags, which checks chunk CRCs too but cannot skip a damaged chunk)."""
    import yaml
    try:
        info = yaml.safe_load((path / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None
    if info.get('storage_identifier') != 'mcap' or info.get('compression_mode') not in (None, '', 'none'):
        return None
    files = [path / name for name in info.get('relative_file_paths') or []]
    return files if files and all(f.is_file() for f in files) else None


def _mcap_messages(files, topic: str, store, skip_corrupt: bool, report: BagReport):
    """(log time, message) of the topic from the chunks of MCAP files, each chunk checked, in time order."""
    from contextlib import ExitStack

    from mcap.reader import SeekingReader
    with ExitStack() as stack:
        sources = []
        for file in files:
            f = stack.enter_context(open(file, 'rb'))
            try:
                summary = SeekingReader(f).get_summary()
            except Exception as err:
                raise BagError(f'{file}: cannot read its index (the MCAP summary section): {err}') from err
            if summary is None or not summary.chunk_indexes:
                raise _Unindexed(file)
            channels = {cid: summary.schemas[ch.schema_id].name for cid, ch in summary.channels.items()
                        if ch.topic == topic and ch.schema_id in summary.schemas}
            for index in summary.chunk_indexes:
                counts = _index_counts(index)
                if counts is None or any(counts.get(cid) for cid in channels):
                    sources.append(_chunk_source(f, file, len(sources), index, counts, channels, store,
                                                 skip_corrupt, report))
        for t, *_, msg in heapq.merge(*sources, key=lambda item: item[:3]):
            if msg is not None:
                yield t, msg


def _chunk_source(f, file, number: int, index, counts, channels: dict, store, skip_corrupt: bool, report):
    """A chunk's messages, read only when the merge gets to the chunk's start time."""
    yield index.message_start_time, 0, number, None   # placeholder: the chunk is not read before its time
    try:
        messages = _read_chunk(f, index, counts, channels, store)
    except _Damage as damage:
        lost = None if counts is None else sum(counts.get(cid, 0) for cid in channels)
        span = CorruptSpan(str(file), index.chunk_start_offset, index.chunk_start_offset + index.chunk_length,
                           lost, str(damage), (index.message_start_time, index.message_end_time))
        if not skip_corrupt:
            raise BagError(f'{span}; read with skip_corrupt=True to skip it') from damage
        report.corrupt.append(span)
        warnings.warn(f'skipped {span}', stacklevel=2)
        return
    for i, (t, msg) in enumerate(messages):
        yield t, 1, number, i, msg


def _index_counts(index):
    """Messages per channel in a chunk, from the sizes of its message index records (each 15 bytes plus 16
    per message), which the summary gives without reading them; None if the chunk has no message index."""
    if not index.message_index_offsets:
        return None
    offsets = sorted((offset, cid) for cid, offset in index.message_index_offsets.items())
    ends = [o for o, _ in offsets[1:]] + [index.chunk_start_offset + index.chunk_length + index.message_index_length]
    return {cid: (end - offset - 15) // 16 for (offset, cid), end in zip(offsets, ends)}


def _decompress(data: bytes, compression: str, size: int) -> bytes:
    if compression == '':
        return data
    if compression == 'lz4':
        import lz4.frame
        return lz4.frame.decompress(data)
    if compression == 'zstd':
        try:
            from compression import zstd
        except ImportError:
            from backports import zstd
        return zstd.decompress(data)
    raise _Damage(f'unknown chunk compression {compression!r}')


def _read_chunk(f, index, counts, channels: dict, store):
    """The sorted (log time, message) of the topic in one chunk; _Damage if any check fails."""
    try:
        f.seek(index.chunk_start_offset)
        record = f.read(index.chunk_length)
        if len(record) != index.chunk_length:
            raise _Damage('the file ends inside the chunk')
        opcode, length, start, end, size, crc, name_len = struct.unpack_from('<BQQQQII', record)
        compression = record[41:41 + name_len].decode()
        (data_len,) = struct.unpack_from('<Q', record, 41 + name_len)
        if (opcode, 9 + length, start, end, size, compression, data_len) != (
                0x06, index.chunk_length, index.message_start_time, index.message_end_time,
                index.uncompressed_size, index.compression, index.compressed_size):
            raise _Damage('the chunk header does not match the index')
        data_start = 49 + name_len
        if data_start + data_len > len(record):
            raise _Damage('the chunk data runs past the chunk')
        data = _decompress(record[data_start:data_start + data_len], compression, size)
    except _Damage:
        raise
    except Exception as err:  # struct, decoding and decompression errors of a damaged chunk
        raise _Damage(f'unreadable chunk ({err})') from err
    if len(data) != size:
        raise _Damage(f'the chunk holds {len(data)} bytes, its header says {size}')
    if crc and zlib.crc32(data) != crc:
        raise _Damage(f'CRC mismatch (stored {crc:#010x}, computed {zlib.crc32(data):#010x})')
    found, messages, pos = {}, [], 0
    while pos < len(data):
        if len(data) - pos < 9:
            raise _Damage(f'a record header cut off at byte {pos} of the chunk')
        opcode, length = struct.unpack_from('<BQ', data, pos)
        body, pos = pos + 9, pos + 9 + length
        if pos > len(data):
            raise _Damage(f'a record runs past the end of the chunk (at byte {body - 9} of the chunk)')
        if opcode != 0x05:
            continue
        if length < 22:
            raise _Damage(f'a message record of {length} bytes')
        cid, _, log_time, _ = struct.unpack_from('<HIQQ', data, body)
        if not start <= log_time <= end:
            raise _Damage(f'a message log time {log_time} outside the chunk {start}..{end}')
        found[cid] = found.get(cid, 0) + 1
        if cid in channels:
            try:
                messages.append((log_time, store.deserialize_cdr(data[body + 22:pos], channels[cid])))
            except Exception as err:
                raise _Damage(f'a message that does not decode as {channels[cid]} ({err})') from err
    if counts is not None and found != {cid: n for cid, n in counts.items() if n}:
        raise _Damage(f'messages per channel {found}, the message index says {counts}')
    messages.sort(key=lambda m: m[0])
    return messages
