"""The soak's checks can fail: each flags the fault it is named for, and passes a clean stream."""
import importlib.util
import pathlib

import numpy as np
import pytest

pytest.importorskip('scipy')
from emo_description.head import load_head  # noqa: E402

spec = importlib.util.spec_from_file_location('soak', pathlib.Path(__file__).parents[1] / 'bench' / 'soak.py')
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)
HEAD = load_head()


def stream(goals_at):
    return [(0.02 * k, np.asarray(goals_at(k), dtype=np.float64)) for k in range(250)]


def test_a_clean_stream_passes():
    s = stream(lambda k: HEAD.calm)
    assert soak.check_received(HEAD, s)['constraint_violations'] == 0
    assert soak.check_received(HEAD, s)['hold_violations'] == 0
    motion = soak.check_motion(HEAD, s, s)
    assert (motion['speed_violations'], motion['acceleration_violations'], motion['steps_checked']) == (0, 0, 249)


def test_each_fault_is_caught():
    jaw = HEAD.index['jaw']
    jump = stream(lambda k: HEAD.calm + (k >= 100) * np.where(np.arange(26) == jaw, 300.0, 0.0))
    assert soak.check_motion(HEAD, jump, jump)['speed_violations'] == 1
    ramp = stream(lambda k: HEAD.calm + (k >= 100) * np.where(np.arange(26) == jaw, 19.0 * (k - 99), 0.0))
    assert soak.check_motion(HEAD, ramp, ramp)['acceleration_violations'] >= 1   # 0 to 950 ticks/s in 20 ms
    untimed = soak.check_motion(HEAD, jump, jump[:100])                          # the jump has no stamp
    assert untimed['speed_violations'] == 0 and untimed['steps_untimed'] == 150
    out = HEAD.calm.copy()
    out[jaw] = HEAD.max[jaw] + 5
    assert soak.check_received(HEAD, stream(lambda k: out))['range_violations'] == 250
    c = HEAD.calm_commands
    c[[9, 10]] = 1.0                                                              # jaw + stretch = 2 > 1.5
    assert soak.check_received(HEAD, stream(lambda k: HEAD.commands_to_goals(c)))['constraint_violations'] == 1
    held = HEAD.calm_commands
    held[10] = 1.0                                                                # jaw wide open, held 5 s
    assert soak.check_received(HEAD, stream(lambda k: HEAD.commands_to_goals(held)))['hold_violations'] > 0
