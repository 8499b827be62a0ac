"""Onset timing on real faces: the arrival measure, and that the chain makes a mimicking robot late and a
robot told the apex at the rise earlier (make onset-timing runs it on the real corpus)."""
from types import SimpleNamespace

import numpy as np
import pytest

from emo_bringup.onset_timing import apex_at_rise, first_arrival, onset_gaps, progress

pytest.importorskip('torch')


def test_progress_is_the_share_of_the_way_along_the_displacement():
    start, end = np.zeros((113, 2)), np.full((113, 2), 0.02)
    faces = np.stack([start, 0.5 * end, end, 1.5 * end, start + np.eye(113, 2) * 0.3])
    p = progress(faces, start, end)
    assert np.allclose(p[:4], [0.0, 0.5, 1.0, 1.5])
    assert abs(p[4]) < 0.2                                  # a move across the way is not progress along it
    assert np.isnan(progress(faces, start, start)).all()    # no way to go


def test_first_arrival_counts_from_the_rise_on():
    t = np.arange(10) / 10
    p = np.array([0.95, 0, 0.2, 0.5, 0.85, 0.92, 1.0, 0.7, 0.95, 1.0])
    assert first_arrival(t, p, 0.1) == pytest.approx(0.5)
    assert first_arrival(t, p, 0.0) == pytest.approx(0.0)
    assert first_arrival(t, p * 0.5, 0.1) is None


def person_smiling(fps=30.0, n=150, rise=(45, 75)):
    """A calm face that smiles (mouth corners out and up) over a minimum-jerk rise, then holds."""
    from emo_common.layout import landmark_layout
    from emo_sim.demo_video import minimum_jerk
    rest = landmark_layout().neutral.astype(np.float64)
    smile = rest.copy()
    lips = rest[:, 1] > rest[:, 1].mean() + 0.1                 # the lower face (y down)
    smile[lips, 0] += 0.06 * np.sign(rest[lips, 0] - rest[lips, 0].mean())
    smile[lips, 1] -= 0.03
    s = minimum_jerk((np.arange(n) - rise[0]) / (rise[1] - rise[0]))
    faces = rest[None] + s[:, None, None] * (smile - rest)[None]
    t90 = int(np.flatnonzero(s >= 0.9)[0])
    seq = SimpleNamespace(face_xy=faces.astype(np.float32), fps=fps)
    onset = {'rest_frames': [0, 9], 'rise_start_frame': int(np.flatnonzero(s >= 0.1)[0]), 't90_frame': t90,
             'target_frame': rise[1]}
    return seq, onset, smile


def test_a_mimicking_robot_arrives_late_and_one_told_the_apex_at_the_rise_earlier():
    from emo_bringup.chain_replay import RobotChain
    chain = RobotChain()
    seq, onset, smile = person_smiling()
    mimicry = onset_gaps(seq, onset, seq.face_xy, chain, delay_s=0.08, max_late_s=1.0)
    told = apex_at_rise(seq.face_xy, onset)                    # the apex, known from the rise on
    oracle = onset_gaps(seq, onset, told, chain, delay_s=0.08, max_late_s=1.0)
    assert mimicry['gap_s'] is not None and mimicry['gap_s'] > 0.1          # the plant's lag and the latency
    assert oracle['gap_s'] is not None and oracle['gap_s'] < mimicry['gap_s'] - 0.1
    never = onset_gaps(seq, onset, np.repeat(seq.face_xy[:1], len(seq.face_xy), axis=0), chain, 0.08, 1.0)
    assert never['gap_s'] is None and never['robot_arrival_s'] is None      # a robot kept calm never arrives


def test_the_bound_commands_the_apex_from_the_rise_start_to_the_apex_only():
    seq, onset, smile = person_smiling()
    told = apex_at_rise(seq.face_xy, onset)
    r, a = onset['rise_start_frame'], onset['target_frame']
    assert np.array_equal(told[:r], seq.face_xy[:r])                    # calm before the rise: the person's face
    assert np.allclose(told[r:a + 1], seq.face_xy[a])                   # the apex from the rise's first frame
    assert np.array_equal(told[a + 1:], seq.face_xy[a + 1:])            # then the person's face again
    assert not np.allclose(seq.face_xy[r], seq.face_xy[a])              # (the face had barely moved at the rise)


def test_the_nested_choice_never_uses_a_persons_own_onsets():
    from emo_bringup.onset_timing import nested_choice

    def row(person, a, b):
        return {'person': person, 'paced': {'gap_s': a}, 'extrapolated': {'gap_s': b}}
    # Mean |gap| on everyone else: for p1 paced 0.63, extrapolated 0.10; for p3 paced 0.17, extrapolated 0.40.
    rows = [row('p1', 0.0, 0.5), row('p1', 0.1, 0.6), row('p2', 0.4, 0.1), row('p3', 0.5, 0.0),
            row('p3', None, 0.2)]                                 # a robot that never arrives counts as late
    c = nested_choice(rows, ['paced', 'extrapolated'], max_late_s=1.0)
    # p1's own onsets favour paced, p3's extrapolated: each gets what the others favour
    assert c['per_person'] == {'p1': 'extrapolated', 'p2': 'extrapolated', 'p3': 'paced'}
    assert c['all_people'] == 'extrapolated'


def test_a_run_of_the_chain_does_not_depend_on_the_runs_before_it():
    """The simulated head's landmark noise starts from its seed at every run (make onset-timing's policies are
    replayed one after another through one chain)."""
    from emo_bringup.chain_replay import RobotChain
    chain = RobotChain()
    seq, onset, smile = person_smiling()
    times = np.arange(len(seq.face_xy)) / seq.fps
    first = chain.run(times, seq.face_xy, list(seq.face_xy))[1]
    chain.run(times, seq.face_xy, [smile] * len(seq.face_xy))           # another run in between
    again = chain.run(times, seq.face_xy, list(seq.face_xy))[1]
    np.testing.assert_array_equal(first, again)
