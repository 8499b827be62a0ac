"""Online replay of real faces: every face a system would publish, scored against the person's face at t + h.

    systems = {'copy_current': lambda train_people: ForecastSystem(CopyCurrent()), ...}
    table = forecast_table(corpus, systems, horizons=(0.1, 0.2, 0.3, 0.5))

A system is anything with `step(t, face_xy) -> face to show now (or None)`,
built for one held-out person from the people it may learn from
(`make(train_people)`): leave-person-out, so a learned system never saw the
person it is scored on. Frames are the sources' own (any fps); the face at
t + h is the source frame round(h * fps) frames later, so the horizon a
system is asked for is that frame's time, h_eff.

Frames scored: those with a face now and at t + h_eff; every system on the
same frames. Per person, the ratio of a system's mean error to copying the
current face, over three subsets: all frames; moving frames (the person's
quarter with the largest true change over h); inside labelled onset rises
(rise_start_frame .. target_frame). Over people: mean ratio, 95% CI, per
person and the paired test of the people's mean errors.
"""
import numpy as np

from emo_prediction.training.corpus import check_disjoint
from emo_common.stats import ratio_report
from emo_common.layout import NUM_LANDMARKS

HORIZONS = (0.1, 0.2, 0.3, 0.5)
SUBSETS = ('all', 'moving', 'onset_rise')


def horizon_frames(h: float, fps: float) -> int:
    return max(1, int(round(h * fps)))


