"""The head description: the Emo file loads; mistakes are all reported at once."""
import copy

import numpy as np
import pytest
import yaml

from emo_description.head import COMMAND_NAMES, HeadConfigError, default_head_path, load_head, parse_head
from emo_servo_driver.control_table import CONTROL_TABLES


@pytest.fixture(scope='module')
def doc():
    with open(default_head_path()) as f:
        return yaml.safe_load(f)


def test_the_emo_head_is_the_papers():
    head = load_head()
    groups = [s.group for s in head.servos]
    assert len(head.servos) == 26
    assert groups.count('neck') == 3 and groups.count('mouth') == 11
    assert groups.count('gaze') + groups.count('upper_face') == 12
    assert head.facial.sum() == 19                      # 18 symmetric facial servos + the jaw
    driven = np.abs(head.command_weights).sum(axis=1) > 0
    assert driven.sum() == 19 and not driven[~head.facial].any()


def test_command_names_match_the_message():
    emo_msgs = pytest.importorskip('emo_msgs.msg')
    assert ','.join(COMMAND_NAMES) == emo_msgs.MotorCommands.NAMES
    assert COMMAND_NAMES.index('jaw') == emo_msgs.MotorCommands.JAW


def test_calm_commands_give_the_calm_pose_and_mirrored_pairs_move_oppositely():
    head = load_head()
    assert np.allclose(head.commands_to_goals(head.calm_commands), head.calm)
    smile = head.calm_commands
    smile[COMMAND_NAMES.index('corner_raise')] = 1.0
    goals = head.commands_to_goals(smile)
    r, l = head.index['corner_a_r'], head.index['corner_a_l']
    assert goals[r] > head.calm[r] and goals[l] < head.calm[l]   # mirrored mounting
    assert abs((goals[r] - head.calm[r]) / (head.max[r] - head.calm[r])
               - (head.calm[l] - goals[l]) / (head.calm[l] - head.min[l])) < 1e-9


def test_every_goal_stays_in_range_for_any_commands():
    head = load_head()
    rng = np.random.default_rng(0)
    for c in rng.uniform(0, 1, (500, 11)):
        g = head.commands_to_goals(c)
        assert (g >= head.min).all() and (g <= head.max).all()


def test_every_problem_is_listed_at_once(doc):
    bad = copy.deepcopy(doc)
    bad['servos'][1]['id'] = bad['servos'][0]['id']                 # duplicate id
    bad['servos'][2]['min'], bad['servos'][2]['max'] = 3000, 1000      # min > max
    bad['servos'][3]['calm'] = 4000                                    # calm outside range
    bad['servos'][4]['model'] = 'AX-12'                                # unknown model
    bad['commands']['jaw']['servos'] = {'no_such_servo': 1.0}          # unknown servo
    bad['commands']['smile'] = {'calm': 0.0, 'servos': {}}             # unknown command
    bad['constraints'].append({'name': 'impossible', 'coefficients': {'eyelid_upper': 1.0}, 'max': 0.1})
    with pytest.raises(HeadConfigError) as err:
        parse_head(bad, set(CONTROL_TABLES))
    text = str(err.value)
    for expected in ('duplicate servo id 1', 'min 3000 >= max 1000', 'calm 4000 outside', "unknown model 'AX-12'",
                     "unknown servo 'no_such_servo'", 'unknown smile', 'impossible): the calm face breaks it'):
        assert expected in text, text


def test_gaze_servos_cannot_be_driven_by_facial_commands(doc):
    bad = copy.deepcopy(doc)
    bad['commands']['jaw']['servos'] = {'neck_yaw': 1.0}
    with pytest.raises(HeadConfigError, match='neck_yaw is neck, not a facial servo'):
        parse_head(bad, set(CONTROL_TABLES))


def test_unreadable_files_are_reported(tmp_path):
    with pytest.raises(HeadConfigError, match='cannot read'):
        load_head(str(tmp_path / 'missing.yaml'))
    (tmp_path / 'broken.yaml').write_text('servos: [unclosed')
    with pytest.raises(HeadConfigError, match='not valid YAML'):
        load_head(str(tmp_path / 'broken.yaml'))
