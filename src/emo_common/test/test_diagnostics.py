"""Topic rate checks (diagnostic_updater's FrequencyStatus, small) and the Updater that publishes them."""
import pytest
from diagnostic_msgs.msg import DiagnosticStatus

from emo_common.diagnostics import TopicFrequency


def values(status):
    return {kv.key: kv.value for kv in status.values}


def test_a_topic_at_its_rate_is_ok_and_too_slow_or_too_fast_warns():
    f = TopicFrequency('node: /emo/face/landmarks', min_hz=10.0, max_hz=120.0, window_s=5.0)
    t0 = f.started
    assert f.status(t0 + 0.5).message == 'starting'
    for k in range(150):                                   # 30 Hz for 5 s
        f.tick(t0 + k / 30.0)
    st = f.status(t0 + 5.0)
    assert st.level == DiagnosticStatus.OK and float(values(st)['frequency_hz']) == pytest.approx(30.0, abs=0.5)
    assert st.name == 'node: /emo/face/landmarks topic status'
    st = f.status(t0 + 9.0)                                # only the last 5 s count: 1 s of messages left
    assert st.level == DiagnosticStatus.WARN and 'too low' in st.message
    assert f.status(t0 + 20.0).message == 'no messages'
    fast = TopicFrequency('x', min_hz=10.0, max_hz=40.0)
    for k in range(500):
        fast.tick(fast.started + k / 100.0)
    assert 'too high' in fast.status(fast.started + 5.0).message
    assert values(fast.status(fast.started + 5.0))['messages'] == '500'


def test_the_updater_publishes_every_task_on_diagnostics(ros_node):
    from diagnostic_msgs.msg import DiagnosticArray

    from emo_common.diagnostics import Updater
    from emo_common.testing import spin_until
    node, ex = ros_node
    got = []
    node.create_subscription(DiagnosticArray, '/diagnostics', got.append, 10)
    updater = Updater(node, period_s=0.1)
    rate = TopicFrequency('test: /x', 1.0)
    updater.add(lambda: DiagnosticStatus(name='test: status', message='fine'))
    updater.add(rate.status)
    updater.add(lambda: None)
    assert spin_until(ex, lambda: len(got) >= 2, 5.0)
    assert [s.name for s in got[-1].status] == ['test: status', 'test: /x topic status']


def test_the_aggregator_config_covers_every_node_of_the_graphs():
    pytest.importorskip('emo_bringup')
    import pathlib

    import yaml

    from emo_bringup.graph import config_dir, graph_nodes
    doc = yaml.safe_load(pathlib.Path(config_dir(), 'diagnostics_aggregator.yaml').read_text())
    analyzers = doc['analyzers']['ros__parameters']
    prefixes = [p for a in analyzers.values() if isinstance(a, dict) for p in a['startswith']]
    assert all(a['type'] == 'diagnostic_aggregator/GenericAnalyzer' for a in analyzers.values() if isinstance(a, dict))
    for graph in ('coexpress', 'babble'):
        for spec in graph_nodes(graph):
            assert any(spec.name.startswith(p) for p in prefixes), spec.name