def mae(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute error over the 113 x 2 coordinates, per frame (NaN where either is missing)."""
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).reshape(len(a), -1).mean(axis=1)


class ForecastSystem:
    """A forecaster as a system: after each frame, its forecast h_eff ahead."""

    def __init__(self, forecaster):
        self.forecaster = forecaster

    def start(self, h: float, seq=None) -> None:
        self.forecaster.reset()
        self.h = h

    def step(self, t, face):
        self.forecaster.update(t, face)
        return None if face is None else self.forecaster.forecast(self.h)


def replay(system, seq, h: float) -> np.ndarray:
    """(frames, 113, 2) what the system publishes after each frame of one sequence (NaN: nothing)."""
    out = np.full(seq.face_xy.shape, np.nan)
    system.start(h, seq)
    pre = preroll(seq)
    for k, face in enumerate(pre):
        system.step((k - len(pre)) / seq.fps, face)
    if hasattr(system, 'begin_source'):
        system.begin_source(seq)
    for i, (t, face) in enumerate(zip(seq.times, seq.face_xy)):
        face = face if np.isfinite(face).all() else None
        shown = system.step(float(t), face)
        if shown is not None:
            out[i] = shown
    return out


def rise_mask(seq) -> np.ndarray:
    mask = np.zeros(len(seq.face_xy), bool)
    for o in seq.onsets:
        mask[o['rise_start_frame']:o['target_frame'] + 1] = True
    return mask


def forecast_table(corpus, systems: dict, horizons=HORIZONS, folds=None, progress: bool = True) -> dict:
    """Leave-person-out replay of every system over the corpus; ratios to copy-current per subset.
    folds: (train people, test people) pairs (default: one person per fold)."""
    from tqdm import tqdm
    from emo_prediction.training.corpus import leave_person_out
    folds = list(folds or leave_person_out(corpus.people))
    # errors[h][system][person] = per-frame errors; masks[h][person] = (moving, rise)
    errors = {h: {name: {} for name in systems} for h in horizons}
    copy_err = {h: {} for h in horizons}
    rises = {h: {} for h in horizons}
    todo = [(train_people, person) for train_people, test_people in folds for person in test_people]
    built, built_for = None, None
    for train_people, person in tqdm(todo, desc='leave-person-out', disable=not progress):
        check_disjoint(train_people, [person])
        if built_for != train_people:
            built = {name: make(train_people) for name, make in systems.items()}
            built_for = train_people
        for h in horizons:
            per_sys = {name: [] for name in systems}
            copies, rmask = [], []
            for seq in corpus.of([person]):
                n = horizon_frames(h, seq.fps)
                if len(seq.face_xy) <= n:
                    continue
                face = seq.face_xy.astype(np.float64)
                shown = {name: replay(system, seq, n / seq.fps) for name, system in built.items()}
                ok = np.isfinite(face[:-n]).all(axis=(1, 2)) & np.isfinite(face[n:]).all(axis=(1, 2))
                for s in shown.values():
                    ok &= np.isfinite(s[:-n]).all(axis=(1, 2))
                copies.append(mae(face[:-n][ok], face[n:][ok]))
                rmask.append(rise_mask(seq)[:-n][ok])
                for name, s in shown.items():
                    per_sys[name].append(mae(s[:-n][ok], face[n:][ok]))
            if not copies:
                continue
            copy_err[h][person] = np.concatenate(copies)
            rises[h][person] = np.concatenate(rmask)
            for name in systems:
                errors[h][name][person] = np.concatenate(per_sys[name])
    table = {}
    for h in horizons:
        table[f'{h:g}'] = {}
        moving = {p: c >= np.quantile(c, 0.75) for p, c in copy_err[h].items()}
        for name in systems:
            row = {}
            for subset in SUBSETS:
                mask = {p: (np.ones(len(c), bool) if subset == 'all' else moving[p] if subset == 'moving'
                            else rises[h][p]) for p, c in copy_err[h].items()}
                keep = [p for p in copy_err[h] if mask[p].any()]
                row[subset] = ratio_report({p: errors[h][name][p][mask[p]] for p in keep},
                                           {p: copy_err[h][p][mask[p]] for p in keep})
                row[subset]['mean_error'] = float(np.mean([errors[h][name][p][mask[p]].mean() for p in keep])) \
                    if keep else None
            table[f'{h:g}'][name] = row
    return table


def preroll(seq, seconds: float = 1.0) -> np.ndarray:
    """Calm frames to show a system before a source whose first onset starts within `seconds`: a
    robot has watched the person for a while before they make an expression (the detector needs
    calm frames to learn the rest face and the landmark noise). Empty when not needed."""
    if not seq.onsets:
        return np.empty((0, NUM_LANDMARKS, 2))
    first = min(seq.onsets, key=lambda o: o['rest_frames'][0])
    r0, r1 = first['rest_frames']
    if r0 >= seconds * seq.fps:
        return np.empty((0, NUM_LANDMARKS, 2))
    calm = seq.face_xy[r0:r1 + 1]
    calm = calm[np.isfinite(calm).all(axis=(1, 2))]
    return np.resize(calm, (int(round(seconds * seq.fps)),) + calm.shape[1:]) if len(calm) else np.empty((0, NUM_LANDMARKS, 2))


class AnticipatorSystem:
    """The predictor's Anticipator (detector + target model + forecaster) exactly as the node runs it,
    built per horizon and person by `make(h, person)`; it also records where the detector fired and
    the target face it predicted then."""

    def __init__(self, make, firings: dict = None):
        self.make = make
        self.firings = {} if firings is None else firings   # source_id -> [(frame, target_xy or None)]

    def start(self, h: float, seq) -> None:
        self.anticipator = self.make(h, seq.person)
        self._seq = None

    def begin_source(self, seq) -> None:
        self._seq = seq
        self.firings[seq.source_id] = []

    def step(self, t, face):
        fires = self.anticipator.fires
        self.anticipator.target_xy = None
        out = self.anticipator.update(t, face)
        if self._seq is not None and self.anticipator.fires > fires:
            target = None if self.anticipator.target_xy is None else np.array(self.anticipator.target_xy)
            self.anticipator.target_xy = None
            self.firings[self._seq.source_id].append((int(round(t * self._seq.fps)), target))
        return None if out is None else out.face_xy


def _peak_activation_frame(seq, onset):
    """The paper's peak activation of a labelled onset (offline, from its calm frames on), or None."""
    from emo_prediction.training.expression_analysis import ClipError, analyze_expression
    r0 = onset['rest_frames'][0]
    try:
        events = analyze_expression(seq.face_xy[r0:onset['end_frame'] + 1], seq.fps)
    except ClipError:
        return None
    return r0 + events.peak_activation_frame if events.has_expression else None


def _extrapolated(seq, frame: int, h: float) -> np.ndarray:
    """Constant-velocity forecast h ahead from the frames up to `frame` (the baseline at the firing)."""
    from emo_prediction.forecast import ConstantVelocity
    cv = ConstantVelocity()
    for i in range(max(0, frame - 10), frame + 1):
        face = seq.face_xy[i]
        cv.update(i / seq.fps, face if np.isfinite(face).all() else None)
    return cv.forecast(h)


def first_firing(fires, onset, early_frames: int = 3):
    """The first (frame, target) of `fires` that counts for a labelled onset: from `early_frames` before its
    rise to its target frame; None if the system did not fire on it."""
    hits = [(f, tgt) for f, tgt in sorted(fires, key=lambda x: x[0])
            if onset['rise_start_frame'] - early_frames <= f <= onset['target_frame']]
    return hits[0] if hits else None


def onset_report(corpus, firings: dict, early_frames: int = 3, after_s: float = 1.0) -> dict:
    """From where a system fired on each source: hits on the labelled onsets (a firing from
    `early_frames` before the rise to the target), lead before the target, target-face error at the
    first firing against the baselines, and false alarms per minute of each kind of footage."""
    from emo_common.stats import paired, summary
    rows, alarms, minutes = [], {}, {}
    for seq in corpus.sequences:
        if seq.source_id not in firings:
            continue
        fires = sorted(firings[seq.source_id], key=lambda f: f[0])
        face = seq.face_xy.astype(np.float64)
        excluded = np.zeros(len(face), bool)
        for o in seq.onsets:
            excluded[o['rest_frames'][0]:o['end_frame'] + int(after_s * seq.fps) + 1] = True
            hit = first_firing(fires, o, early_frames)
            row = {'onset_id': o.get('onset_id', ''), 'person': seq.person, 'label': o['label'],
                   'talking': bool(o.get('talking', False)), 'fired': hit is not None,
                   'rise_to_target_s': (o['target_frame'] - o['rise_start_frame']) / seq.fps}
            if hit is not None:
                f, tgt = hit
                truth = face[o['target_frame']]
                lead = (o['target_frame'] - f) / seq.fps
                row['lead_s'] = lead
                row['fire_minus_rise_s'] = (f - o['rise_start_frame']) / seq.fps
                err = {'copy_current': face[f], 'constant_velocity': _extrapolated(seq, f, lead)}
                if tgt is not None:
                    err['model'] = tgt
                peak = _peak_activation_frame(seq, o)
                if peak is not None:
                    err['mimicry_peak_activation'] = face[peak]
                row['target_error'] = {k: float(np.abs(v - truth).mean()) for k, v in err.items()
                                       if v is not None and np.isfinite(v).all() and np.isfinite(truth).all()}
            rows.append(row)
        kind = seq.category
        alarms[kind] = alarms.get(kind, 0) + sum(1 for f, _ in fires if not excluded[min(f, len(face) - 1)])
        minutes[kind] = minutes.get(kind, 0.0) + (~excluded).sum() / seq.fps / 60.0
    leads = np.array([r['lead_s'] for r in rows if 'lead_s' in r])
    scored = [r for r in rows if 'model' in r.get('target_error', {})]
    out = {'onsets': len(rows), 'people': len({r['person'] for r in rows}),
           'fired': int(sum(r['fired'] for r in rows)),
           'fired_before_target': int((leads > 0).sum()),
           'fired_before_target_fraction': float((leads > 0).sum() / len(rows)) if rows else None,
           'lead_s': summary(leads), 'median_lead_s': float(np.median(leads)) if len(leads) else None,
           'median_rise_to_target_s': float(np.median([r['rise_to_target_s'] for r in rows])) if rows else None,
           'by_talking': {str(k): {'onsets': sum(r['talking'] == k for r in rows),
                                   'fired': sum(r['fired'] and r['talking'] == k for r in rows)} for k in (False, True)},
           'false_alarms_per_min': {k: (alarms[k] / minutes[k] if minutes[k] > 0 else None) for k in alarms},
           'false_alarms': alarms, 'minutes': {k: round(v, 2) for k, v in minutes.items()},
           'per_onset': rows}
    if scored:
        model = np.array([r['target_error']['model'] for r in scored])
        target = {'scored': len(scored), 'model': summary(model)}
        for base in ('copy_current', 'constant_velocity', 'mimicry_peak_activation'):
            pairs = [(r['target_error']['model'], r['target_error'][base]) for r in scored if base in r['target_error']]
            if pairs:
                m, b = np.array(pairs).T
                target[base] = summary(b)
                target[f'ratio_to_{base}'] = float(m.mean() / b.mean())
                target[f'paired_vs_{base}'] = paired(m, b)
        out['target_at_first_firing'] = target
    return out


def window_report(corpus, make_predictor, folds=None) -> dict:
    """The paper's protocol on the labelled onsets: 4 of the 9 frames around the offline peak
    activation in, the target face out; against mimicry (the face at the peak activation), copying
    the newest input frame (t_r + 4) and constant velocity from the input frames to the target.
    `make_predictor(train_people)` builds the target-face model without the test people of each fold
    (folds: (train people, test people) pairs; default one person per fold)."""
    from emo_prediction.training.corpus import leave_person_out
    from emo_prediction.window import INPUT_FRAMES, PEAK_WINDOW_HALF
    from emo_common.stats import paired, summary
    rows = []
    todo = [(tr, p) for tr, te in (folds or leave_person_out(corpus.people)) for p in te]
    for train_people, person in todo:
        seqs = [s for s in corpus.of([person]) if s.onsets]
        if not seqs:
            continue
        check_disjoint(train_people, [person])
        predictor = make_predictor(train_people)
        for seq in seqs:
            face = seq.face_xy.astype(np.float64)
            for o in seq.onsets:
                peak = _peak_activation_frame(seq, o)
                row = {'onset_id': o.get('onset_id', ''), 'person': person, 'label': o['label']}
                rows.append(row)
                if peak is None:
                    row['skipped'] = 'no offline peak activation'
                    continue
                idx = np.clip(peak - PEAK_WINDOW_HALF + np.arange(2 * PEAK_WINDOW_HALF + 1), 0, len(face) - 1)
                window, truth = face[idx], face[o['target_frame']]
                if not (np.isfinite(window).all() and np.isfinite(truth).all()):
                    row['skipped'] = 'no face in the window'
                    continue
                inputs = window[PEAK_WINDOW_HALF - 4 + np.array(INPUT_FRAMES)]
                newest = peak + 4
                lead = (o['target_frame'] - newest) / seq.fps
                row['peak_to_target_s'] = (o['target_frame'] - peak) / seq.fps
                guesses = {'model': predictor.predict(inputs), 'mimicry_peak_activation': face[peak],
                           'copy_newest_input': inputs[-1], 'constant_velocity': _extrapolated(seq, newest, max(lead, 0.0))}
                row['error'] = {k: float(np.abs(np.asarray(v, np.float64) - truth).mean()) for k, v in guesses.items()}
    scored = [r for r in rows if 'error' in r]
    out = {'onsets': len(rows), 'scored': len(scored), 'per_onset': rows}
    if scored:
        model = np.array([r['error']['model'] for r in scored])
        out['model'] = summary(model)
        for base in ('mimicry_peak_activation', 'copy_newest_input', 'constant_velocity'):
            b = np.array([r['error'][base] for r in scored])
            out[base] = summary(b)
            out[f'ratio_to_{base}'] = float(model.mean() / b.mean())
            out[f'paired_vs_{base}'] = paired(model, b)
    return out
