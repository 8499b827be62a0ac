"""Fixtures of the cross-package tests: the driver on emo_sim's simulated chain (a serial port, as on
hardware)."""
import pytest


@pytest.fixture
def chain():
    """A simulated Dynamixel chain of the Emo head (real plant) on its own pty, stopped after the test."""
    from emo_description.head import load_head
    from emo_sim.dxl_sim import SimulatedServoChain
    head = load_head()
    sim = SimulatedServoChain(head.servos, dynamics=head.dynamics).start()
    yield sim
    sim.stop()
