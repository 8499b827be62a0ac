"""The simulated Dynamixel chain speaks Protocol 2.0 well enough for the real dynamixel-sdk."""
import time

import numpy as np
import pytest

dxl = pytest.importorskip('dynamixel_sdk')
from emo_servo_driver.bus import BusError, DynamixelBus  # noqa: E402
from emo_servo_driver.control_table import X_SERIES, decode_hardware_error  # noqa: E402
from emo_sim.dxl_sim import Faults, SimulatedServoChain, crc16, status_packet, stuff, unstuff  # noqa: E402
from emo_description.head import load_head  # noqa: E402

HEAD = load_head()


@pytest.fixture
def chain():
    sim = SimulatedServoChain(HEAD.servos, faults=Faults(seed=1)).start()
    bus = DynamixelBus(HEAD.servos, sim.port, latency_timer_ms=8)
    assert bus.connect() == []
    yield sim, bus
    bus.disconnect()
    sim.stop()


def test_crc_matches_the_protocol_reference():
    # ROBOTIS e-Manual example: ping instruction packet to ID 1 ends with CRC 0x4E19 (bytes 19 4E).
    assert crc16(bytes.fromhex('FFFFFD0001030001')) == 0x4E19


def test_byte_stuffing_round_trip():
    payload = b'\x01\xff\xff\xfd\x02'
    assert stuff(payload) == b'\x01\xff\xff\xfd\xfd\x02' and unstuff(stuff(payload)) == payload
    pkt = status_packet(3, 0, b'\xff\xff\xfd')
    assert b'\xff\xff\xfd\xfd' in pkt[4:]


def test_sdk_ping_read_write(chain):
    sim, bus = chain
    model, result, error = bus.packet.ping(bus.port, 5)
    assert (result, error, model) == (dxl.COMM_SUCCESS, 0, 1020)
    result, error = bus.packet.write1ByteTxRx(bus.port, 5, X_SERIES['led'][0], 1)
    assert (result, error) == (dxl.COMM_SUCCESS, 0)
    value, result, _ = bus.packet.read1ByteTxRx(bus.port, 5, X_SERIES['led'][0])
    assert (value, result) == (1, dxl.COMM_SUCCESS)
    _, result, error = bus.packet.read4ByteTxRx(bus.port, 99, X_SERIES['present_position'][0])
    assert result == dxl.COMM_RX_TIMEOUT          # no servo 99 on the chain
    result, error = bus.packet.write2ByteTxRx(bus.port, 5, X_SERIES['model_number'][0], 7)
    assert error != 0                              # read-only address: the status packet says so


def test_sync_write_moves_servos_at_their_speed_and_sync_read_sees_it(chain):
    sim, bus = chain
    bus.enable_torque(True)
    goals = HEAD.calm + 200 * np.where(HEAD.max - HEAD.calm > 200, 1, -1)
    t0 = time.monotonic()
    bus.sync_write_goals(goals)
    time.sleep(0.05)
    early = bus.sync_read_positions()
    elapsed = time.monotonic() - t0
    assert np.all(np.abs(early - HEAD.calm) <= HEAD.max_velocity * 1.2 * elapsed + 2)   # not faster than the servo
    time.sleep(0.6)
    assert np.allclose(bus.sync_read_positions(), goals, atol=2)
    assert np.allclose(sim.positions(), goals, atol=2)


def test_torque_off_leaves_servos_where_they_are(chain):
    sim, bus = chain
    bus.enable_torque(False)
    bus.sync_write_goals(HEAD.max)
    time.sleep(0.2)
    assert np.allclose(sim.positions(), HEAD.calm, atol=1) and not sim.torque().any()


def test_a_silent_servo_is_reported_and_the_rest_keep_working(chain):
    sim, bus = chain
    sim.faults.silent_ids.add(HEAD.servos[10].id)
    for _ in range(5):
        pos = bus.sync_read_positions()
    assert np.isnan(pos[10]) and np.isfinite(np.delete(pos, 10)).all()
    assert bus.stats.missing[HEAD.servos[10].name] >= 3
    sim.faults.silent_ids.clear()
    for _ in range(bus.REPROBE_CYCLES + 1):
        pos = bus.sync_read_positions()
    assert np.isfinite(pos).all()                  # probed again and back in the chain


def test_packet_loss_and_corruption_cost_some_reads_not_the_bus(chain):
    sim, bus = chain
    sim.faults.drop_rate, sim.faults.corrupt_rate = 0.05, 0.05
    reads = np.array([bus.sync_read_positions() for _ in range(40)])
    missing = np.isnan(reads).mean()
    assert 0.0 < missing < 0.3
    assert bus.stats.read_failures > 0


def test_overheating_shows_in_health(chain):
    sim, bus = chain
    sim.overheat(HEAD.servos[0].id)
    health = bus.read_health_of(0)
    assert health.temperature_c >= 80 and 'overheating' in decode_hardware_error(health.hardware_error)
    assert bus.read_health_of(1).hardware_error == 0 and bus.read_health_of(1).voltage_v == pytest.approx(12.0)


