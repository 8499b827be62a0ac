"""The pipeline's Table 1 (emo_bringup.table1) on a generated corpus: the plumbing from a firing's
predicted target to commands, activation and the robot's final face, leave-person-out."""
import numpy as np
import pytest

from emo_prediction.training.corpus import Corpus, Sequence, leave_person_out
from emo_prediction.training.synthetic import ExpressionGenerator


def generated_corpus(people=3, seconds=20.0, seed=0) -> Corpus:
    gen = ExpressionGenerator(seed)
    seqs = []
    for k in range(people):
        clip = gen.continuous_clip(gen.person(700 + k), seconds, expressions_per_min=9)
        sid = f'gen_{k}'
        onsets = [{'source_id': sid, 'onset_id': f'{sid}_{o["onset_start_frame"]}', 'label': o['label'],
                   'rest_frames': [o['onset_start_frame'] - 10, o['onset_start_frame'] - 1],
                   'rise_start_frame': o['onset_start_frame'], 'target_frame': o['target_frame'],
                   'end_frame': o['end_frame']}
                  for o in clip.meta['onsets'] if o['onset_start_frame'] >= 10 and o['end_frame'] < len(clip.face_xy)]
        seqs.append(Sequence(sid, f'g{k}', clip.fps, clip.face_xy, 'expressive', onsets))
    return Corpus(None, seqs, [o for s in seqs for o in s.onsets])


class Oracle:
    """A predictor that fires 2 frames into each rise knowing the real target face (or the face then)."""

    def __init__(self, corpus, knows_target: bool, trained_on: list):
        self.corpus, self.knows, self.trained_on = corpus, knows_target, trained_on

    def held_out_onsets(self, say=print):
        from emo_prediction.training.anticipation_report import FoldSetup
        return FoldSetup.held_out_onsets(self, say)         # the real fold loop, over this stand-in's folds

    def anticipator(self, train_people, firings):
        self.trained_on.append(tuple(train_people))
        oracle = self

        class System:
            def start(self, h, seq):
                self.seq = seq

            def begin_source(self, seq):
                firings[seq.source_id] = [(o['rise_start_frame'] + 2,
                                           seq.face_xy[o['target_frame'] if oracle.knows else o['rise_start_frame'] + 2])
                                          for o in seq.onsets]

            def step(self, t, face):
                return face
        return System()


def run(knows_target):
    from emo_bringup.table1 import table1
    corpus = generated_corpus()
    setup = Oracle(corpus, knows_target, [])
    setup.folds = list(leave_person_out(corpus.people))
    return table1(corpus, setup, say=lambda *a, **k: None), setup, corpus


def test_a_predictor_that_knows_the_target_scores_like_the_reference_and_beats_mimicry():
    r, setup, corpus = run(True)
    assert sorted(setup.trained_on) == [('g0', 'g1'), ('g0', 'g2'), ('g1', 'g2')]   # each person held out once
    assert r['n_onsets'] == r['n_onsets_labelled'] == len(corpus.onsets) >= 6
    p, m = r['pipeline'], r['mimicry']
    assert p['accuracy'] == 1.0 and p['fp'] == p['fn'] == 0 and p['split'] == 'leave-person-out'
    assert p['total'] == 11 * r['n_onsets'] and set(p['people']) == {'g0', 'g1', 'g2'}
    for key in ('accuracy', 'ppv', 'sensitivity', 'fpr', 'for', 'lr_plus', 'n_onsets'):
        assert key in p and key in m
    assert m['accuracy'] < 1.0                    # 2 frames into the rise, the face is still nearly calm
    e = r['robot_face_error']
    assert e['pipeline']['mean'] == pytest.approx(e['reference']['mean'])
    assert e['pipeline']['mean'] < e['mimicry']['mean']
    assert e['paired_pipeline_vs_mimicry']['better'] >= e['paired_pipeline_vs_mimicry']['n'] - 1
    assert set(e['per_person']) == {'g0', 'g1', 'g2'}


def test_a_predictor_that_shows_the_face_at_the_firing_is_mimicry():
    r, _, _ = run(False)
    assert r['pipeline']['accuracy'] == r['mimicry']['accuracy']
    assert r['robot_face_error']['pipeline']['mean'] == pytest.approx(r['robot_face_error']['mimicry']['mean'])
    lo, hi = r['pipeline']['ci95']['accuracy']
    assert lo <= r['pipeline']['accuracy'] <= hi


def test_onsets_without_a_firing_are_counted_not_scored():
    from emo_bringup.table1 import table1
    corpus = generated_corpus()
    setup = Oracle(corpus, True, [])
    setup.folds = list(leave_person_out(corpus.people))
    first = corpus.sequences[0]
    original = setup.anticipator

    def missing_first_source(train_people, firings):
        system = original(train_people, firings)
        begin = system.begin_source

        def begin_source(seq):
            begin(seq)
            if seq.source_id == first.source_id:
                firings[seq.source_id] = []
        system.begin_source = begin_source
        return system
    setup.anticipator = missing_first_source
    r = table1(corpus, setup, say=lambda *a, **k: None)
    assert r['n_onsets'] == len(corpus.onsets) - len(first.onsets)
    assert len(r['skipped']) == len(first.onsets) and all('did not fire' in s['skipped'] for s in r['skipped'])
    assert np.isfinite(r['pipeline']['accuracy'])
