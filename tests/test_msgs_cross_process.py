"""Each emo_msgs type published by one OS process arrives, field for field, in another."""
import subprocess
import sys
import pathlib

import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from msg_samples import TOPICS, samples  # noqa: E402
from emo_common.testing import field_diffs, spin_until  # noqa: E402

pytestmark = pytest.mark.ros


def test_every_emo_msgs_type_crosses_processes(ros_context):
    publisher = subprocess.Popen(
        [sys.executable, str(pathlib.Path(__file__).with_name('msg_samples.py'))])
    node = rclpy.create_node('emo_msg_sample_receiver', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    received = {}
    try:
        for msg_type, topic in TOPICS.items():
            node.create_subscription(
                msg_type, topic, lambda m, t=msg_type: received.setdefault(t, m), 10)
        assert spin_until(executor, lambda: len(received) == len(TOPICS), timeout_s=30.0), \
            f'received only {[t.__name__ for t in received]} from process {publisher.pid}'
    finally:
        publisher.terminate()
        publisher.wait(timeout=10)
        executor.shutdown()
        node.destroy_node()

    expected = samples(publisher.pid)
    for msg_type, msg in received.items():
        assert msg.header.frame_id.endswith(f'pid{publisher.pid}'), 'not from the publisher process'
        assert field_diffs(expected[msg_type], msg) == [], msg_type.__name__
