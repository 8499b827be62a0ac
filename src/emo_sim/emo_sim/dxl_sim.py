"""A Dynamixel Protocol 2.0 servo chain, simulated behind a pseudo-terminal.

    sim = SimulatedServoChain(head.servos)        # one simulated servo per head servo
    sim.start()
    bus = DynamixelBus(head.servos, port=sim.port)   # the real dynamixel-sdk, a real serial port path
    ...
    sim.positions()                                # actual positions, for the simulated head
    sim.faults.drop_rate = 0.1; sim.faults.silent_ids.add(22); sim.overheat(5)
    sim.stop()

It answers PING, READ, WRITE, SYNC_READ, FAST_SYNC_READ, SYNC_WRITE and REBOOT with status
packets (CRC-16, byte stuffing, error byte), keeps an X-series control table
per servo, and moves each servo toward its goal while torque is on. Two plants:
- real (`dynamics=head.dynamics`): the firmware's velocity-based profile, from the
  Profile Velocity and Profile Acceleration the driver wrote (0 = unlimited, the
  factory default), capped by the servo's speed under the face's load;
- ideal (no dynamics): constant speed, max_velocity x 1.2, no acceleration limit. Faults: dropped and corrupted replies, a servo that stops
answering, overheating (hardware error bit, alert bit in every status).
"""
import math
import os
import random
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from emo_servo_driver.control_table import (CONTROL_TABLES, MODEL_NUMBERS, PROFILE_ACCELERATION_TICKS_S2, PROFILE_VELOCITY_TICKS_S,
                                            X_SERIES)

HEADER = b'\xff\xff\xfd\x00'
BROADCAST = 0xFE
INST_PING, INST_READ, INST_WRITE, INST_REBOOT = 0x01, 0x02, 0x03, 0x08
INST_STATUS, INST_SYNC_READ, INST_SYNC_WRITE = 0x55, 0x82, 0x83
INST_FAST_SYNC_READ = 0x8A
ERR_INSTRUCTION, ERR_CRC, ERR_DATA_LENGTH, ERR_ACCESS = 0x02, 0x03, 0x05, 0x07
ALERT = 0x80


def _crc_table():
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_CRC = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16 of Protocol 2.0 (polynomial 0x8005, initial 0)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) ^ _CRC[((crc >> 8) ^ b) & 0xFF]) & 0xFFFF
    return crc


def stuff(payload: bytes) -> bytes:
    """Byte stuffing: FF FF FD inside a packet becomes FF FF FD FD."""
    return payload.replace(b'\xff\xff\xfd', b'\xff\xff\xfd\xfd')


def unstuff(payload: bytes) -> bytes:
    return payload.replace(b'\xff\xff\xfd\xfd', b'\xff\xff\xfd')


def status_packet(dxl_id: int, error: int, params: bytes = b'') -> bytes:
    body = stuff(bytes([INST_STATUS, error]) + params)
    length = len(body) + 2
    pkt = HEADER + bytes([dxl_id, length & 0xFF, length >> 8]) + body
    crc = crc16(pkt)
    return pkt + bytes([crc & 0xFF, crc >> 8])


@dataclass
class Faults:
    drop_rate: float = 0.0          # share of replies never sent
    corrupt_rate: float = 0.0       # share of replies with a wrong CRC
    silent_ids: set = field(default_factory=set)   # servos that stopped answering
    seed: int = 0


def profile_motion(p: float, v: float, goal: float, v_max: float, a_max: float, dt: float, substep: float = 0.002):
    """(position, velocity) after dt of a servo chasing `goal`: accelerating and braking at no more
    than a_max, never faster than v_max, stopping on the goal (re-planned from the present velocity
    whenever the goal moves, as the firmware does). An infinite a_max moves at constant speed."""
    if dt <= 0:
        return p, v
    if not math.isfinite(a_max):
        step = min(max(goal - p, -v_max * dt), v_max * dt)
        return p + step, step / dt
    n = max(1, math.ceil(dt / substep))
    h = dt / n
    for _ in range(n):
        e = goal - p
        # the fastest speed from which the servo can still stop at the goal
        want = math.copysign(min(v_max, math.sqrt(2.0 * a_max * abs(e))), e)
        new_v = v + min(max(want - v, -a_max * h), a_max * h)
        new_p = p + 0.5 * (v + new_v) * h
        if (goal - new_p) * e <= 0 and abs(new_v) <= 2 * a_max * h:   # arrived (or would overshoot): stop on it
            return goal, 0.0
        p, v = new_p, new_v
    return p, v


