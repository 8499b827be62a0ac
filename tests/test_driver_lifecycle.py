"""The driver's lifecycle, e-stop and shutdown over real rclpy and DDS (issue 13, deliverable 5),
and its bus faults: a pulled adapter, stale commands."""
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from emo_msgs.msg import MotorCommands, Topics  # noqa: E402
from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.lifecycle import TransitionCallbackReturn  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from emo_servo_driver.driver_node import DriverNode  # noqa: E402
from emo_sim.dxl_sim import SimulatedServoChain  # noqa: E402
from emo_description.head import load_head  # noqa: E402
from emo_common.testing import spin_until  # noqa: E402
from sim_chain import on_chain  # noqa: E402

pytestmark = pytest.mark.ros
HEAD = load_head()


def entities(node):
    return {k: len(list(getattr(node, k))) for k in ('subscriptions', 'publishers', 'services', 'timers', 'clients')}


def test_configure_cleanup_cycles_leave_nothing_behind(ros_context, chain):
    """Each configure/cleanup once left a subscription pair, the e-stop service, a timer and publishers."""
    driver = DriverNode(context=ros_context, parameter_overrides=on_chain(chain))
    try:
        before = entities(driver)
        configured = []
        for _ in range(4):
            assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
            configured.append(entities(driver))
            assert driver.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
            assert entities(driver) == before
        assert all(c == configured[0] for c in configured) and configured[0] != before
    finally:
        driver.on_shutdown(None)
        driver.destroy_node()


@pytest.fixture
def running(ros_context, ros_node, chain):
    """An active driver spun on its own executor, on the simulated chain (in this process)."""
    driver = DriverNode(context=ros_context, parameter_overrides=on_chain(chain, [Parameter('gaze', value=False)]))
    assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS
    executor = MultiThreadedExecutor(num_threads=2, context=ros_context)
    executor.add_node(driver)
    threading.Thread(target=executor.spin, daemon=True).start()
    yield driver, ros_node
    executor.shutdown()
    driver.on_shutdown(None)
    driver.destroy_node()


def call(node, executor, name, timeout_s=10.0):
    client = node.create_client(Trigger, name)
    assert client.wait_for_service(timeout_sec=10.0)
    started = time.monotonic()
    future = client.call_async(Trigger.Request())
    assert spin_until(executor, future.done, timeout_s=timeout_s)
    return future.result(), time.monotonic() - started


def test_estop_retries_torque_off_until_confirmed_and_never_blocks(chain, running):
    driver, (node, executor) = running
    chain.faults.silent_ids.update(chain.order)       # nobody answers: torque off cannot be confirmed
    result, took = call(node, executor, '/driver_node/estop')
    assert not result.success and 'retrying' in result.message and took < 3.0
    spin_until(executor, lambda: False, timeout_s=0.5)
    assert not driver.estop_confirmed and driver.counts['estop_retries'] >= 1     # still trying
    chain.faults.silent_ids.clear()                          # the bus comes back
    assert spin_until(executor, lambda: driver.estop_confirmed, timeout_s=5.0)
    assert not chain.torque().any()
    retries = driver.counts['estop_retries']
    spin_until(executor, lambda: False, timeout_s=0.5)
    assert driver.counts['estop_retries'] == retries                              # and then stops
    # Deactivate after an e-stop: nothing to ease (torque is off), so no 3 s in the executor.
    started = time.monotonic()
    assert driver.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert time.monotonic() - started < 0.5


def test_activate_after_an_estop_starts_where_the_face_sagged(chain, running):
    """e-stop -> deactivate -> activate once jumped the jaw 348 ticks in one cycle."""
    driver, (node, executor) = running
    jaw = HEAD.index['jaw']
    pub = node.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 1)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout_s=10.0)
    c = HEAD.calm_commands
    c[10] = 1.0
    for _ in range(60):
        pub.publish(MotorCommands(commands=[float(x) for x in c]))
        spin_until(executor, lambda: False, timeout_s=0.02)
    assert chain.positions()[jaw] > HEAD.calm[jaw] + 300
    assert call(node, executor, '/driver_node/estop')[0].success
    servo = chain.servos[HEAD.servos[jaw].id]
    with servo.lock:
        servo.position -= 120.0                                   # limp: the jaw sags
    sagged = chain.positions()[jaw]
    assert driver.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert abs(servo._get('goal_position') - sagged) <= 1            # goal = present before torque on
    assert chain.torque().all()


def test_a_stale_command_is_refused(chain, running):
    driver, (node, executor) = running
    pub = node.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 1)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0, timeout_s=10.0)
    c = HEAD.calm_commands
    c[10] = 1.0
    old = node.get_clock().now().nanoseconds - int(2e9)            # its image is 2 s old
    stale = Header(stamp=rclpy.time.Time(nanoseconds=old).to_msg())
    negative = Header()
    negative.stamp.sec = -5
    for _ in range(20):
        for header in (stale, negative):
            pub.publish(MotorCommands(header=header, commands=[float(x) for x in c]))
        spin_until(executor, lambda: False, timeout_s=0.02)
    assert spin_until(executor, lambda: driver.counts['stale_commands'] >= 10, timeout_s=5.0)
    jaw = HEAD.index['jaw']
    assert abs(chain.positions()[jaw] - HEAD.calm[jaw]) < 5


