"""Evaluation on real-face corpora: loading the folder layout, leave-person-out replay, onsets and alarms.

The real corpus (shared/data/real_onsets) is not part of a clone: these tests
build small corpora in its layout (meshes from the landmark node's reference
face) or from generated faces.
"""
import json

import numpy as np
import pytest

from emo_prediction.training.corpus import Corpus, Sequence, check_disjoint, leave_person_out, load_corpus
from emo_prediction.forecast import ConstantVelocity, CopyCurrent
from emo_prediction.training.real_eval import ForecastSystem, forecast_table, onset_report
from emo_prediction.training.synthetic import ExpressionGenerator


def _mesh_video(frames: int, open_from: int, width=640, height=480):
    """(frames, 468, 3) normalised MediaPipe meshes of the reference face whose lower lip and chin
    drop from frame `open_from` on (a jaw drop), at a fixed head pose."""
    from emo_perception.face_frame import reference_face
    ref = reference_face()
    scale, centre = 120.0, np.array([320.0, 240.0, 0.0])
    lower = [14, 17, 84, 87, 178, 317, 402, 314, 152, 148, 176, 377, 400, 378]
    out = np.empty((frames, 468, 3))
    for i in range(frames):
        mesh = ref.copy()
        mesh[lower, 1] += 0.3 * np.clip((i - open_from) / 10.0, 0, 1)
        px = mesh * scale + centre
        out[i] = px / np.array([width, height, width])
    return out


def _write_corpus(folder, people=('pa', 'pb')):
    (folder / 'landmarks').mkdir(parents=True)
    sources, onsets = [], []
    for k, person in enumerate(people):
        sid = f'clip_{person}'
        mesh = _mesh_video(60, 30)
        detected = np.ones(60, bool)
        detected[5] = False
        mesh[5] = np.nan
        np.savez(folder / 'landmarks' / f'{sid}.npz', landmarks=mesh.astype(np.float32), fps=25.0,
                 detected=detected, width=640, height=480)
        sources.append({'source_id': sid, 'person_id': person, 'fps': 25.0, 'talking_video': k == 1,
                        'onsets': 1 if k == 0 else 0, 'content_origin': 'test clip'})
        if k == 0:
            onsets.append({'source_id': sid, 'person_id': person, 'start_frame': 20, 'end_frame': 50,
                           'rest_frames': [20, 29], 'rise_start_frame': 30, 't90_frame': 39,
                           'target_frame': 41, 'label': 'surprise_jaw_drop', 'talking': False})
    (folder / 'sources.json').write_text(json.dumps(sources))
    (folder / 'onsets.json').write_text(json.dumps(onsets))


def test_load_corpus_reads_the_folder_layout_through_the_landmark_nodes_face_frame(tmp_path):
    _write_corpus(tmp_path)
    corpus = load_corpus(tmp_path)
    assert corpus.people == ['pa', 'pb']
    a, b = corpus.sequences
    assert a.face_xy.shape == (60, 113, 2) and a.fps == 25.0
    assert np.isnan(a.face_xy[5]).all() and np.isfinite(a.face_xy[6]).all()
    assert a.category == 'expressive' and b.category == 'talking'
    assert len(a.onsets) == 1 and b.onsets == [] and len(corpus.onsets) == 1
    # The jaw drop moves the face-frame landmarks; the head pose did not change.
    assert np.abs(a.face_xy[50] - a.face_xy[10]).max() > 0.1
    np.testing.assert_allclose(a.face_xy[10], a.face_xy[20], atol=1e-5)
    fp = corpus.fingerprint()
    assert fp['people'] == 2 and fp['frames'] == 120 and fp['onsets'] == 1


def test_a_folder_without_a_corpus_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='sources.json'):
        load_corpus(tmp_path)