class SimServo:
    """One servo: its control table and motion (see the module: real or ideal plant)."""

    def __init__(self, dxl_id: int, model: str, position: float, speed_ticks_s: float, profile: bool = False):
        self.mem = bytearray(256)
        self.id, self.speed, self.profile = dxl_id, speed_ticks_s, profile
        self.velocity = 0.0
        self._put('model_number', MODEL_NUMBERS.get(model, 1020))
        self._put('id', dxl_id)
        self._put('baud_rate', 3)
        self._put('operating_mode', 3)
        self._put('present_input_voltage', 120)
        self._put('present_temperature', 32)
        self.position = float(position)
        self._put('goal_position', int(round(position)))
        self._put('present_position', int(round(position)))
        self._t = time.monotonic()
        self.lock = threading.Lock()

    def _put(self, name: str, value: int) -> None:
        addr, size = X_SERIES[name]
        self.mem[addr:addr + size] = (int(value) & ((1 << (8 * size)) - 1)).to_bytes(size, 'little')

    def _get(self, name: str) -> int:
        addr, size = X_SERIES[name]
        v = int.from_bytes(self.mem[addr:addr + size], 'little')
        return v - (1 << 32) if size == 4 and v >= (1 << 31) else v

    def limits(self):
        """(speed ticks/s, acceleration ticks/s^2) the servo moves with now."""
        if not self.profile:
            return self.speed, math.inf
        v, a = self._get('profile_velocity'), self._get('profile_acceleration')
        v = self.speed if v <= 0 else min(self.speed, v * PROFILE_VELOCITY_TICKS_S)
        return v, (math.inf if a <= 0 else a * PROFILE_ACCELERATION_TICKS_S2)

    def advance(self) -> None:
        """Move toward the goal for the time since the last call."""
        now = time.monotonic()
        dt, self._t = now - self._t, now
        moving = False
        if self._get('torque_enable'):
            goal = self._get('goal_position')
            v_max, a_max = self.limits()
            self.position, self.velocity = profile_motion(self.position, self.velocity, goal, v_max, a_max, dt)
            moving = abs(goal - self.position) > 1
            self._put('present_velocity', int(round(self.velocity / PROFILE_VELOCITY_TICKS_S)))  # 0.229 rpm units
        else:
            self.velocity = 0.0
        self._put('present_position', int(round(self.position)))
        self._put('moving', int(moving))

    def read(self, addr: int, length: int) -> bytes:
        with self.lock:
            self.advance()
            return bytes(self.mem[addr:addr + length])

    def write(self, addr: int, data: bytes) -> int:
        """Write into the control table; returns a Protocol 2.0 error number (0 = fine)."""
        with self.lock:
            self.advance()
            if addr + len(data) > len(self.mem):
                return ERR_DATA_LENGTH
            torque_addr, _ = X_SERIES['torque_enable']
            if addr == X_SERIES['model_number'][0]:
                return ERR_ACCESS
            self.mem[addr:addr + len(data)] = data
            if addr <= torque_addr < addr + len(data) and not self._get('torque_enable'):
                self._put('goal_position', int(round(self.position)))  # torque off: the servo goes limp where it is
            return 0

    @property
    def alert(self) -> int:
        return ALERT if self._get('hardware_error_status') else 0


