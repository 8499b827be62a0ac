"""Diagnostics the way diagnostic_updater does them (it has no wheel; the same shape, small): an Updater
publishes every task's status on /diagnostics once a period, and TopicFrequency checks that a topic is
published as often as it should be.

    updater = Updater(node)                                  # /diagnostics, once a second
    rate = TopicFrequency('landmarks', min_hz=20.0, max_hz=40.0)
    updater.add(self.diagnostic_status)                      # a callable returning DiagnosticStatus(es)
    updater.add(rate.status)
    rate.tick(now)                                           # at every publish (monotonic seconds)

The frequency is measured over the last `window_s`: below min_hz (or nothing at all) is WARN, and
above max_hz is WARN (a duplicate publisher, a loop gone wild); the values say the measured rate and
its bounds, as diagnostic_updater's FrequencyStatus does.
"""
import time
from collections import deque

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


def key_values(values: dict) -> list:
    return [KeyValue(key=k, value=f'{v:.3f}' if isinstance(v, float) else str(v)) for k, v in values.items()]


class TopicFrequency:
    """How often a topic is published, against the rate it should have."""

    def __init__(self, name: str, min_hz: float, max_hz: float = float('inf'), window_s: float = 5.0,
                 hardware_id: str = ''):
        self.name, self.min_hz, self.max_hz, self.window_s = name, float(min_hz), float(max_hz), float(window_s)
        self.hardware_id = hardware_id
        self.times = deque()
        self.count = 0
        self.started = time.monotonic()

    def tick(self, now: float = None) -> None:
        self.times.append(time.monotonic() if now is None else now)
        self.count += 1

    def rate(self, now: float = None) -> float:
        now = time.monotonic() if now is None else now
        while self.times and now - self.times[0] > self.window_s:
            self.times.popleft()
        span = min(self.window_s, now - self.started)
        return len(self.times) / span if span > 0 else 0.0

    def status(self, now: float = None) -> DiagnosticStatus:
        now = time.monotonic() if now is None else now
        hz = self.rate(now)
        st = DiagnosticStatus(name=f'{self.name} topic status', hardware_id=self.hardware_id)
        if now - self.started < 1.0:
            st.level, st.message = OK, 'starting'
        elif hz < self.min_hz:
            st.level, st.message = WARN, ('no messages' if not self.times else
                                          f'frequency too low: {hz:.1f} Hz < {self.min_hz:.1f} Hz')
        elif hz > self.max_hz:
            st.level, st.message = WARN, f'frequency too high: {hz:.1f} Hz > {self.max_hz:.1f} Hz'
        else:
            st.level, st.message = OK, f'{hz:.1f} Hz'
        st.values = key_values({'frequency_hz': hz, 'min_hz': self.min_hz, 'max_hz': self.max_hz,
                                'window_s': self.window_s, 'messages': self.count})
        return st


class Updater:
    """Publishes the statuses of its tasks on /diagnostics every period_s (like diagnostic_updater.Updater)."""

    def __init__(self, node, period_s: float = 1.0, topic: str = '/diagnostics'):
        self.node = node
        self.tasks = []
        self.pub = node.create_publisher(DiagnosticArray, topic, 10)
        self.timer = node.create_timer(period_s, self.update)

    def add(self, task) -> None:
        """task(): a DiagnosticStatus, a list of them, or None."""
        self.tasks.append(task)

    def statuses(self) -> list:
        out = []
        for task in self.tasks:
            result = task()
            out += [] if result is None else (list(result) if isinstance(result, (list, tuple)) else [result])
        return out

    def update(self) -> None:
        self.pub.publish(DiagnosticArray(header=Header(stamp=self.node.get_clock().now().to_msg()),
                                         status=self.statuses()))