def test_a_missing_port_is_a_clear_error():
    bus = DynamixelBus(HEAD.servos, '/dev/ttyUSB_not_here')
    with pytest.raises(BusError, match='cannot open servo port /dev/ttyUSB_not_here'):
        bus.connect()


def test_an_empty_port_is_a_clear_error():
    sim = SimulatedServoChain(HEAD.servos, faults=Faults(silent_ids={s.id for s in HEAD.servos})).start()
    try:
        with pytest.raises(BusError, match='no servo answered'):
            DynamixelBus(HEAD.servos, sim.port, latency_timer_ms=2).connect()
    finally:
        sim.stop()


def test_a_pulled_adapter_is_a_bus_error_and_the_link_comes_back(tmp_path):
    """An OSError on the wire (EIO once the pty is gone) once escaped as an exception the driver did
    not catch; it is a BusError, and reopening the same link reaches the servos again."""
    head = load_head()
    sim = SimulatedServoChain(head.servos, link=str(tmp_path / 'ttyDXL')).start()
    bus = DynamixelBus(head.servos, sim.port, 1_000_000, 8)
    try:
        bus.connect()
        sim.goal_log = []
        bus.sync_write_goals(head.calm)
        sim.unplug()
        for attempt in (lambda: bus.sync_write_goals(head.calm), bus.sync_read_positions):
            with pytest.raises(BusError, match='serial port'):
                attempt()
        sim.start()
        bus.disconnect()
        assert bus.connect() == []
        assert np.allclose(bus.sync_read_positions(), head.calm)
        assert len(sim.goal_log) == 1 and sim.goal_log[0][1][head.servos[0].id] == head.calm[0]
    finally:
        bus.disconnect()
        sim.stop()


def test_a_flush_on_a_vanished_port_is_a_bus_error(tmp_path, monkeypatch):
    """dynamixel-sdk flushes the port itself (tcflush): once the adapter was gone that raised
    termios.error (not an OSError) and killed the driver in a 10-minute soak."""
    termios = pytest.importorskip('termios')
    head = load_head()
    with SimulatedServoChain(head.servos) as sim:
        bus = DynamixelBus(head.servos, sim.port, 1_000_000, 8)
        bus.connect()

        def vanished():
            raise termios.error(5, 'Input/output error')
        monkeypatch.setattr(bus.port, 'clearPort', vanished)
        monkeypatch.setattr(bus, '_require', lambda: None)
        with pytest.raises(BusError, match='Input/output error'):
            bus.sync_read_positions()
        bus.disconnect()


def test_fast_sync_read_reads_the_same_positions_in_one_reply(chain):
    sim, bus = chain
    assert bus.fast                                           # the whole chain answered it at connect
    bus.enable_torque(True)
    bus.sync_write_goals(HEAD.calm + 60 * np.where(HEAD.max - HEAD.calm > 60, 1, -1))
    time.sleep(0.3)
    packets = sim.packets
    fast = bus.sync_read_positions()
    assert sim.packets == packets + 1                         # one instruction, one reply, no per-servo reads
    plain = DynamixelBus(HEAD.servos, sim.port, latency_timer_ms=8, fast_sync_read=False)
    bus.disconnect()
    assert plain.connect() == [] and not plain.fast
    try:
        assert np.allclose(plain.sync_read_positions(), fast, atol=2)
    finally:
        plain.disconnect()


def test_fast_sync_read_survives_a_servo_going_silent():
    """A silent servo breaks the chain's one reply: that read falls back to one read per servo, and once the
    servo is left out (after SILENT_AFTER misses) the others are read fast again."""
    silent_id = HEAD.servos[HEAD.index['lip_side_r']].id
    faults = Faults(seed=2)
    sim = SimulatedServoChain(HEAD.servos, faults=faults).start()
    bus = DynamixelBus(HEAD.servos, sim.port, latency_timer_ms=8)
    try:
        assert bus.connect() == [] and bus.fast
        faults.silent_ids.add(silent_id)
        for _ in range(DynamixelBus.SILENT_AFTER):
            p = bus.sync_read_positions()
            assert np.isnan(p[HEAD.index['lip_side_r']]) and np.isfinite(np.delete(p, HEAD.index['lip_side_r'])).all()
        packets = sim.packets
        p = bus.sync_read_positions()
        assert sim.packets == packets + 1 and np.isfinite(np.delete(p, HEAD.index['lip_side_r'])).all()
    finally:
        bus.disconnect()
        sim.stop()


def test_a_short_fast_reply_is_a_failed_read_not_a_crash(chain, monkeypatch):
    """dynamixel-sdk indexes past a fast reply that is too short (a late status packet of another
    instruction read in its place; seen once under load): the read falls back to one read per servo."""
    sim, bus = chain
    assert bus.fast
    monkeypatch.setattr(bus.packet, 'fastSyncReadRx', lambda port, dxl_id, length: ([], dxl.COMM_SUCCESS, 0))
    failures = bus.stats.read_failures
    positions = bus.sync_read_positions()
    assert np.isfinite(positions).all() and bus.stats.read_failures == failures + 1