class SimulatedServoChain:
    """Simulated servos on one pseudo-terminal; `port` is the serial device path to open."""

    def __init__(self, servos, speed_scale: float = 1.0, faults: Faults = None, dynamics=None, link: str = None):
        """dynamics: the head's (real plant: speed under load, the profile the driver writes);
        None: the ideal plant (max_velocity x 1.2). speed_scale scales either speed. link: a stable
        path (like a udev symlink, /dev/ttyDXL) that points at the pty, so unplug()/start() can
        replace the pty under an open driver as a USB adapter that is pulled out and back in."""
        servos = list(servos)
        if dynamics is None:
            speeds = [s.max_velocity * 1.2 * speed_scale for s in servos]
        else:
            speeds = [float(v) * speed_scale for v in dynamics.load_speed]
        self.servos = {s.id: SimServo(s.id, s.model, s.calm, v, profile=dynamics is not None)
                       for s, v in zip(servos, speeds)}
        self.order = [s.id for s in servos]
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self._master = self._slave = None
        self._thread = None
        self._stop = threading.Event()
        self.port = None
        self.link = link
        self.packets = 0
        self.bad_packets = 0
        # When a list: every goal set written, as (arrival time.monotonic(), {id: goal ticks}).
        self.goal_log = None

    def start(self) -> 'SimulatedServoChain':
        import tty
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        if self.link:
            tmp = f'{self.link}.new'
            if os.path.lexists(tmp):
                os.remove(tmp)
            os.symlink(self.port, tmp)
            os.replace(tmp, self.link)          # atomically: a driver never opens a half-made link
            self.port = self.link
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name='dxl-sim', daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def unplug(self) -> None:
        """The adapter is pulled out: the pty goes away (the servos keep their state and torque);
        start() plugs a new one in behind the same link."""
        self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what the rest of the simulation reads -------------------------------------------
    def positions(self) -> np.ndarray:
        """Actual positions (ticks) in the order of the servos given."""
        out = []
        for i in self.order:
            with self.servos[i].lock:
                self.servos[i].advance()
                out.append(self.servos[i].position)
        return np.array(out)

    def torque(self) -> np.ndarray:
        return np.array([self.servos[i]._get('torque_enable') for i in self.order], dtype=bool)

    def overheat(self, dxl_id: int, temperature_c: int = 82) -> None:
        s = self.servos[dxl_id]
        with s.lock:
            s._put('present_temperature', temperature_c)
            s._put('hardware_error_status', s._get('hardware_error_status') | (1 << 2))
            s._put('torque_enable', 0)  # X-series shut down torque on an overheating error

    # --- the wire ------------------------------------------------------------------------
    def _serve(self) -> None:
        import select
        buf = bytearray()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            buf += chunk
            while True:
                pkt = self._take_packet(buf)
                if pkt is None:
                    break
                self._handle(*pkt)

    def _take_packet(self, buf: bytearray):
        """(id, instruction, params) of the first whole packet in buf, removing it; None if incomplete."""
        start = buf.find(HEADER)
        if start < 0:
            del buf[:max(0, len(buf) - 3)]
            return None
        del buf[:start]
        if len(buf) < 7:
            return None
        length = buf[5] | (buf[6] << 8)
        total = 7 + length
        if len(buf) < total:
            return None
        raw = bytes(buf[:total])
        del buf[:total]
        self.packets += 1
        if crc16(raw[:-2]) != (raw[-2] | (raw[-1] << 8)):
            self.bad_packets += 1
            if raw[4] != BROADCAST and raw[4] in self.servos:
                self._reply(raw[4], ERR_CRC)
            return None
        body = unstuff(raw[7:-2])
        return raw[4], body[0], body[1:]

    def _send(self, data: bytes) -> None:
        try:
            os.write(self._master, data)
        except OSError:
            pass

    def _reply(self, dxl_id: int, error: int, params: bytes = b'') -> None:
        if dxl_id in self.faults.silent_ids:
            return
        if self._rng.random() < self.faults.drop_rate:
            return
        pkt = bytearray(status_packet(dxl_id, error | self.servos[dxl_id].alert, params))
        if self._rng.random() < self.faults.corrupt_rate:
            pkt[-1] ^= 0x5A
        self._send(bytes(pkt))

    def _fast_sync_read(self, addr: int, length: int, ids: bytes) -> None:
        """X-series firmware v45+: one status packet (ID 0xFE) for every servo asked, each part
        ERR, ID, data, CRC of the packet so far (appended down the chain); no part if one servo is
        silent (the chain's packet breaks there, as on the wire: the reader times out)."""
        if any(i not in self.servos or i in self.faults.silent_ids for i in ids):
            return
        if self._rng.random() < self.faults.drop_rate:
            return
        params = bytearray()
        size = 1 + len(ids) * (length + 4)        # INST, then each part (ERR, ID, data, CRC; the last CRC the packet's)
        head = HEADER + bytes([BROADCAST, size & 0xFF, size >> 8, INST_STATUS])
        for k, i in enumerate(ids):
            s = self.servos[i]
            part = bytes([s.alert]) + bytes([i]) + s.read(addr, length)
            params += part
            if k < len(ids) - 1:
                crc = crc16(head + bytes(params))
                params += bytes([crc & 0xFF, crc >> 8])
        # The last servo's part ends with the packet's own CRC.
        pkt = bytearray(head + bytes(params))
        crc = crc16(bytes(pkt))
        pkt += bytes([crc & 0xFF, crc >> 8])
        if self._rng.random() < self.faults.corrupt_rate:
            pkt[-1] ^= 0x5A
        self._send(bytes(pkt))

    def _handle(self, dxl_id: int, inst: int, params: bytes) -> None:
        targets = self.order if dxl_id == BROADCAST else ([dxl_id] if dxl_id in self.servos else [])
        if inst == INST_PING:
            for i in targets:
                model = self.servos[i]._get('model_number')
                self._reply(i, 0, bytes([model & 0xFF, model >> 8, 52]))
        elif inst == INST_READ and dxl_id in self.servos and len(params) == 4:
            addr, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            self._reply(dxl_id, 0, self.servos[dxl_id].read(addr, length))
        elif inst == INST_WRITE and dxl_id in self.servos and len(params) >= 3:
            err = self.servos[dxl_id].write(params[0] | (params[1] << 8), params[2:])
            self._reply(dxl_id, err)
        elif inst == INST_SYNC_READ and len(params) >= 5:
            addr, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            for i in params[4:]:
                if i in self.servos:
                    self._reply(i, 0, self.servos[i].read(addr, length))
        elif inst == INST_FAST_SYNC_READ and len(params) >= 5:
            self._fast_sync_read(params[0] | (params[1] << 8), params[2] | (params[3] << 8), params[4:])
        elif inst == INST_SYNC_WRITE and len(params) >= 4:
            addr, length = params[0] | (params[1] << 8), params[2] | (params[3] << 8)
            rest = params[4:]
            written = {}
            for k in range(0, len(rest) - length, length + 1):
                i = rest[k]
                if i in self.servos:
                    self.servos[i].write(addr, rest[k + 1:k + 1 + length])
                    written[i] = rest[k + 1:k + 1 + length]
            if self.goal_log is not None and addr == X_SERIES['goal_position'][0] and length == 4:
                self.goal_log.append((time.monotonic(), {i: int.from_bytes(v, 'little', signed=True)
                                                         for i, v in written.items()}))
        elif inst == INST_REBOOT and dxl_id in self.servos:
            s = self.servos[dxl_id]
            with s.lock:
                s._put('hardware_error_status', 0)
                s._put('torque_enable', 0)
            self._reply(dxl_id, 0)
        elif dxl_id in self.servos:
            self._reply(dxl_id, ERR_INSTRUCTION)


def main(argv=None) -> None:
    """Run a simulated chain for a head on its own pty, as if it were hardware:

        python -m emo_sim.dxl_sim [--head my_head.yaml]     # prints the port, e.g. /dev/pts/3
        ros2 run emo_servo_driver driver_node --ros-args -p bus:=dynamixel -p port:=/dev/pts/3
    """
    import argparse
    import signal
    from emo_description.head import load_head
    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--head', default=None, help='head description YAML (default: Emo)')
    parser.add_argument('--drop-rate', type=float, default=0.0)
    parser.add_argument('--corrupt-rate', type=float, default=0.0)
    parser.add_argument('--plant', choices=('real', 'ideal'), default='real',
                        help="real: the head's dynamics; ideal: constant speed, no acceleration limit")
    args = parser.parse_args(argv)
    head = load_head(args.head, set(CONTROL_TABLES))
    sim = SimulatedServoChain(head.servos, faults=Faults(args.drop_rate, args.corrupt_rate),
                              dynamics=head.dynamics if args.plant == 'real' else None).start()
    print(sim.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    sim.stop()


if __name__ == '__main__':
    main()
