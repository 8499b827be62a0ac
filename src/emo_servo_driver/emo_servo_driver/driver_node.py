"""Driver node (lifecycle): MotorCommands + the face's position -> 26 servo goals, safely.

    ros2 run emo_servo_driver driver_node --ros-args -p port:=/dev/ttyUSB0
    ros2 run emo_sim simulated_bus_node --ros-args -p port:=/tmp/ttyDXL   # no servos: a simulated chain,
    ros2 run emo_servo_driver driver_node --ros-args -p port:=/tmp/ttyDXL -p latency_timer_ms:=8   # same code
    ros2 lifecycle set /driver_node configure && ros2 lifecycle set /driver_node activate
    ros2 service call /driver_node/estop std_srvs/srv/Trigger

A thin lifecycle shell around HeadController (the control policy: controller.py)
and a DynamixelBus (the servos; a simulated chain, emo_sim, is a serial port
like any other). configure: loads and checks the head, opens the bus (waiting
up to `port_wait_s` for the port to appear and the servos to answer), writes every servo's motion profile (Profile Velocity = its max_velocity,
Profile Acceleration = the head's dynamics: the firmware never runs a servo at
its unlimited default). activate: goal = present position, then torque on
(no jump), control loop at `rate_hz`. With `write_on_command` (the default) a
command's goals also go out the moment it arrives, through the same controller,
stepped by the real time since the previous write; only the newest command is
kept (a command is a whole pose: an older one waiting behind it is stale), and
one stamped longer ago than `watchdog_s` is refused. deactivate / shutdown:
ease to calm (bounded by `calm_timeout_s`), then torque off; once shutdown
starts, further SIGINT/SIGTERM cannot cut it short. estop: torque off at once,
retried until every servo confirms, without blocking the executor; deactivate
and activate to resume. A bus error is counted in /diagnostics and the bus
reopened (every `reconnect_interval_s` until it opens); the controller's state
(goals, hold timers) carries on across it.
"""
import math
import signal
import threading
import time
import traceback
from collections import deque

import numpy as np
import rclpy
import rclpy.time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from emo_msgs.msg import FaceLandmarks, MotorCommands, Topics
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import JointState
from std_msgs.msg import Float32, Header
from std_srvs.srv import Trigger

from emo_common.params import Param, declare, watch
from emo_description.head import HeadConfigError, load_head
from emo_servo_driver.bus import BusError, DynamixelBus, ServoHealth
from emo_servo_driver.control_table import CONTROL_TABLES
from emo_servo_driver.controller import HeadController
from emo_servo_driver.gaze import face_center
from emo_servo_driver.health import HealthPolicy
from emo_servo_driver.safety import CommandError

FUTURE_STAMP_S = 0.5     # a command stamped this far ahead of our clock is refused (clocks disagree)


PARAMS = [
    # The bus and the head: read at configure (cleanup, set, configure to change them).
    Param('head_config', '', 'head description YAML; empty = the built-in Emo head', live=True),
    Param('port', '/dev/ttyUSB0', 'serial port of the Dynamixel bus', live=True),
    Param('port_wait_s', 0.0, 'at configure, wait this long for the port to appear and a servo to answer (a USB '
          'adapter enumerating at boot, a simulated chain starting beside the driver)', low=0.0, high=600.0, live=True),
    Param('baudrate', 1000000, 'bus baud rate', low=9600, high=10_500_000, live=True),
    Param('latency_timer_ms', 1, "USB latency timer of the adapter (ms): packet timeouts are sized by it (8 for "
          "emo_sim's simulated chain, which answers from Python)", low=1, high=255, live=True),
    Param('gaze', True, 'follow the face with eyes and neck', live=True),
    Param('fast_sync_read', True, 'read the positions with Fast Sync Read (one reply packet; X-series firmware '
          'v45+) when the whole chain answers it at connect; else the plain Sync Read', live=True),
    Param('autostart', True, 'configure and activate at start (false: wait for lifecycle transitions)'),
    # The loop: changed at run time.
    Param('rate_hz', 50.0, 'control loop rate', low=1.0, high=1000.0, live=True),
    Param('write_on_command', True, 'also write goals (same controller) as soon as a command arrives, not at the '
          'next cycle', live=True),
    Param('watchdog_s', 0.5, 'ease to calm after this long without commands; older commands are refused',
          low=0.01, high=10.0, live=True),
    Param('calm_timeout_s', 3.0, 'longest time to ease to calm before torque off', low=0.0, high=60.0, live=True),
    Param('reconnect_interval_s', 0.5, 'after a bus error, try to reopen the bus this often', low=0.01, high=60.0,
          live=True),
]
# Read at configure: a configured driver refuses a change (cleanup first).
AT_CONFIGURE = ('head_config', 'port', 'port_wait_s', 'baudrate', 'latency_timer_ms', 'gaze', 'fast_sync_read')


class DriverNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__('driver_node', **kwargs)
        declare(self, PARAMS)
        watch(self, PARAMS, self.apply_parameters)
        self.p = {}
        self.head = self.bus = self.ctl = self.policy = None
        self.timer = self.estop_timer = None
        self._entities = []          # what configure created, destroyed by cleanup
        self._unwritten_stamp = None
        self.active = self.estopped = self.estop_confirmed = False
        self.counts = {'rejected_commands': 0, 'stale_commands': 0, 'bus_errors': 0, 'reconnects': 0,
                       'estop_retries': 0, 'internal_errors': 0}
        self.last_reject = self.last_bus_error = ''
        self._reconnect_at = 0.0
        self.health = []
        self._health_next = 0
        self.latency_ms = deque(maxlen=500)
        self.cycle_ms = deque(maxlen=500)
        self.positions = None
        # One transaction on the port at a time: dynamixel-sdk is not thread-safe, and a stop, an e-stop or a
        # transition called from another thread than the loop's must wait for the cycle in flight.
        self._bus_lock = threading.RLock()

    def apply_parameters(self, changes: dict) -> None:
        """`ros2 param set` at run time: the loop's rate, the watchdog and timeouts at once; the bus and the
        head only while unconfigured (they are read at configure)."""
        locked = [n for n in changes if n in AT_CONFIGURE and self.ctl is not None]
        if locked:
            raise ValueError(f"{', '.join(locked)}: read at configure; deactivate and clean up the driver first")
        if not self.p:
            return                              # unconfigured: configure reads the parameters
        self.p.update({k: v for k, v in changes.items() if k in self.p})
        if 'watchdog_s' in changes and self.ctl is not None:
            self.ctl.watchdog_s = float(changes['watchdog_s'])
        if 'rate_hz' in changes and self.timer is not None:
            self.destroy_timer(self.timer)
            self.timer = self.create_timer(1.0 / self.p['rate_hz'], self.control_cycle)

    # --- lifecycle -------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.p = {n: self.get_parameter(n).value for n in (
            'head_config', 'port', 'port_wait_s', 'baudrate', 'latency_timer_ms', 'fast_sync_read', 'rate_hz',
            'write_on_command', 'watchdog_s', 'gaze', 'calm_timeout_s', 'reconnect_interval_s')}
        try:
            self.head = load_head(p['head_config'] or None, set(CONTROL_TABLES))
        except HeadConfigError as err:
            self.get_logger().error(str(err))
            return TransitionCallbackReturn.FAILURE
        if not (p['rate_hz'] > 0 and p['watchdog_s'] > 0 and p['calm_timeout_s'] >= 0):
            self.get_logger().error('rate_hz and watchdog_s must be positive, calm_timeout_s not negative')
            return TransitionCallbackReturn.FAILURE
        try:
            self._open_bus()
            refused = self._write_profiles()
            if refused:
                self.get_logger().warning(f'motion profile not written to: {", ".join(refused)}')
        except BusError as err:
            self.get_logger().error(f'{err}; check the port, baud rate and power')
            self._close_bus()
            return TransitionCallbackReturn.FAILURE
        self.ctl = HeadController(self.head, p['watchdog_s'], p['gaze'])
        self.health = [ServoHealth() for _ in self.head.servos]
        self.policy = HealthPolicy(self.head)
        self.joint_pub = self.create_lifecycle_publisher(JointState, Topics.JOINT_STATES, 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, Topics.DIAGNOSTICS, 10)
        self.latency_pub = self.create_publisher(Float32, Topics.STAMP_TO_GOAL_LATENCY, 10)
        # Every goal set written, stamped with the controller's time of the step: what the servos were told.
        self.goal_pub = self.create_lifecycle_publisher(JointState, '~/goal_positions', 100)
        self._entities = [
            ('lifecycle_publisher', self.joint_pub), ('lifecycle_publisher', self.goal_pub),
            ('publisher', self.diag_pub), ('publisher', self.latency_pub),
            # Depth 1: each command is a whole pose, so one that waited behind a newer one is stale; a deeper
            # queue let a stalled loop work through old poses (one bus write each) and stay behind.
            ('subscription', self.create_subscription(MotorCommands, Topics.MOTOR_COMMANDS, self.on_commands, 1)),
            ('subscription', self.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, self.on_face, 10)),
            ('service', self.create_service(Trigger, '~/estop', self.on_estop)),
            ('timer', self.create_timer(1.0, self.publish_diagnostics))]
        self.get_logger().info(f'head {self.head.name}: {len(self.head.servos)} servos on {self.bus.name}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            # Goal = where each servo is before torque on: nothing jumps, whatever happened while it was off.
            self.bus.sync_write_goals(self.ctl.start(self.bus.sync_read_positions()))
            failed = self.bus.enable_torque(True)
        except BusError as err:
            self.get_logger().error(f'cannot enable torque: {err}')
            return TransitionCallbackReturn.FAILURE
        if failed:
            self.get_logger().warning(f'torque on not confirmed by: {", ".join(failed)}')
        self._cancel_estop_retry()
        self.estopped = self.estop_confirmed = False
        self.active = True
        self._clock_anchor = (time.monotonic(), self.get_clock().now().nanoseconds)
        self.timer = self.create_timer(1.0 / self.p['rate_hz'], self.control_cycle)
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        if not self.estopped:     # after an e-stop torque is off (or being retried): nothing to ease
            self.go_calm_then_relax()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._destroy_entities()
        self._close_bus()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.stop_safely()
        self._destroy_entities()
        return TransitionCallbackReturn.SUCCESS

    def stop_safely(self) -> None:
        """Calm, torque off, close: bounded by calm_timeout_s, and safe to call more than once."""
        self._stop_loop()
        if self.bus is not None and self.bus.connected and not self.estopped:
            self.go_calm_then_relax()
        self._cancel_estop_retry()
        self._close_bus()

    # --- inputs ------------------------------------------------------------------------
    def on_commands(self, msg: MotorCommands) -> None:
        if self.ctl is None:
            return
        stale = self._stamp_problem(msg.header.stamp)
        try:
            if stale:
                self.counts['stale_commands'] += 1
                raise CommandError(stale)
            self.ctl.command(msg.commands, time.monotonic())
        except CommandError as err:
            self.counts['rejected_commands'] += 1
            self.last_reject = f'rejected MotorCommands: {err}'
            self.get_logger().error(self.last_reject, throttle_duration_sec=2.0)
            return
        # Latency: from its stamp until its goals are on the bus (an unstamped command has none).
        stamp = msg.header.stamp
        self._unwritten_stamp = stamp if stamp.sec or stamp.nanosec else None
        if self.p['write_on_command'] and self.timer is not None:
            # Out now rather than up to a cycle later; the controller steps by the real time since
            # the previous write, whichever path made it.
            self.drive(read=False)

    def _stamp_problem(self, stamp) -> str:
        """Why a command's stamp makes it unusable ('' = fine). An unstamped command (0) is taken as new."""
        ns = stamp.sec * 1_000_000_000 + stamp.nanosec
        if ns == 0:
            return ''
        if stamp.sec < 0:
            return f'negative stamp {stamp.sec}.{stamp.nanosec:09d}'
        age = (self.get_clock().now().nanoseconds - ns) / 1e9
        if age > self.p['watchdog_s']:
            return f'stale: stamped {age:.3f} s ago (watchdog_s {self.p["watchdog_s"]})'
        if age < -FUTURE_STAMP_S:
            return f'stamped {-age:.3f} s in the future'
        return ''

    def on_face(self, msg: FaceLandmarks) -> None:
        if self.ctl is not None:
            center = face_center(msg.image_xy, msg.image_width, msg.image_height) if msg.face_detected else None
            self.ctl.look_at(center, time.monotonic())

    def on_estop(self, request, response):
        """Torque off now; retried on a timer until every servo confirms (never blocks the executor)."""
        self.estopped = True
        self._stop_loop()
        confirmed, detail = self._torque_off()
        if not confirmed and self.estop_timer is None:
            self.estop_timer = self.create_timer(0.2, self._retry_estop)
        response.success = confirmed
        response.message = ('torque off on every servo; deactivate and activate to resume' if confirmed
                            else f'torque off not confirmed ({detail}); retrying every 0.2 s')
        self.get_logger().warning(f'E-STOP: {response.message}')
        return response

    def _torque_off(self):
        if self.bus is None:
            return False, 'no bus'
        try:
            with self._bus_lock:
                if not self.bus.connected:
                    self.bus.connect()
                failed = self.bus.enable_torque(False)
        except BusError as err:
            return False, str(err)
        self.estop_confirmed = not failed
        return self.estop_confirmed, ('not confirmed by ' + ', '.join(failed)) if failed else ''

    def _retry_estop(self) -> None:
        self.counts['estop_retries'] += 1
        confirmed, detail = self._torque_off()
        if confirmed:
            self.get_logger().warning('E-STOP: torque off confirmed on every servo')
            self._cancel_estop_retry()

    def _cancel_estop_retry(self) -> None:
        if self.estop_timer is not None:
            self.destroy_timer(self.estop_timer)
            self.estop_timer = None

    # --- the loop ----------------------------------------------------------------------
    def control_cycle(self) -> None:
        self.drive(read=True)

    def drive(self, read: bool) -> None:
        """Write the next goals (and, on a cycle, read the positions back). An error nobody foresaw is
        logged with its traceback and counted, and the next cycle tries again: the servos hold their
        last goals meanwhile, and the node stays up to be stopped safely."""
        try:
            with self._bus_lock:
                self._drive(read)
        except Exception:  # noqa: BLE001 - the last line of defence of the control loop
            if not self.context.ok():
                return          # a cycle in flight when Ctrl-C/SIGTERM shut the context down: nothing wrong
            self.counts['internal_errors'] += 1
            self.get_logger().error(f'internal error in the control loop:\n{traceback.format_exc()}',
                                    throttle_duration_sec=5.0)

    def _drive(self, read: bool) -> None:
        if self.estopped or self.ctl is None or not self.active:
            return
        if not self.bus.connected:
            self._reconnect()
            return
        t0 = time.monotonic()
        fresh = self.ctl.fresh(t0)
        goals = self.ctl.step(t0)
        try:
            self.bus.sync_write_goals(goals)
            if self.goal_pub.get_subscription_count():     # 80 a second: built only for a listener
                self.goal_pub.publish(self._joint_state(goals, self._controller_stamp(t0)))
            if fresh and self._unwritten_stamp is not None:
                # Command stamp (its source image's capture time, or its creation) -> goal written.
                stamp = self._unwritten_stamp
                now = self.get_clock().now().nanoseconds
                self.latency_ms.append((now - stamp.sec * 1_000_000_000 - stamp.nanosec) / 1e6)
                self.latency_pub.publish(Float32(data=float(self.latency_ms[-1])))
                self._unwritten_stamp = None
            if read:
                self.positions = self.bus.sync_read_positions()
                self._read_some_health()
        except BusError as err:
            self._bus_failed(err)
            return
        if read:
            self.publish_joint_states()
            self.cycle_ms.append((time.monotonic() - t0) * 1e3)

    def publish_joint_states(self) -> None:
        self.joint_pub.publish(self._joint_state(self.positions, self.get_clock().now().to_msg()))

    def _controller_stamp(self, t: float):
        """The controller's time t (monotonic) as a ROS time, anchored to the node's clock at activate: the
        stamps of ~/goal_positions differ exactly as the controller's steps did (two clocks read one
        after the other can be a scheduler preemption apart)."""
        mono0, ros0 = self._clock_anchor
        return rclpy.time.Time(nanoseconds=ros0 + int(round((t - mono0) * 1e9))).to_msg()

    def _joint_state(self, ticks, stamp) -> JointState:
        # Radians: each URDF joint's angle (emo_description: its zero and sign), robot_state_publisher's
        # input; a servo with no joint, from its centre. NaN where a servo did not answer.
        return JointState(header=Header(stamp=stamp, frame_id=''), name=list(self.head.names),
                          position=self.head.ticks_to_radians(ticks).tolist())

    def go_calm_then_relax(self) -> None:
        """Ease every servo to its calm pose within its limits, then turn torque off (bounded in time).
        A KeyboardInterrupt cannot cut it short: torque off is always attempted."""
        if self.bus is None or self.ctl is None:
            return
        period = 1.0 / self.p['rate_hz']
        deadline = time.monotonic() + self.p['calm_timeout_s']
        self.ctl.ease_to_calm()
        try:
            while time.monotonic() < deadline:
                try:
                    with self._bus_lock:           # a step at a time: an e-stop can cut in between
                        if not self.bus.connected or self.estopped:
                            break
                        self.bus.sync_write_goals(self.ctl.step(time.monotonic()))
                        if self.ctl.calm_reached() and self.ctl.calm_reached(self.bus.sync_read_positions()):
                            break
                    time.sleep(period)
                except KeyboardInterrupt:
                    continue
        except BusError as err:
            self.get_logger().error(f'while going calm: {err}')
        finally:
            for _ in range(3):
                try:
                    if self._torque_off()[0]:
                        break
                except KeyboardInterrupt:
                    continue

    # --- helpers -----------------------------------------------------------------------
    def _open_bus(self) -> None:
        with self._bus_lock:
            p = self.p
            self.bus = DynamixelBus(self.head.servos, p['port'], p['baudrate'], p['latency_timer_ms'],
                                    p['fast_sync_read'])
            deadline = time.monotonic() + p['port_wait_s']
            while True:      # until the port opens and a servo answers (else BusError), or port_wait_s has passed
                try:
                    silent = self.bus.connect()
                    break
                except BusError:
                    if time.monotonic() >= deadline:
                        raise
                time.sleep(0.2)
            if silent:
                self.get_logger().warning(f'servos not answering: {", ".join(silent)}')
            self.get_logger().info(f"positions read with {'Fast Sync Read' if self.bus.fast else 'Sync Read'}")

    def _close_bus(self) -> None:
        if self.bus is not None:
            with self._bus_lock:
                self.bus.disconnect()

    def _bus_failed(self, err: Exception) -> None:
        self.counts['bus_errors'] += 1
        self.last_bus_error = str(err)
        self.get_logger().error(f'bus error: {err}; reopening', throttle_duration_sec=2.0)
        self.bus.disconnect()
        self._reconnect_at = 0.0
        self._reconnect()

    def _reconnect(self) -> None:
        """Reopen the bus (at most every reconnect_interval_s) and carry on from the controller's state."""
        now = time.monotonic()
        if now < self._reconnect_at:
            return
        self._reconnect_at = now + self.p['reconnect_interval_s']
        try:
            self.bus.connect()
            # A servo that browned out came back with the unlimited factory profile.
            self._write_profiles()
            self.ctl.resync(self.bus.sync_read_positions())
            self.bus.sync_write_goals(self.ctl.goals)
            self.bus.enable_torque(True)
            self.counts['reconnects'] += 1
        except BusError as again:
            self.last_bus_error = f'{self.last_bus_error}; reopen failed: {again}'
            self.bus.disconnect()

    def _write_profiles(self) -> list:
        """Every servo's Profile Velocity (its max_velocity) and Profile Acceleration (the head's dynamics)."""
        return self.bus.write_profiles(self.head.max_velocity, self.head.dynamics.max_acceleration)

    def _read_some_health(self) -> None:
        """Health of one servo per cycle (a full round every len(servos) cycles), and the policy's actions."""
        i = self._health_next
        self._health_next = (i + 1) % len(self.head.servos)
        self.health[i] = self.bus.read_health_of(i)
        for action, j in self.policy.observe(i, self.health[i], time.monotonic()):
            name = self.head.names[j]
            message = self.policy.status(j)[1]
            if action == 'torque_off':
                self.bus.enable_torque_of(j, False)
                self.get_logger().error(f'servo {name}: {message}')
            elif action == 'reboot':
                self.bus.reboot(j)
                self.get_logger().warning(f'servo {name}: {message}')
            elif action == 'restart':
                # Calm-first for one servo: its profile again (a reboot resets it), goal = where it is, torque on.
                self._write_profiles()
                self.ctl.restart(np.arange(len(self.head.servos)) == j, self.bus.sync_read_positions())
                self.bus.sync_write_goals(self.ctl.goals)
                self.bus.enable_torque_of(j, True)
                self.get_logger().warning(f'servo {name}: fault cleared, torque on again')
            elif action == 'brownout':
                self.get_logger().error(f'servo {name}: torque found off (a brown-out reset?); restarting '
                                        'the head calm-first')
                self._restart_head()
        self.ctl.speed_scale = self.policy.speed_scale.copy()

    def _restart_head(self) -> None:
        """The calm-first path of activation: profiles, goal = present position, torque on (except on the
        servos the health policy keeps off); the face then eases to calm and follows the commands again."""
        self._write_profiles()
        self.bus.sync_write_goals(self.ctl.start(self.bus.sync_read_positions()))
        for j in np.flatnonzero(~self.policy.off()):
            self.bus.enable_torque_of(int(j), True)

    def _stop_loop(self) -> None:
        self.active = False
        if self.timer is not None:
            self.destroy_timer(self.timer)
            self.timer = None

    def _destroy_entities(self) -> None:
        destroy = {'lifecycle_publisher': self.destroy_lifecycle_publisher, 'publisher': self.destroy_publisher,
                   'subscription': self.destroy_subscription, 'service': self.destroy_service,
                   'timer': self.destroy_timer}
        for kind, entity in self._entities:
            destroy[kind](entity)
        self._entities = []

    def publish_diagnostics(self) -> None:
        now = time.monotonic()
        statuses = []
        age = now - self.ctl.command_time if self.ctl else math.inf
        top = DiagnosticStatus(name=f'{self.get_name()}: servo driver', hardware_id=self.p.get('port', ''))
        connected = self.bus is not None and self.bus.connected
        if self.estopped:
            top.level = DiagnosticStatus.ERROR
            top.message = 'E-STOP: torque off' if self.estop_confirmed else 'E-STOP: torque off NOT confirmed, retrying'
        elif not connected:
            top.level, top.message = DiagnosticStatus.ERROR, f'bus closed: {self.last_bus_error}'
        elif self.counts['bus_errors'] and self.last_bus_error:
            top.level, top.message = DiagnosticStatus.WARN, f'bus errors (reopened): {self.last_bus_error}'
        elif self.counts['rejected_commands'] and self.last_reject:
            top.level, top.message = DiagnosticStatus.WARN, self.last_reject
        elif age > self.p['watchdog_s']:
            top.level, top.message = DiagnosticStatus.OK, 'no recent commands: holding the calm face'
        else:
            top.level, top.message = DiagnosticStatus.OK, 'driving'
        stats = self.bus.stats if self.bus is not None else None
        values = {'command_age_s': f'{age:.3f}' if math.isfinite(age) else 'never', **self.counts,
                  'sync_reads': stats.reads if stats else 0, 'read_failures': stats.read_failures if stats else 0,
                  'cycle_ms_p50': f'{np.percentile(self.cycle_ms, 50):.2f}' if self.cycle_ms else 'nan',
                  'stamp_to_goal_ms_p50': f'{np.percentile(self.latency_ms, 50):.2f}' if self.latency_ms else 'nan',
                  'stamp_to_goal_ms_p99': f'{np.percentile(self.latency_ms, 99):.2f}' if self.latency_ms else 'nan'}
        top.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        statuses.append(top)
        for i, servo in enumerate(self.head.servos if self.head else []):
            missing = stats.missing.get(servo.name, 0) if stats else 0
            h = self.health[i] if i < len(self.health) else ServoHealth()
            st = DiagnosticStatus(name=f'{self.get_name()}: servo {servo.name}', hardware_id=f'dynamixel id {servo.id}')
            level, message = self.policy.status(i) if self.policy else (0, 'ok')
            if missing >= 3:
                level, message = max(level, 2), f'not answering ({missing} reads missed); {message}'
            elif missing and level == 0:
                level, message = 1, f'{missing} reads missed'
            st.level, st.message = bytes([level]), message
            p = self.policy
            st.values = [KeyValue(key='temperature_c', value=f'{h.temperature_c:.0f}'),
                         KeyValue(key='voltage_v', value=f'{h.voltage_v:.1f}'),
                         KeyValue(key='hardware_error_status', value=str(h.hardware_error)),
                         KeyValue(key='communication_misses', value=str(missing)),
                         KeyValue(key='speed_scale', value=f'{p.speed_scale[i]:.2f}' if p else '1.00'),
                         KeyValue(key='reboots', value=str(p.reboots[i] if p else 0)),
                         KeyValue(key='restarts', value=str(p.restarts[i] if p else 0))]
            statuses.append(st)
        self.diag_pub.publish(DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=statuses))


def main(args=None):
    rclpy.init(args=args)
    node = DriverNode()
    if node.get_parameter('autostart').value and node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
        node.trigger_activate()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if not rclpy.ok():
            pass  # a callback in flight when Ctrl-C/SIGTERM shut the context down
        else:
            raise
    finally:
        # From here on a second SIGINT (launch forwards one; `timeout -s INT` sends another) or a SIGTERM
        # must not land inside calm-then-torque-off: on a real head the servos would stay torqued.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        node.stop_safely()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
