"""Servo bus benchmarks on the simulated Dynamixel chain (its own process, on a pty, as hardware).

- servo_cycle_hz: one sync write of 26 goals + one sync read of 26 positions,
  back to back, through dynamixel-sdk (latency timer 1 ms).
- command_to_goal_latency_p99_ms: MotorCommands published by another process
  (stamped when sent) -> goals written on the bus by the driver node at 50 Hz
  (includes waiting for the next control cycle).
"""
import json
import subprocess
import sys
import threading
import time

import numpy as np


def start_sim():
    proc = subprocess.Popen([sys.executable, '-m', 'emo_sim.dxl_sim'], stdout=subprocess.PIPE, text=True)
    port = proc.stdout.readline().strip()
    return proc, port


def cycle_rate(port: str, seconds: float = 4.0) -> dict:
    from emo_servo_driver.bus import DynamixelBus
    from emo_description.head import load_head
    head = load_head()
    bus = DynamixelBus(head.servos, port, latency_timer_ms=1)
    bus.connect()
    bus.enable_torque(True)
    times = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        t0 = time.perf_counter()
        bus.sync_write_goals(head.calm + 50 * np.sin(i / 25))
        bus.sync_read_positions()
        times.append(time.perf_counter() - t0)
        i += 1
    failures = bus.stats.read_failures
    bus.enable_torque(False)
    bus.disconnect()
    times = np.array(times[20:])
    return {'hz': float(1.0 / times.mean()), 'cycle_ms_p99': float(np.percentile(times, 99) * 1e3),
            'cycles': int(len(times)), 'read_failures': int(failures)}


PUBLISHER = r'''
import sys, time, rclpy
from emo_msgs.msg import MotorCommands, Topics
rclpy.init(); n = rclpy.create_node("bench_commands"); pub = n.create_publisher(MotorCommands, Topics.MOTOR_COMMANDS, 10)
end = time.monotonic() + float(sys.argv[1]); i = 0
while time.monotonic() < end:
    m = MotorCommands(); m.header.stamp = n.get_clock().now().to_msg()
    m.commands = [0.3, 0.3, 0.7, 0.3, 0.2, 0.2, 0.3, 0.0, 0.5 + 0.3 * ((i // 15) % 2), 0.3, 0.2]
    pub.publish(m); i += 1; time.sleep(1 / 30)
'''


def command_latency(port: str, seconds: float = 10.0) -> dict:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from emo_servo_driver.driver_node import DriverNode
    context = rclpy.Context()
    rclpy.init(context=context)
    driver = DriverNode(context=context, parameter_overrides=[
        Parameter('bus', value='dynamixel'), Parameter('port', value=port), Parameter('latency_timer_ms', value=1)])
    driver.trigger_configure()
    driver.trigger_activate()
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(driver)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    pub = subprocess.Popen([sys.executable, '-c', PUBLISHER, str(seconds)])
    pub.wait(timeout=seconds + 30)
    time.sleep(0.2)
    executor.shutdown()
    lat = np.array(driver.latency_ms)
    cycle = np.array(driver.cycle_ms)
    driver.on_shutdown(None)
    driver.destroy_node()
    context.try_shutdown()
    return {'p50_ms': float(np.percentile(lat[10:], 50)), 'p99_ms': float(np.percentile(lat[10:], 99)),
            'n': int(len(lat)), 'driver_cycle_ms_p50': float(np.percentile(cycle, 50))}


def main() -> int:
    sim, port = start_sim()
    try:
        a = cycle_rate(port)
        print(f"  sync write+read of 26 servos: {a['hz']:.0f} Hz (p99 cycle {a['cycle_ms_p99']:.2f} ms)", file=sys.stderr)
        b = command_latency(port)
        print(f"  command stamp -> goal written: p50 {b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms "
              f"({b['n']} commands)", file=sys.stderr)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    figures = [
        {'name': 'servo_cycle_hz', 'value': round(a['hz'], 1), 'unit': 'Hz', 'goal': 50, 'better': 'higher'},
        {'name': 'command_to_goal_latency_p50_ms', 'value': round(b['p50_ms'], 2), 'unit': 'ms', 'goal': None,
         'better': 'lower'},
        {'name': 'command_to_goal_latency_p99_ms', 'value': round(b['p99_ms'], 2), 'unit': 'ms', 'goal': None,
         'better': 'lower'},
    ]
    print(json.dumps({'figures': figures, 'details': {'cycle': a, 'command_latency': b}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
