"""Validation on real faces: expression onsets of real people as MediaPipe landmark sequences.

    python -m emo_prediction.evaluate --model model.pt --real-onsets path/to/real_onsets --out eval/

A `real_onsets` folder holds `onsets.json` (per onset: source, person, calm
`rest_frames`, `rise_start_frame`, annotated `target_frame`, fps) and
`landmarks/<source>.npz` (every frame's 468-point MediaPipe mesh). It is a small
validation set (how far models built on generated dynamics carry over to
people), not a training set, and it is not part of the repository.

For each onset:
- detector: fed from up to 2 s before the annotated calm frames (where the
  source has them; otherwise the calm frames are repeated to fill the
  detector's warm-up); its first firing from 3 frames before the rise on gives
  the lead time to the annotated target;
- model: the paper's windows around the offline peak activation of the onset
  (rest face = its first calm frames), label = the annotated target face;
  error against the mimicry baseline.
"""
import json
import pathlib

import numpy as np

from emo_prediction.dataset import HALF, INFERENCE_PICK
from emo_prediction.detector import DetectorParams, run_detector
from emo_prediction.expression_analysis import ClipError, analyze_expression


def load_face_xy(npz_path: pathlib.Path) -> tuple:
    """(face_xy (frames, 113, 2) with NaN where no face, fps) of one landmark file."""
    from emo_perception.face_frame import mesh_to_face_landmarks
    with np.load(npz_path) as f:
        meshes, detected = f['landmarks'], f['detected'].astype(bool)
        width, height, fps = int(f['width']), int(f['height']), float(f['fps'])
    face = np.full((len(meshes), 113, 2), np.nan, np.float32)
    for i in np.flatnonzero(detected):
        face[i] = mesh_to_face_landmarks(meshes[i], width, height).face_xy
    return face, fps


def evaluate_real_onsets(folder: pathlib.Path, predictor, params: DetectorParams = None) -> dict:
    from emo_prediction.face import face_model
    _, ids, _ = face_model()
    folder = pathlib.Path(folder)
    onsets = json.loads((folder / 'onsets.json').read_text())
    cache, rows = {}, []
    for o in onsets:
        if o['source_id'] not in cache:
            cache[o['source_id']] = load_face_xy(folder / 'landmarks' / f"{o['source_id']}.npz")
        face, fps = cache[o['source_id']]
        rest0, rest1 = o['rest_frames']
        rise, target, end = o['rise_start_frame'], o['target_frame'], o['end_frame']
        row = {'onset_id': o.get('onset_id', ''), 'person': o['person_id'], 'label': o['label'], 'fps': fps,
               'talking': o.get('talking', False), 'rise_to_target_s': (target - rise) / fps}
        # Detector: pre-roll of up to 2 s, else the calm frames repeated.
        start = max(0, rest0 - int(2 * fps))
        stream = face[start:end + 1]
        prime = max(0, 20 - (rest0 - start) - (rest1 - rest0 + 1))
        if prime:
            calm = face[rest0:rest1 + 1]
            stream = np.concatenate([np.resize(calm, (prime,) + calm.shape[1:]), stream])
        offset = start - prime
        fires = [f + offset for f, _ in run_detector(stream, fps, params, ids) if f + offset >= rise - 3]
        row['fired'] = bool(fires)
        row['lead_s'] = (target - fires[0]) / fps if fires else None
        # Model vs mimicry on the paper's window.
        try:
            events = analyze_expression(face[rest0:end + 1], fps)
        except ClipError as err:
            events, row['skipped'] = None, str(err)
        if events is not None and events.has_expression:
            peak = rest0 + events.peak_activation_frame
            idx = np.clip(peak - HALF + np.arange(2 * HALF + 1), 0, len(face) - 1)
            window = face[idx]
            if np.isfinite(window).all() and np.isfinite(face[target]).all():
                inputs = window[HALF - 4 + np.array(INFERENCE_PICK)]
                pred = predictor.predict(inputs)
                row['model_mae'] = float(np.abs(pred - face[target]).mean())
                row['mimicry_mae'] = float(np.abs(face[peak] - face[target]).mean())
        elif events is not None:
            row['skipped'] = events.reason
        rows.append(row)
    leads = np.array([r['lead_s'] for r in rows if r['lead_s'] is not None])
    scored = [r for r in rows if 'model_mae' in r]
    ours = np.array([r['model_mae'] for r in scored])
    mimic = np.array([r['mimicry_mae'] for r in scored])
    result = {'onsets': len(rows), 'people': len({r['person'] for r in rows}),
              'detector': {'fired': int(sum(r['fired'] for r in rows)),
                           'fired_before_target': int((leads > 0).sum()),
                           'median_lead_s': float(np.median(leads)) if len(leads) else None,
                           'median_rise_to_target_s': float(np.median([r['rise_to_target_s'] for r in rows]))},
              'model': {'scored': len(scored),
                        'mean_mae': float(ours.mean()) if len(ours) else None,
                        'mimicry_mean_mae': float(mimic.mean()) if len(mimic) else None,
                        'onsets_better_than_mimicry': int((ours < mimic).sum())},
              'per_onset': rows, 'errors': {'ours': ours, 'mimicry': mimic}}
    if len(ours) > 1:
        from scipy import stats
        t = stats.ttest_rel(ours, mimic)
        result['model']['ttest_vs_mimicry'] = {'t': float(t.statistic), 'p': float(t.pvalue)}
    return result
