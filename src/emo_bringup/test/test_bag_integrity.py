"""A damaged recording is found when it is read (issue 13: a bag with 4 KiB of corrupted bytes in its
middle read 346 of 600 messages with no error): the recorder stores each chunk's CRC, the reader checks
every chunk and names the file and byte span, or skips the damage with a count when asked to."""
import re
import shutil
import struct

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('rosbags')
from emo_msgs.msg import FaceLandmarks, Topics  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from emo_bringup.recorder import BagRecorder  # noqa: E402
from emo_prediction.training.bag_reading import BagError, read_face_landmarks, read_messages  # noqa: E402
from emo_common.testing import spin_until  # noqa: E402

pytestmark = pytest.mark.ros
N = 600


@pytest.fixture(scope='module')
def recorded(tmp_path_factory):
    """600 FaceLandmarks (stamp 1000 + i s, every coordinate i) recorded by the BagRecorder: two MCAP chunks."""
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node('bag_integrity_test', context=context)
        ex = SingleThreadedExecutor(context=context)
        ex.add_node(node)
        bag = tmp_path_factory.mktemp('recording') / 'bag'
        rec = BagRecorder(node, bag, {Topics.FACE_LANDMARKS: 'emo_msgs/msg/FaceLandmarks'})
        pub = node.create_publisher(FaceLandmarks, Topics.FACE_LANDMARKS, 100)
        assert spin_until(ex, lambda: pub.get_subscription_count() > 0, 10.0)
        for i in range(N):
            msg = FaceLandmarks(face_detected=True, face_xy=[float(i)] * 226, image_xy=[float(i)] * 226)
            msg.header.stamp.sec = 1000 + i
            pub.publish(msg)
            if i % 50 == 49:  # within both queues' depth of 100
                assert spin_until(ex, lambda: rec.counts.get('/emo/face/landmarks', 0) > i, 30.0)
        assert rec.close() == {'/emo/face/landmarks': N}
        ex.shutdown()
        node.destroy_node()
    finally:
        context.try_shutdown()
    return bag


def damaged_copy(bag, dest, damage):
    shutil.copytree(bag, dest)
    mcap = next(dest.glob('*.mcap'))
    data = bytearray(mcap.read_bytes())
    where = damage(data)
    mcap.write_bytes(bytes(data))
    return dest, mcap, where


def garbage_in_the_middle(data):
    """4 KiB of random bytes in the middle of the file."""
    mid = len(data) // 2
    data[mid:mid + 4096] = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    return mid


def one_bit_of_a_coordinate(data):
    """One flipped bit in a coordinate of message 300: the structure stays valid, only the CRC can tell."""
    at = bytes(data).index(struct.pack('<f', 300.0) * 226) + 100
    data[at] ^= 0x01
    return at


def test_the_recorder_stores_each_chunks_crc_and_an_intact_bag_reads_whole(recorded):
    from mcap.records import Chunk
    from mcap.stream_reader import StreamReader
    with open(next(recorded.glob('*.mcap')), 'rb') as f:
        chunks = [r for r in StreamReader(f, emit_chunks=True).records if isinstance(r, Chunk)]
    assert len(chunks) >= 2 and all(c.uncompressed_crc != 0 for c in chunks)
    stamps, faces = read_face_landmarks(recorded)
    assert np.array_equal(stamps, 1000 + np.arange(N)) and np.array_equal(faces[:, 0, 0], np.arange(N))


@pytest.mark.parametrize('damage', [garbage_in_the_middle, one_bit_of_a_coordinate])
def test_a_damaged_bag_is_an_error_naming_the_file_and_span(recorded, tmp_path, damage):
    bag, mcap, where = damaged_copy(recorded, tmp_path / 'damaged', damage)
    for read in (lambda: list(read_messages(bag, '/emo/face/landmarks')), lambda: read_face_landmarks(bag)):
        with pytest.raises(BagError, match=rf'{mcap}: corrupted bytes (\d+)\.\.(\d+) .*skip_corrupt=True') as err:
            read()
        start, end = (int(v) for v in re.search(r'corrupted bytes (\d+)\.\.(\d+)', str(err.value)).groups())
        assert start <= where < end, (start, where, end)


def test_skipping_returns_the_intact_messages_and_counts_the_lost_ones(recorded, tmp_path):
    from emo_prediction.training.bag_reading import BagReport
    bag, mcap, where = damaged_copy(recorded, tmp_path / 'damaged', garbage_in_the_middle)
    report = BagReport()
    with pytest.warns(UserWarning, match=rf'skipped {mcap}: corrupted bytes'):
        messages = list(read_messages(bag, '/emo/face/landmarks', skip_corrupt=True, report=report))
    assert 0 < len(messages) < N and len(messages) + report.skipped == N
    assert len(report.corrupt) == 1 and report.corrupt[0].file == str(mcap)
    assert report.corrupt[0].start <= where < report.corrupt[0].end
    kept = np.array([m.header.stamp.sec - 1000 for _, m in messages])
    assert all(np.all(np.array(m.face_xy) == i) for i, (_, m) in zip(kept, messages)), 'a damaged message got through'
    assert np.array_equal(kept, np.sort(kept)) and len(set(kept)) == len(kept)
