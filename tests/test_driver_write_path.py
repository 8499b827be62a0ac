"""Writing goals as commands arrive (write_on_command, the default) keeps every safety limit.

The driver writes goals from two paths: its control cycle and, with write_on_command,
each command as it arrives. Both go through the same HeadController, stepped by the
real time since the previous write, so a servo never moves faster than its
max_velocity however many writes a second there are. No timing thresholds here:
each bound is checked against the time that actually passed in the same run.
"""
import threading
import time
import types

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from emo_msgs.msg import MotorCommands, Topics  # noqa: E402
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor  # noqa: E402
from rclpy.lifecycle import TransitionCallbackReturn  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402

from emo_servo_driver import driver_node as driver_module  # noqa: E402
from sim_chain import on_chain  # noqa: E402
from emo_servo_driver.driver_node import DriverNode  # noqa: E402
from emo_common.testing import spin_until  # noqa: E402

pytestmark = pytest.mark.ros


def jaw_commands(head, value: float) -> list:
    c = head.calm_commands
    c[10] = value
    return [float(x) for x in c]


def record_writes(driver):
    """Log every goal vector the driver sends to the bus, and when each drive() that sent one ran."""
    writes, spans = [], []
    write, drive = driver.bus.sync_write_goals, driver.drive

    def logged_write(goals):
        writes.append(np.array(goals, dtype=np.float64))
        return write(goals)

    def timed_drive(read):
        n, before = len(writes), driver_module.time.monotonic()
        drive(read)
        if len(writes) > n:
            spans.append((before, driver_module.time.monotonic()))

    driver.bus.sync_write_goals = logged_write
    driver.drive = timed_drive          # on_commands and control_cycle look drive() up at call time
    return writes, spans


def path_and_budget(driver, writes, spans):
    """Per servo: the distance its goal travelled over the writes, and the most the speed limit allows
    in the time between the first and the last of them (max_velocity x elapsed)."""
    goals = np.array(writes)
    path = np.abs(np.diff(goals, axis=0)).sum(axis=0)
    elapsed = spans[-1][1] - spans[0][0]
    return path, driver.head.max_velocity * elapsed, elapsed


def test_write_on_command_is_the_default(ros_context):
    driver = DriverNode(context=ros_context)
    try:
        assert driver.get_parameter('write_on_command').value is True
    finally:
        driver.destroy_node()


def test_commands_faster_than_the_cycle_keep_the_speed_limit_per_second(ros_context, chain, monkeypatch):
    """The drive logic on a clock the test sets: commands every 5 ms, cycles every 20 ms, the jaw
    told to open wide (farther than it can go in the time, so it runs at its limits). A controller
    stepped by the cycle period on every write (not the real dt) would let the jaw travel five
    times as far as its max_velocity allows."""
    clock = [1000.0]
    monkeypatch.setattr(driver_module, 'time', types.SimpleNamespace(monotonic=lambda: clock[0], sleep=time.sleep))
    driver = DriverNode(context=ros_context, parameter_overrides=on_chain(chain, [Parameter('gaze', value=False)]))
    try:
        assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS   # the timer is never spun here
        head = driver.head
        writes, spans = record_writes(driver)
        for k in range(400):                                # 0.4 s of the test's clock, 1 ms steps
            if k % 5 == 0:
                driver.on_commands(MotorCommands(commands=jaw_commands(head, 1.0)))
            if k % 20 == 0:
                driver.control_cycle()
            clock[0] += 0.001
        assert len(writes) == 400 // 5 + 400 // 20          # every command and every cycle wrote goals
        path, budget, elapsed = path_and_budget(driver, writes, spans)
        assert elapsed == pytest.approx(0.395, abs=1e-6)            # first write at 0, last command at 395 ms
        assert np.all(path <= budget + 1e-6), (head.names, path - budget)
        jaw = head.index['jaw']
        # The jaw ran at its limits the whole time (speeding up at max_acceleration, then at max_velocity):
        # the bound above is what stopped it, not slack.
        v, a = head.max_velocity[jaw], head.dynamics.max_acceleration[jaw]
        assert path[jaw] == pytest.approx(budget[jaw] - v * v / (2 * a), abs=v * 0.005)
    finally:
        monkeypatch.undo()                                  # going calm at shutdown needs the real clock
        driver.on_shutdown(None)
        driver.destroy_node()


def test_over_dds_commands_faster_than_the_cycle_keep_the_speed_limit_per_second(ros_context, chain):
    """The same bound with real time and real DDS: commands published as fast as the test can,
    alternating the jaw between its ends, while the 50 Hz cycle also writes."""
    driver = DriverNode(context=ros_context, parameter_overrides=on_chain(chain, [Parameter('gaze', value=False)]))
    executor = MultiThreadedExecutor(num_threads=2, context=ros_context)
    test = rclpy.create_node('driver_write_path_test', context=ros_context)
    try:
        assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS
        writes, spans = record_writes(driver)
        executor.add_node(driver)
        threading.Thread(target=executor.spin, daemon=True).start()
        pub = test.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        local = SingleThreadedExecutor(context=ros_context)
        local.add_node(test)
        assert spin_until(local, lambda: pub.get_subscription_count() > 0, timeout_s=20.0)
        reads_before, writes_before = driver.bus.stats.reads, driver.bus.stats.writes
        for i in range(300):
            pub.publish(MotorCommands(commands=jaw_commands(driver.head, float(i % 2))))
            spin_until(local, lambda: False, timeout_s=0.004)
        executor.shutdown()
        # Command writes happened besides the cycles' (each cycle reads once and writes once).
        assert driver.bus.stats.writes - writes_before > driver.bus.stats.reads - reads_before
        path, budget, _ = path_and_budget(driver, writes, spans)
        assert np.all(path <= budget + 1e-6), (driver.head.names, path - budget)
    finally:
        executor.shutdown()
        driver.on_shutdown(None)
        driver.destroy_node()
        test.destroy_node()


def test_a_stalled_driver_takes_the_newest_command_not_a_backlog(ros_context, chain):
    """Commands sent while the driver's executor is held up: it then handles the newest one, instead
    of writing each stale pose in turn behind it (which kept a stalled loop behind)."""
    driver = DriverNode(context=ros_context, parameter_overrides=on_chain(chain))
    handled = []
    on_commands = driver.on_commands

    def counted(msg):
        handled.append(msg.commands[10])
        on_commands(msg)
    driver.on_commands = counted                         # before configure creates the subscription
    test = rclpy.create_node('driver_backlog_test', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    try:
        assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS
        executor.add_node(driver)
        executor.add_node(test)
        pub = test.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
        assert spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout_s=20.0)
        spin_until(executor, lambda: False, timeout_s=0.2)
        handled.clear()
        values = [0.1 + 0.05 * i for i in range(10)]
        for v in values:                                 # the driver's executor is not spinning meanwhile
            pub.publish(MotorCommands(commands=jaw_commands(driver.head, v)))
        time.sleep(1.0)                                  # let DDS deliver them all
        assert spin_until(executor, lambda: handled and handled[-1] == pytest.approx(values[-1]), timeout_s=10.0)
        assert len(handled) < len(values), handled       # not the whole backlog, one write each
        assert handled[0] == pytest.approx(values[-1], abs=0.051), handled
    finally:
        executor.shutdown()
        driver.on_shutdown(None)
        driver.destroy_node()
        test.destroy_node()
