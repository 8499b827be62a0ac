"""The 113-point layout every package reads (emo_common.layout)."""
import json
import pathlib

import numpy as np
import pytest

from emo_common.layout import FACE_SIZE, NUM_LANDMARKS, NUM_UPPER_FACE, group_vertices, landmark_layout, vertex_ids

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / '..' / 'shared' / 'reference' / 'emo_landmarks_113.json'


def test_the_layout_is_113_distinct_vertices_upper_face_first_each_block_sorted():
    ids = vertex_ids()
    assert ids.dtype == np.int64 and ids.shape == (NUM_LANDMARKS,) and len(set(ids.tolist())) == NUM_LANDMARKS
    assert FACE_SIZE == 2 * NUM_LANDMARKS
    upper, lower = ids[:NUM_UPPER_FACE].tolist(), ids[NUM_UPPER_FACE:].tolist()
    assert upper == sorted(upper) and lower == sorted(lower)
    assert landmark_layout().vertex_ids == ids.tolist()


def test_groups_name_rows_of_those_vertices_and_the_neutral_face_is_a_face():
    neutral, ids, rows = landmark_layout()
    for name, verts in group_vertices().items():
        assert [ids[r] for r in rows[name]] == verts, name
        assert len(verts) == int(''.join(c for c in name if c.isdigit())), name   # 'lips40' holds 40 points
    assert neutral.shape == (NUM_LANDMARKS, 2) and np.isfinite(neutral).all()
    # y grows downwards: brows above eyes above lips.
    mean = {name: neutral[r].mean(axis=0) for name, r in rows.items()}
    assert mean['left_brow10'][1] < mean['left_eye16'][1] < mean['lips40'][1]


def test_the_layout_is_loaded_once():
    assert landmark_layout() is landmark_layout() and vertex_ids() is vertex_ids()


def test_the_layout_agrees_with_the_project_reference_when_it_is_there():
    if not REFERENCE.is_file():
        pytest.skip(f'{REFERENCE} not here (it is outside a user clone)')
    ref = json.loads(REFERENCE.read_text())
    assert vertex_ids().tolist() == ref['model_input_order']
    assert group_vertices() == ref['groups']


def test_regions_are_parts_of_the_groups_they_belong_to():
    from emo_common.layout import region
    groups = group_vertices()
    for side, eye in (('right', 'right_eye16'), ('left', 'left_eye16')):
        for lid in ('upper', 'lower'):
            assert set(region(f'{lid}_lid_{side}')) <= set(groups[eye])
    for lip in ('upper_lip', 'upper_lip_outer', 'lower_lip'):
        assert set(region(lip)) <= set(groups['lips40']) | set(groups['inner_lips20'])
    assert region('upper_lip')[:9] == region('upper_lip_outer')
    assert not set(region('upper_lip')) & set(region('lower_lip'))
    with pytest.raises(KeyError, match='no region'):
        region('nose')