def test_a_pulled_adapter_is_reopened_and_the_face_carries_on(ros_context, tmp_path):
    """The port disappears under the driver (USB unplugged) and comes back behind the same link."""
    sim = SimulatedServoChain(HEAD.servos, dynamics=HEAD.dynamics, link=str(tmp_path / 'ttyDXL')).start()
    driver = DriverNode(context=ros_context, parameter_overrides=[
        Parameter('port', value=sim.port), Parameter('latency_timer_ms', value=8),
        Parameter('gaze', value=False), Parameter('reconnect_interval_s', value=0.2)])
    executor = MultiThreadedExecutor(num_threads=2, context=ros_context)
    try:
        assert driver.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert driver.trigger_activate() == TransitionCallbackReturn.SUCCESS
        executor.add_node(driver)
        threading.Thread(target=executor.spin, daemon=True).start()
        time.sleep(0.3)
        sim.unplug()
        time.sleep(0.6)                                         # several failed reopen attempts, no crash
        assert driver.counts['bus_errors'] >= 1 and not driver.bus.connected
        sim.start()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and driver.counts['reconnects'] < 1:
            time.sleep(0.05)
        assert driver.counts['reconnects'] >= 1 and driver.bus.connected
        writes = driver.bus.stats.writes
        time.sleep(0.3)
        assert driver.bus.stats.writes > writes                 # driving again
    finally:
        executor.shutdown()
        driver.on_shutdown(None)
        driver.destroy_node()
        sim.stop()


def test_a_second_sigint_cannot_interrupt_calm_then_torque_off(tmp_path):
    """Under `ros2 launch` a second SIGINT (launch forwards one, `timeout -s INT` sends another) once
    landed inside the ease-to-calm sleep, before torque off: the servos stayed torqued."""
    from ament_index_python.packages import get_package_prefix
    sim = SimulatedServoChain(HEAD.servos, dynamics=HEAD.dynamics).start()
    exe = os.path.join(get_package_prefix('emo_servo_driver'), 'lib', 'emo_servo_driver', 'driver_node')
    log = open(tmp_path / 'driver.log', 'w')
    proc = subprocess.Popen([exe, '--ros-args', '-p', f'port:={sim.port}',
                             '-p', 'latency_timer_ms:=8', '-p', 'watchdog_s:=5.0'], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not sim.torque().all():
            time.sleep(0.05)
        assert sim.torque().all(), (tmp_path / 'driver.log').read_text()
        jaw = HEAD.servos[HEAD.index['jaw']].id
        with sim.servos[jaw].lock:                               # the face is far from calm: easing takes a while
            sim.servos[jaw]._put('goal_position', int(HEAD.max[HEAD.index['jaw']]))
            sim.servos[jaw].position = HEAD.max[HEAD.index['jaw']]
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        for _ in range(3):
            time.sleep(0.15)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        assert not sim.torque().any(), (tmp_path / 'driver.log').read_text()
        assert proc.returncode == 0, (tmp_path / 'driver.log').read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        sim.stop()


def _diag_level(driver, name):
    level, message = driver.policy.status(driver.head.index[name])
    return level, message


def test_an_overheating_servo_goes_off_alone_and_comes_back_when_cool(chain, running):
    """Overheating was only reported; now: REBOOT on the error bit, torque off while hot, the rest carry
    on, and back on (goal = where it is) once cool; its status returns to OK."""
    driver, (node, executor) = running
    jaw = HEAD.index['jaw']
    sid = HEAD.servos[jaw].id
    chain.overheat(sid, temperature_c=85)
    assert spin_until(executor, lambda: driver.policy.reboots[jaw] >= 1, timeout_s=5.0)
    assert spin_until(executor, lambda: driver.policy.hot[jaw] and not driver.policy.faulted[jaw], timeout_s=5.0)
    assert _diag_level(driver, 'jaw')[0] == 2 and 'too hot' in _diag_level(driver, 'jaw')[1]
    torque = chain.torque()
    assert not torque[jaw] and torque[np.arange(len(torque)) != jaw].all()       # only the hot one is off
    servo = chain.servos[sid]
    with servo.lock:
        servo._put('present_temperature', 45)                                    # it cooled down
    assert spin_until(executor, lambda: chain.torque()[jaw], timeout_s=5.0)
    assert _diag_level(driver, 'jaw') == (0, 'ok') and driver.policy.restarts[jaw] == 1


def test_a_brownout_restarts_the_head_calm_first(chain, running):
    driver, (node, executor) = running
    neck = HEAD.index['neck_yaw']
    sid = HEAD.servos[neck].id
    servo = chain.servos[sid]
    chain.goal_log = []
    with servo.lock:                                  # the servo reset: torque off, where it sagged to
        servo._put('torque_enable', 0)
        servo.position += 80
    sagged = servo.position
    assert spin_until(executor, lambda: chain.torque().all(), timeout_s=5.0)
    assert driver.policy.restarts[neck] == 1
    # Restarted from where it was (goal = present before torque on), not snapped back to its old goal.
    assert any(abs(goals[sid] - sagged) <= 2 for _, goals in chain.goal_log)
    assert spin_until(executor, lambda: abs(chain.positions()[neck] - HEAD.calm[neck]) < 15, timeout_s=5.0)
