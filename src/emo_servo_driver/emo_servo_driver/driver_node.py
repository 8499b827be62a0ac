"""Driver node (lifecycle): MotorCommands + the face's position -> 26 servo goals, safely.

    ros2 run emo_servo_driver driver_node --ros-args -p bus:=sim          # simulated servos on a pty
    ros2 run emo_servo_driver driver_node --ros-args -p bus:=dynamixel -p port:=/dev/ttyUSB0
    ros2 lifecycle set /driver_node configure && ros2 lifecycle set /driver_node activate
    ros2 service call /driver_node/estop std_srvs/srv/Trigger

configure: loads and checks the head, opens the bus, writes every servo's
motion profile (Profile Velocity = its max_velocity, Profile Acceleration = the
head's dynamics: the firmware never runs a servo at its unlimited default),
reads where the servos are (the first goals start there: no jump). activate: torque on, control loop
at `rate_hz`. Each cycle: the last valid commands (or calm once `watchdog_s`
passes without any), projected into the head's constraints, mapped onto the
facial servos, gaze onto eyes and neck, then SafetyFilter (clamp, hold limit,
speed limit), sync write, sync read. With `write_on_command` (the default) a
command's goals also go out the moment it arrives, through the same path and
filter, stepped by the real time since the previous write (so the speed limit
per second holds however often goals are written); only the newest command is
kept (a command is a whole pose, so an older one waiting behind it is stale).
deactivate / shutdown: ease to calm,
then torque off. estop: torque off at once; deactivate and activate again to
resume. Bus errors are reported and the bus reopened, restarting from the
present positions.
"""
import math
import time
from collections import deque

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from emo_msgs.msg import FaceLandmarks, MotorCommands, Topics
from rcl_interfaces.msg import ParameterDescriptor
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import JointState
from std_msgs.msg import Float32, Header
from std_srvs.srv import Trigger

from emo_servo_driver.bus import BusError, DynamixelBus
from emo_servo_driver.control_table import TICKS_PER_REV, decode_hardware_error
from emo_servo_driver.gaze import Gaze, face_center
from emo_servo_driver.head import HeadConfigError, load_head
from emo_servo_driver.safety import CommandError, SafetyFilter

TICK_RAD = 2 * math.pi / TICKS_PER_REV


class DriverNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__('driver_node', **kwargs)
        for name, value, text in [
                ('head_config', '', 'head description YAML; empty = the built-in Emo head'),
                ('bus', 'sim', "'sim' (simulated Dynamixel chain on a pty) or 'dynamixel'"),
                ('port', '/dev/ttyUSB0', 'serial port of the Dynamixel bus'),
                ('baudrate', 1000000, 'bus baud rate'),
                ('latency_timer_ms', 0, 'USB latency timer of the adapter (ms); 0 = 1 for dynamixel, 8 for sim'),
                ('rate_hz', 50.0, 'control loop rate'),
                ('write_on_command', True, 'also write goals (same safety filter) as soon as a command arrives, '
                                              'not at the next cycle'),
                ('watchdog_s', 0.5, 'ease to calm after this long without commands'),
                ('gaze', True, 'follow the face with eyes and neck'),
                ('calm_timeout_s', 3.0, 'longest time to ease to calm before torque off'),
                ('sim_speed_scale', 1.0, 'simulated servos: speed relative to their plant'),
                ('sim_plant', 'real', "simulated servos: 'real' (the head's dynamics: speed under load, the "
                                      "firmware's profile) or 'ideal' (max_velocity x 1.2, no acceleration limit)"),
                ('autostart', True, 'configure and activate at start (false: wait for lifecycle transitions)')]:
            self.declare_parameter(name, value, ParameterDescriptor(description=text))
        self.head = self.bus = self.sim = self.safety = self.gaze = None
        self.timer = None
        self.commands = None
        self.command_time = -math.inf
        self._unwritten_stamp = None
        self.face = None
        self.face_time = -math.inf
        self.estopped = False
        self.rejected = 0
        self.last_reject = ''
        self.bus_errors = 0
        self.last_bus_error = ''
        self.health = []
        self._health_next = 0
        self.latency_ms = deque(maxlen=500)
        self.cycle_ms = deque(maxlen=500)
        self._last_write = None
        self.positions = None

    # --- lifecycle -------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = {n: self.get_parameter(n).value for n in (
            'head_config', 'bus', 'port', 'baudrate', 'latency_timer_ms', 'rate_hz', 'write_on_command',
            'watchdog_s', 'gaze', 'calm_timeout_s', 'sim_speed_scale', 'sim_plant')}
        self.p = p
        try:
            self.head = load_head(p['head_config'] or None)
        except HeadConfigError as err:
            self.get_logger().error(str(err))
            return TransitionCallbackReturn.FAILURE
        if p['bus'] not in ('sim', 'dynamixel'):
            self.get_logger().error(f"parameter bus must be 'sim' or 'dynamixel', got {p['bus']!r}")
            return TransitionCallbackReturn.FAILURE
        if p['sim_plant'] not in ('real', 'ideal'):
            self.get_logger().error(f"parameter sim_plant must be 'real' or 'ideal', got {p['sim_plant']!r}")
            return TransitionCallbackReturn.FAILURE
        try:
            self._open_bus()
            refused = self.bus.write_profiles(self.head.max_velocity, self.head.dynamics.max_acceleration)
            if refused:
                self.get_logger().warning(f'motion profile not written to: {", ".join(refused)}')
        except BusError as err:
            self.get_logger().error(f'{err}; check the port, baud rate and power')
            self._close_bus()
            return TransitionCallbackReturn.FAILURE
        self.gaze = Gaze(self.head)
        self.joint_pub = self.create_lifecycle_publisher(JointState, Topics.JOINT_STATES, 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, Topics.DIAGNOSTICS, 10)
        self.latency_pub = self.create_publisher(Float32, Topics.STAMP_TO_GOAL_LATENCY, 10)
        # Depth 1: each command is a whole pose, so one that waited behind a newer one is stale; a deeper
        # queue let a stalled loop work through old poses (one bus write each) and stay behind.
        self.create_subscription(MotorCommands, Topics.MOTOR_COMMANDS, self.on_commands, 1)
        self.create_subscription(FaceLandmarks, Topics.FACE_LANDMARKS, self.on_face, 10)
        self.create_service(Trigger, '~/estop', self.on_estop)
        self.create_timer(1.0, self.publish_diagnostics)
        self.get_logger().info(f"head {self.head.name}: {len(self.head.servos)} servos on {p['bus']} bus "
                               f'{self.bus.port_name}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.safety = SafetyFilter(self.head, start=self._present_or_calm())
            self.bus.enable_torque(True)
        except BusError as err:
            self.get_logger().error(f'cannot enable torque: {err}')
            return TransitionCallbackReturn.FAILURE
        self.estopped = False
        self._last_write = None
        self.timer = self.create_timer(1.0 / self.p['rate_hz'], self.control_cycle)
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        self.go_calm_then_relax()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._close_bus()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        if self.bus is not None and self.bus.port is not None and not self.estopped:
            self.go_calm_then_relax()
        self._close_bus()
        return TransitionCallbackReturn.SUCCESS

    # --- inputs ------------------------------------------------------------------------
    def on_commands(self, msg: MotorCommands) -> None:
        try:
            values = SafetyFilter.check_commands(msg.commands)
        except CommandError as err:
            self.rejected += 1
            self.last_reject = f'rejected MotorCommands: {err}'
            self.get_logger().error(self.last_reject, throttle_duration_sec=2.0)
            return
        if self.safety is None:
            return
        self.commands = self.safety.project(values)
        self.command_time = time.monotonic()
        self._unwritten_stamp = msg.header.stamp  # latency: until its goals are on the bus
        if self.p['write_on_command'] and self.timer is not None:
            # Out now rather than up to a cycle later; drive() steps the same filter by the real time
            # since the previous write, whichever path made it.
            self.drive(read=False)

    def on_face(self, msg: FaceLandmarks) -> None:
        self.face = face_center(msg.image_xy, msg.image_width, msg.image_height) if msg.face_detected else None
        self.face_time = time.monotonic()

    def on_estop(self, request, response):
        self.estopped = True
        self._stop_loop()
        try:
            self.bus.enable_torque(False)
            response.success, response.message = True, 'torque off on every servo; deactivate and activate to resume'
        except (BusError, AttributeError) as err:
            response.success, response.message = False, f'torque off failed: {err}'
        self.get_logger().warning(f'E-STOP: {response.message}')
        return response

    # --- the loop ----------------------------------------------------------------------
    def control_cycle(self) -> None:
        self.drive(read=True)

    def drive(self, read: bool) -> None:
        """Write the next safe goals (and, on a cycle, read the positions back)."""
        if self.estopped or self.safety is None:
            return
        t0 = time.monotonic()
        # The real time since the previous write (a cycle's or a command's): the speed limit per second
        # and the hold timers then hold however many writes there are.
        dt = 1.0 / self.p['rate_hz'] if self._last_write is None else t0 - self._last_write
        self._last_write = t0
        fresh = t0 - self.command_time <= self.p['watchdog_s']
        commands = self.commands if fresh and self.commands is not None else self.head.calm_commands
        base = self.head.calm
        if self.p['gaze']:
            face = self.face if t0 - self.face_time < 0.5 else None
            base = self.gaze.update(face, dt, self.head.calm)
        goals = self.safety.step(self.head.commands_to_goals(commands, base), dt)
        try:
            self.bus.sync_write_goals(goals)
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
        msg = JointState(header=Header(stamp=self.get_clock().now().to_msg(), frame_id=''))
        msg.name = list(self.head.names)
        # Radians from the servo centre (2048 ticks); NaN where a servo did not answer.
        msg.position = ((self.positions - TICKS_PER_REV / 2) * TICK_RAD).tolist()
        self.joint_pub.publish(msg)

    def go_calm_then_relax(self) -> None:
        """Ease every servo to its calm pose within its speed limits, then turn torque off."""
        if self.bus is None or self.bus.port is None:
            return
        period = 1.0 / self.p['rate_hz']
        deadline = time.monotonic() + self.p['calm_timeout_s']
        try:
            if self.safety is None:
                self.safety = SafetyFilter(self.head, start=self._present_or_calm())
            while time.monotonic() < deadline:
                goals = self.safety.step(self.head.calm, period)
                self.bus.sync_write_goals(goals)
                if np.allclose(goals, self.head.calm, atol=1.0):
                    present = self.bus.sync_read_positions()
                    if np.nanmax(np.abs(present - self.head.calm), initial=0.0) < 15:
                        break
                time.sleep(period)
            self.bus.enable_torque(False)
        except BusError as err:
            self.get_logger().error(f'while going calm: {err}')

    # --- helpers -----------------------------------------------------------------------
    def _open_bus(self) -> None:
        p = self.p
        port = p['port']
        if p['bus'] == 'sim':
            from emo_servo_driver.dxl_sim import SimulatedServoChain
            dynamics = self.head.dynamics if p['sim_plant'] == 'real' else None
            self.sim = SimulatedServoChain(self.head.servos, p['sim_speed_scale'], dynamics=dynamics).start()
            port = self.sim.port
        # The simulated chain shares this process's interpreter, so it answers later than hardware.
        latency = p['latency_timer_ms'] or (8 if p['bus'] == 'sim' else 1)
        self.bus = DynamixelBus(self.head.servos, port, p['baudrate'], latency)
        silent = self.bus.connect()
        if silent:
            self.get_logger().warning(f'servos not answering: {", ".join(silent)}')

    def _close_bus(self) -> None:
        if self.bus is not None:
            self.bus.disconnect()
        if self.sim is not None:
            self.sim.stop()
            self.sim = None

    def _present_or_calm(self) -> np.ndarray:
        present = self.bus.sync_read_positions()
        return np.where(np.isnan(present), self.head.calm, present)

    def _bus_failed(self, err: Exception) -> None:
        self.bus_errors += 1
        self.last_bus_error = str(err)
        self.get_logger().error(f'bus error: {err}; reopening', throttle_duration_sec=2.0)
        try:
            self.bus.disconnect()
            self.bus.connect()
            # A servo that browned out came back with the unlimited factory profile.
            self.bus.write_profiles(self.head.max_velocity, self.head.dynamics.max_acceleration)
            self.bus.enable_torque(True)
            # Start again from where the servos are: no jump after a reconnect.
            self.safety = SafetyFilter(self.head, start=self._present_or_calm())
        except BusError as again:
            self.last_bus_error = f'{err}; reopen failed: {again}'

    def _read_some_health(self) -> None:
        """Health of one servo per cycle (a full round every len(servos) cycles)."""
        if not self.health:
            from emo_servo_driver.bus import ServoHealth
            self.health = [ServoHealth() for _ in self.head.servos]
        i = self._health_next
        self.health[i] = self.bus.read_health_of(i)
        self._health_next = (i + 1) % len(self.head.servos)

    def _stop_loop(self) -> None:
        if self.timer is not None:
            self.destroy_timer(self.timer)
            self.timer = None

    def publish_diagnostics(self) -> None:
        now = time.monotonic()
        statuses = []
        age = now - self.command_time
        top = DiagnosticStatus(name=f'{self.get_name()}: servo driver', hardware_id=self.p.get('port', ''))
        if self.estopped:
            top.level, top.message = DiagnosticStatus.ERROR, 'E-STOP: torque off'
        elif self.bus_errors and self.last_bus_error:
            top.level, top.message = DiagnosticStatus.ERROR, f'bus errors: {self.last_bus_error}'
        elif self.rejected and self.last_reject:
            top.level, top.message = DiagnosticStatus.WARN, self.last_reject
        elif age > self.p['watchdog_s']:
            top.level, top.message = DiagnosticStatus.OK, 'no recent commands: holding the calm face'
        else:
            top.level, top.message = DiagnosticStatus.OK, 'driving'
        stats = self.bus.stats if self.bus is not None else None
        values = {'command_age_s': f'{age:.3f}' if math.isfinite(age) else 'never',
                  'rejected_commands': self.rejected, 'bus_errors': self.bus_errors,
                  'sync_reads': stats.reads if stats else 0, 'read_failures': stats.read_failures if stats else 0,
                  'cycle_ms_p50': f'{np.percentile(self.cycle_ms, 50):.2f}' if self.cycle_ms else 'nan',
                  'stamp_to_goal_ms_p50': f'{np.percentile(self.latency_ms, 50):.2f}' if self.latency_ms else 'nan',
                  'stamp_to_goal_ms_p99': f'{np.percentile(self.latency_ms, 99):.2f}' if self.latency_ms else 'nan'}
        top.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        statuses.append(top)
        for i, servo in enumerate(self.head.servos if self.head else []):
            missing = stats.missing.get(servo.name, 0) if stats else 0
            h = self.health[i] if i < len(self.health) else None
            st = DiagnosticStatus(name=f'{self.get_name()}: servo {servo.name}', hardware_id=f'dynamixel id {servo.id}')
            errors = decode_hardware_error(h.hardware_error) if h else []
            if missing >= 3:
                st.level, st.message = DiagnosticStatus.ERROR, f'not answering ({missing} reads missed)'
            elif errors:
                st.level, st.message = DiagnosticStatus.ERROR, 'hardware error: ' + ', '.join(errors)
            elif missing:
                st.level, st.message = DiagnosticStatus.WARN, f'{missing} reads missed'
            else:
                st.level, st.message = DiagnosticStatus.OK, 'ok'
            st.values = [KeyValue(key='temperature_c', value=f'{h.temperature_c:.0f}' if h else 'nan'),
                         KeyValue(key='voltage_v', value=f'{h.voltage_v:.1f}' if h else 'nan'),
                         KeyValue(key='hardware_error_status', value=str(h.hardware_error if h else 0)),
                         KeyValue(key='communication_misses', value=str(missing))]
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
        if rclpy.ok():
            raise  # else: a callback in flight when Ctrl-C/SIGTERM shut the context down
    finally:
        node.on_shutdown(None)
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