def test_leave_person_out_folds_never_share_a_person():
    people = [f'p{i}' for i in range(7)]
    for folds in (list(leave_person_out(people)), list(leave_person_out(people, 3, seed=1))):
        tested = sorted(p for _, test in folds for p in test)
        assert tested == people
        for train, test in folds:
            assert not set(train) & set(test) and set(train) | set(test) == set(people)
    with pytest.raises(ValueError, match='p1'):
        check_disjoint(['p0', 'p1'], ['p1'])


def generated_corpus(people=3, seconds=20.0, seed=0) -> Corpus:
    """A corpus of generated continuous footage: one source per person, its expressions as onsets."""
    gen = ExpressionGenerator(seed)
    seqs = []
    for k in range(people):
        clip = gen.continuous_clip(gen.person(900 + k), seconds, talking=k == 2, expressions_per_min=6)
        sid = f'gen_{k}'
        onsets = [{'source_id': sid, 'onset_id': f'{sid}_{o["onset_start_frame"]}', 'label': o['label'],
                   'rest_frames': [o['onset_start_frame'] - 10, o['onset_start_frame'] - 1],
                   'rise_start_frame': o['onset_start_frame'], 'target_frame': o['target_frame'],
                   'end_frame': o['end_frame'], 'talking': k == 2}
                  for o in clip.meta['onsets'] if o['onset_start_frame'] >= 10 and o['end_frame'] < len(clip.face_xy)]
        seqs.append(Sequence(sid, f'g{k}', clip.fps, clip.face_xy, 'talking' if k == 2 else 'expressive', onsets))
    return Corpus(None, seqs, [o for s in seqs for o in s.onsets])


def test_forecast_table_scores_every_system_on_the_same_frames_leave_person_out():
    corpus = generated_corpus()
    seen = []

    def copy(train_people):
        seen.append(tuple(train_people))
        return ForecastSystem(CopyCurrent())
    table = forecast_table(corpus, {'copy_current': copy, 'constant_velocity': lambda tr: ForecastSystem(ConstantVelocity())},
                           horizons=(0.2,), progress=False)
    row = table['0.2']
    assert row['copy_current']['all']['mean'] == pytest.approx(1.0)
    assert row['copy_current']['all']['n'] == 3 and set(row['copy_current']['all']['per_person']) == {'g0', 'g1', 'g2'}
    assert row['constant_velocity']['all']['frames'] == row['copy_current']['all']['frames']
    assert row['constant_velocity']['all']['mean'] > 1.0       # jitter: extrapolation loses
    assert row['copy_current']['onset_rise']['n'] >= 1
    assert sorted(seen) == [('g0', 'g1'), ('g0', 'g2'), ('g1', 'g2')]   # one model per held-out person


def test_onset_report_counts_hits_leads_and_false_alarms_per_kind_of_footage():
    corpus = generated_corpus()
    a, _, c = corpus.sequences
    o = a.onsets[0]
    face = a.face_xy
    fire = o['rise_start_frame'] + 1
    covered = np.zeros(len(c.face_xy), bool)           # onset windows (+1 s) are not alarm time
    for x in c.onsets:
        covered[x['rest_frames'][0]:x['end_frame'] + int(c.fps) + 1] = True
    free = np.flatnonzero(~covered)
    firings = {a.source_id: [(fire, face[o['target_frame']].copy())],      # a perfect target at the rise
               c.source_id: [(int(free[0]), None), (int(free[1]), None)]}  # two alarms on talking footage
    rep = onset_report(corpus, firings)
    assert rep['onsets'] == len(a.onsets) + len(c.onsets)
    assert rep['fired_before_target'] == 1
    assert rep['per_onset'][0]['lead_s'] == pytest.approx((o['target_frame'] - fire) / a.fps)
    target = rep['target_at_first_firing']
    assert target['model']['mean'] == 0.0 and target['copy_current']['mean'] > 0
    assert rep['false_alarms']['talking'] == 2 and rep['false_alarms']['expressive'] == 0
    assert rep['minutes']['talking'] == pytest.approx(len(free) / c.fps / 60, abs=0.006)   # rounded
    assert rep['false_alarms_per_min']['talking'] == pytest.approx(2 / (len(free) / c.fps / 60))
