"""The servo bus interface, and the Dynamixel Protocol 2.0 bus (dynamixel-sdk).

    bus = DynamixelBus(head.servos, port='/dev/ttyUSB0', baudrate=1_000_000)
    bus.connect()                       # opens the port, pings every servo
    bus.enable_torque(True)
    positions = bus.sync_read_positions()     # ticks; NaN for a servo that did not answer
    bus.sync_write_goals(goals)               # ticks, already made safe by HeadController
    bus.read_health()                         # temperatures, voltages, error bits
    bus.disconnect()

The driver node only sees `ServoBus`; another servo family (e.g. PCA9685 hobby
servos, as the original Emo used) is another subclass. Errors on the wire
raise `BusError`; a servo that does not answer is reported, not fatal.
"""
import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from emo_servo_driver.control_table import (CONTROL_TABLES, PROFILE_ACCELERATION_TICKS_S2, PROFILE_VELOCITY_TICKS_S,
                                            VOLTAGE_UNIT)


class BusError(RuntimeError):
    """The bus cannot be used (port missing, no answer at all, write failed)."""


@dataclass
class ServoHealth:
    temperature_c: float = float('nan')
    voltage_v: float = float('nan')
    hardware_error: int = 0
    answered: bool = False
    torque_on: bool = None     # None: not read


@dataclass
class BusStats:
    reads: int = 0
    writes: int = 0
    read_failures: int = 0
    write_failures: int = 0
    missing: dict = field(default_factory=dict)   # servo name -> consecutive cycles without an answer


try:
    import termios
    # pyserial's SerialException is an OSError; dynamixel-sdk also flushes the port itself (tcflush),
    # which raises termios.error once the adapter is gone.
    WIRE_ERRORS = (OSError, termios.error)
except ImportError:          # not POSIX
    WIRE_ERRORS = (OSError,)


def _wire(method):
    """An OS-level failure on the wire (adapter unplugged, port gone) is a BusError like any other,
    never an exception the driver does not expect."""
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except WIRE_ERRORS as err:
            raise BusError(f'serial port {self.name}: {err}') from err
    return wrapped


class ServoBus(ABC):
    """What the driver needs from a servo bus, whatever the servos."""

    def __init__(self, servos, name: str = ''):
        self.servos = list(servos)
        self.name = name          # where the bus is, for messages and diagnostics (e.g. the port)
        self.stats = BusStats()

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    @abstractmethod
    def connect(self) -> list:
        """Open the bus; returns the names of servos that did not answer."""

    @abstractmethod
    def disconnect(self) -> None: ...

    @abstractmethod
    def enable_torque(self, on: bool) -> list:
        """Torque on or off on every servo; returns the names of servos that did not confirm."""

    @abstractmethod
    def sync_read_positions(self) -> np.ndarray:
        """Present positions (ticks) of every servo, NaN where one did not answer."""

    @abstractmethod
    def sync_write_goals(self, goals: np.ndarray) -> None:
        """Goal positions (ticks) of every servo in one transaction."""

    @abstractmethod
    def read_health_of(self, index: int) -> ServoHealth:
        """ServoHealth of one servo (cheap enough to do one per control cycle)."""

    def read_health(self) -> list:
        """ServoHealth of every servo."""
        return [self.read_health_of(i) for i in range(len(self.servos))]

    @abstractmethod
    def enable_torque_of(self, index: int, on: bool) -> bool:
        """Torque on or off on one servo; True if it confirmed."""

    @abstractmethod
    def reboot(self, index: int) -> bool:
        """Reboot one servo (clears its hardware error; it comes back with torque off); True if it answered."""

    @abstractmethod
    def write_profiles(self, velocity: np.ndarray, acceleration: np.ndarray) -> list:
        """Each servo's own motion limits (ticks/s, ticks/s^2), so it never moves faster or jerks
        harder than these whatever goal it is given; returns the names of servos that refused."""


class DynamixelBus(ServoBus):
    """Dynamixel X-series servos on one serial port, Protocol 2.0, through dynamixel-sdk."""

    READ_WAIT_S = 0.001   # longest a read blocks waiting for bytes before dynamixel-sdk checks its packet timeout

    def __init__(self, servos, port: str, baudrate: int = 1_000_000, latency_timer_ms: int = 1,
                 fast_sync_read: bool = True):
        super().__init__(servos, name=port)
        self.port_name, self.baudrate, self.latency_timer_ms = port, baudrate, latency_timer_ms
        self.want_fast = fast_sync_read
        self.fast = False         # Fast Sync Read in use: one reply packet for the whole chain
        self.table = CONTROL_TABLES[self.servos[0].model]
        self.port = self.packet = None
        self._sync_read = self._sync_write = None
        self._silent = set()

    @_wire
    def connect(self) -> list:
        import dynamixel_sdk as dxl
        self.port = dxl.PortHandler(self.port_name)
        try:
            opened = self.port.openPort()
        except Exception as err:  # pyserial raises SerialException or OSError
            self.port = None
            raise BusError(f'cannot open servo port {self.port_name}: {err}') from err
        if not opened:
            self.port = None
            raise BusError(f'cannot open servo port {self.port_name}')
        if not self.port.setBaudRate(self.baudrate):
            raise BusError(f'cannot set baud rate {self.baudrate} on {self.port_name}')
        # dynamixel-sdk opens the port non-blocking (timeout 0) and polls it in a loop while it waits for
        # a reply: a core spent per round trip, and with the simulated chain in this process the poller
        # holds the GIL its replies need (a round trip then waited for the 5 ms GIL switch interval).
        # A blocking read returns the moment the bytes asked for are in (a packet timeout ends at most 1 ms later).
        self.port.ser.timeout = self.READ_WAIT_S
        # dynamixel-sdk sizes every packet timeout with a module-wide USB latency
        # (16 ms by default, the FTDI default); set it to this adapter's.
        import dynamixel_sdk.port_handler as port_handler
        port_handler.LATENCY_TIMER = self.latency_timer_ms
        self.packet = dxl.PacketHandler(2.0)
        addr, size = self.table['present_position']
        self._sync_read = dxl.GroupSyncRead(self.port, self.packet, addr, size)
        for s in self.servos:
            self._sync_read.addParam(s.id)
        addr, size = self.table['goal_position']
        self._sync_write = dxl.GroupSyncWrite(self.port, self.packet, addr, size)
        silent = []
        for s in self.servos:
            _, result, _ = self.packet.ping(self.port, s.id)
            if result != dxl.COMM_SUCCESS:
                silent.append(s.name)
        if len(silent) == len(self.servos):
            self.disconnect()
            raise BusError(f'no servo answered on {self.port_name} at {self.baudrate} baud')
        self.fast = self.want_fast and not silent and self._fast_sync_read_works()
        return silent

    def _fast_sync_read_works(self) -> bool:
        """Fast Sync Read (X-series firmware v45+): every servo's reply in one packet, a third of the
        bus time and of the reading work. Used when a trial read of the whole chain succeeds; older
        firmware, or a chain that does not answer whole, keeps the plain Sync Read."""
        import dynamixel_sdk as dxl
        return any(self._fast_sync_read() == dxl.COMM_SUCCESS for _ in range(3))

    def _fast_sync_read(self) -> int:
        """dynamixel-sdk's fast read, whose parser indexes past a reply that is too short (a late status
        packet of another instruction read in its place): that is a corrupt reply, not a crash."""
        import dynamixel_sdk as dxl
        try:
            return self._sync_read.fastSyncRead()
        except IndexError:
            self._sync_read.last_result = False
            return dxl.COMM_RX_CORRUPT

    @property
    def connected(self) -> bool:
        return self.port is not None

    def disconnect(self) -> None:
        if self.port is not None:
            try:
                self.port.closePort()
            except WIRE_ERRORS:
                pass      # the adapter is already gone
            self.port = None

    def _require(self):
        """Check the bus is open and start a transaction on a clean line.

        A late status packet (a reply that came after its timeout) would otherwise be
        taken for the answer to the next request; and a transaction cut short (Ctrl-C)
        leaves dynamixel-sdk's port marked busy. This bus is used from one thread only.
        """
        if self.port is None:
            raise BusError('bus not connected')
        self.port.is_using = False
        try:
            self.port.ser.reset_input_buffer()
        except Exception as err:  # pyserial: SerialException / OSError when the adapter is gone
            raise BusError(f'serial port {self.port_name}: {err}') from err

    @_wire
    def enable_torque(self, on: bool) -> list:
        import dynamixel_sdk as dxl
        self._require()
        addr, _ = self.table['torque_enable']
        failed = []
        for s in self.servos:
            result, error = self.packet.write1ByteTxRx(self.port, s.id, addr, 1 if on else 0)[:2]
            if result != dxl.COMM_SUCCESS:
                failed.append(s.name)
        if len(failed) == len(self.servos):
            raise BusError(f'torque {"on" if on else "off"}: no servo answered')
        return failed

    @_wire
    def enable_torque_of(self, index: int, on: bool) -> bool:
        import dynamixel_sdk as dxl
        self._require()
        result, error = self.packet.write1ByteTxRx(self.port, self.servos[index].id, self.table['torque_enable'][0],
                                                   1 if on else 0)[:2]
        return result == dxl.COMM_SUCCESS

    @_wire
    def reboot(self, index: int) -> bool:
        import dynamixel_sdk as dxl
        self._require()
        result, _ = self.packet.reboot(self.port, self.servos[index].id)
        return result == dxl.COMM_SUCCESS

    # A servo missing this many sync reads in a row is left out of them (it would stall the rest
    # of the chain's replies) and probed with a ping every REPROBE_CYCLES cycles.
    SILENT_AFTER, REPROBE_CYCLES = 3, 50

    @_wire
    def sync_read_positions(self) -> np.ndarray:
        import dynamixel_sdk as dxl
        self._require()
        addr, size = self.table['present_position']
        self.stats.reads += 1
        result = self._fast_sync_read() if self.fast else self._sync_read.txRxPacket()
        if result != dxl.COMM_SUCCESS:
            self.stats.read_failures += 1
        out = np.full(len(self.servos), np.nan)
        for i, s in enumerate(self.servos):
            if s.id in self._silent:
                continue
            if self._sync_read.isAvailable(s.id, addr, size):
                out[i] = self._signed(self._sync_read.getData(s.id, addr, size))
            else:
                # The chain stopped at a servo that did not answer: ask the others one by one.
                self._require()
                value, res, _ = self.packet.read4ByteTxRx(self.port, s.id, addr)
                if res == dxl.COMM_SUCCESS:
                    out[i] = self._signed(value)
        for i, s in enumerate(self.servos):
            if np.isnan(out[i]):
                self.stats.missing[s.name] = self.stats.missing.get(s.name, 0) + 1
                if self.stats.missing[s.name] >= self.SILENT_AFTER and s.id not in self._silent:
                    self._silent.add(s.id)
                    self._sync_read.removeParam(s.id)
            else:
                self.stats.missing[s.name] = 0
        if self._silent and self.stats.reads % self.REPROBE_CYCLES == 0:
            for s in self.servos:
                if s.id in self._silent and self.packet.ping(self.port, s.id)[1] == dxl.COMM_SUCCESS:
                    self._silent.discard(s.id)
                    self._sync_read.addParam(s.id)
        return out

    @staticmethod
    def _signed(raw: int) -> int:
        return raw - (1 << 32) if raw >= (1 << 31) else raw

    @_wire
    def sync_write_goals(self, goals: np.ndarray) -> None:
        import dynamixel_sdk as dxl
        self._require()
        self._sync_write.clearParam()
        for s, g in zip(self.servos, goals):
            v = int(round(g)) & 0xFFFFFFFF
            self._sync_write.addParam(s.id, [v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF])
        self.stats.writes += 1
        result = self._sync_write.txPacket()
        if result != dxl.COMM_SUCCESS:
            self.stats.write_failures += 1
            raise BusError(f'sync write failed: {self.packet.getTxRxResult(result)}')

    @_wire
    def write_profiles(self, velocity: np.ndarray, acceleration: np.ndarray) -> list:
        """Profile Acceleration and Profile Velocity (addresses 108 and 112, one 8-byte write per servo,
        checked): the firmware's trapezoid then bounds every move. Rounded down, at least 1 unit
        (0 would mean unlimited); an infinite limit stays the firmware's unlimited 0."""
        import dynamixel_sdk as dxl
        addr, _ = self.table['profile_acceleration']
        refused = []
        for s, v, a in zip(self.servos, velocity, acceleration):
            acc = 0 if not np.isfinite(a) else max(1, int(a // PROFILE_ACCELERATION_TICKS_S2))
            vel = 0 if not np.isfinite(v) else max(1, int(v // PROFILE_VELOCITY_TICKS_S))
            data = list(int(acc).to_bytes(4, 'little')) + list(int(vel).to_bytes(4, 'little'))
            self._require()
            result, error = self.packet.writeTxRx(self.port, s.id, addr, 8, data)
            if result != dxl.COMM_SUCCESS or error & 0x7F:
                refused.append(s.name)
        if len(refused) == len(self.servos):
            raise BusError('profile write: no servo answered')
        return refused

    @_wire
    def read_health_of(self, index: int) -> ServoHealth:
        """Temperature, input voltage, hardware error bits and torque enable of one servo."""
        import dynamixel_sdk as dxl
        self._require()
        s, h = self.servos[index], ServoHealth()
        if s.id in self._silent:
            return h
        # Two reads of adjacent registers instead of four (each is a round trip on the bus):
        # input voltage (2 bytes) + temperature, and torque enable .. hardware error status.
        volt, temp = self.table['present_input_voltage'][0], self.table['present_temperature'][0]
        torque, error = self.table['torque_enable'][0], self.table['hardware_error_status'][0]
        data, result, _ = self.packet.readTxRx(self.port, s.id, volt, temp - volt + 1)
        if result == dxl.COMM_SUCCESS and len(data) == temp - volt + 1:
            h.voltage_v = (data[0] | data[1] << 8) * VOLTAGE_UNIT
            h.temperature_c, h.answered = float(data[temp - volt]), True
        self._require()
        data, result, _ = self.packet.readTxRx(self.port, s.id, torque, error - torque + 1)
        if result == dxl.COMM_SUCCESS and len(data) == error - torque + 1:
            h.torque_on, h.hardware_error = bool(data[0]), int(data[error - torque])
        return h
