"""Procedurally generated expression dynamics: augmentation for the predictive models, and test clips.

    gen = ExpressionGenerator(seed=0)
    clip = gen.expression_clip(gen.person(3))              # one onset: calm, rise, hold
    clip.face_xy  (frames, 113, 2), clip.onset_start_frame, clip.target_frame, clip.label
    clip.meta['regions']                                   # when each face region starts and peaks
    calm = gen.calm_clip(gen.person(3), seconds=60)        # blinks, talking, jitter; no expression
    long = gen.continuous_clip(gen.person(3), seconds=60)  # calm, talking, expressions that rise, hold, return
    long.meta['onsets']                                    # [{'label', 'onset_start_frame', 'target_frame', ...}]

No corpus of human expression videos ships with any package registry, so the
shipped predictor is trained on these clips (a user retrains on real data, e.g.
MMI, with `emo_prediction build-dataset` + `train`). They live in the face frame
of emo_msgs/FaceLandmarks (unit: outer-eye-corner distance, y down) and are
sized after real MediaPipe onsets: mean whole-face displacement at the apex
0.02-0.11, rest jitter 0.001-0.006, brows 0.05-0.1, mouth opening up to 0.3.

- faces: a neutral reference face reshaped per person (face width and length,
  brow height, eye spacing, mouth width, jaw length) plus small per-point offsets;
- expressions: smile, jaw drop, surprise, brow raise, frown, eye squeeze, sad
  (displacements of landmark groups), each with a random intensity, a little
  left/right asymmetry, a person-specific style and sometimes a second,
  weaker expression mixed in with its own onset time and time curves;
- dynamics: an expression is split into face regions (brows, upper lids, lower
  lids, mouth corners, upper lip, lower lip, jaw) and, within each region, into
  its horizontal and vertical motion. Every part has its own start, rise time,
  profile (minimum-jerk, sine or cubic ease, with warped timing) and sometimes
  an overshoot that settles, so regions peak at different times and landmarks
  move on curved paths (a smile's corner goes out, then up). The whole onset
  keeps the paper's log-normal duration, 0.84 s +- 0.71 s;
- nuisances: landmark jitter, slowly drifting head-pose residue of the face
  alignment, blinks, and speech: syllables at 3-5.5 Hz in phrases, each opening
  the mouth with its own mix of jaw, lips and mouth width.
"""
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from emo_common.layout import NUM_LANDMARKS, landmark_layout, region

EXPRESSIONS = ('smile', 'jaw_drop', 'surprise', 'brow_raise', 'frown', 'eye_squeeze', 'sad')
# Share of clips whose expression is a random smooth displacement field instead of
# a named one: it keeps the model from memorising a few shapes, so that it learns to
# carry on the motion it sees (what transfers to real faces).
RANDOM_FIELD_SHARE = 0.35
# Intensity ranges (face units) of each expression's main motion.
INTENSITY = {'smile': (0.09, 0.18), 'jaw_drop': (0.12, 0.32), 'surprise': (0.10, 0.22),
             'brow_raise': (0.09, 0.20), 'frown': (0.10, 0.18), 'eye_squeeze': (0.09, 0.18),
             'sad': (0.10, 0.20)}
ONSET_MEAN_S, ONSET_SD_S = 0.841, 0.713   # the paper's measured onset duration
# Relaxing back to rest: no measured figure at hand; drawn like onsets, a little slower.
OFFSET_STRETCH = 1.3
MIXED_SHARE = 0.3                          # clips with a weaker second expression

REGIONS = ('brows', 'upper_lids', 'lower_lids', 'mouth_corners', 'upper_lip', 'lower_lip', 'jaw')
UPPER_FACE = ('brows', 'upper_lids', 'lower_lids')

# Region timing, measured on the 17 labelled real onsets (shared/data/real_onsets;
# per region the Savitzky-Golay-smoothed mean distance to the rest face; 13 onsets
# with two or more regions above noise):
# - regions leave rest together: their 10% crossings coincide in 8 of 13 onsets
#   (at most 230 ms apart; the annotation ends the rest frames at the whole face's
#   10%, which flattens this), so start delays are small and rare;
# - they arrive apart: the 90% crossings spread 160 ms (median; IQR 100-300 ms)
#   and the brows reach theirs before or after the mouth equally often
#   (4 of 8 each way; |brows - mouth| median 140 ms, up to 470 ms);
# - the whole-face displacement turns 15 deg (median; IQR 13-34 deg) between
#   reaching 35% of the apex's and the apex, while single dominant landmarks (jaw,
#   lower lip) move nearly straight (median 3 deg) and a smile's corners turn 9-13 deg.
# The same measures on 600 generated clips: 90% crossings 130 ms apart (IQR 70-300),
# |brows - mouth| 100 ms, brows first in 47%, whole-face turn 23 deg, dominant
# landmarks 3 deg (one shared time curve gave 30 ms, 0 ms, 6 deg: landmark noise).
# The fractions below are of the whole onset: an upper- vs lower-face difference
# in arrival, small per-region jitter, and a lag of one axis within a region.
HALF_FACE_SHIFT_SD = 0.26      # arrival of upper vs lower face, SD as a fraction of the onset
REGION_START_MAX = 0.05        # every region starts within this fraction ...
LATE_START_SHARE, LATE_START_MAX = 0.15, 0.15  # ... and a few of them up to 0.15 later
REGION_END_JITTER = 0.12
AXIS_LAG_MAX = 0.3             # one axis of a region lags the other by up to 30% of its rise
OVERSHOOT_SHARE, OVERSHOOT = 0.35, (0.03, 0.15)
SETTLE_S = (0.15, 0.5)
# No part of the face gets there faster: the quickest real onsets reach 90% in 80-120 ms.
MIN_RISE_S = 0.1
PROFILES = ('minimum_jerk', 'sine', 'cubic')
PROFILE_SHARES = (0.6, 0.2, 0.2)


def _rows(*vertex_ids):
    _, ids, _ = landmark_layout()
    return np.array([ids.index(v) for v in vertex_ids])


LID_UP_R, LID_UP_L = region('upper_lid_right'), region('upper_lid_left')
LID_LO_R, LID_LO_L = region('lower_lid_right'), region('lower_lid_left')
LIP_LO = region('lower_lip')
CORNERS = (61, 291, 78, 308)


def expression_field(label: str, face: np.ndarray, amount: float) -> np.ndarray:
    """The (113, 2) displacement of `label` at intensity `amount` on a given face (its apex)."""
    _, ids, groups = landmark_layout()
    d = np.zeros_like(face)
    x, y = face[:, 0], face[:, 1]
    brows = np.concatenate([groups['right_brow10'], groups['left_brow10']])
    lids_up, lids_lo = _rows(*LID_UP_R, *LID_UP_L), _rows(*LID_LO_R, *LID_LO_L)
    corner_r, corner_l = ids.index(61), ids.index(291)
    mouth_c = (face[corner_r] + face[corner_l]) / 2
    chin_y = face[ids.index(152), 1]
    if label in ('jaw_drop', 'surprise'):
        a = amount if label == 'jaw_drop' else amount * 0.9
        jaw = groups['jaw21']
        share = np.clip((y[jaw] - mouth_c[1]) / (chin_y - mouth_c[1]), 0, 1) ** 1.5
        d[jaw, 1] += a * share
        d[_rows(*LIP_LO), 1] += a * 0.95
        d[_rows(*CORNERS), 1] += a * 0.35
        d[_rows(*CORNERS), 0] += a * 0.08 * np.sign(mouth_c[0] - x[_rows(*CORNERS)])
    if label in ('brow_raise', 'surprise'):
        a = amount if label == 'brow_raise' else amount * 0.5
        d[brows, 1] -= a
        d[lids_up, 1] -= a * 0.25
    if label == 'smile':
        for c in (corner_r, corner_l):
            w = np.exp(-np.sum((face - face[c]) ** 2, axis=1) / (2 * 0.12 ** 2))
            out = np.sign(face[c, 0] - mouth_c[0])
            d[:, 0] += w * out * amount * 0.9
            d[:, 1] -= w * amount * 0.9
        d[_rows(*LIP_LO), 1] += amount * 0.5   # lips part
        d[lids_lo, 1] -= amount * 0.2           # cheeks push the lower lids up
    if label == 'frown':
        d[brows, 1] += amount * 0.6
        d[brows, 0] += amount * 0.5 * np.sign(-x[brows]) * np.clip(1.2 - np.abs(x[brows]), 0, 1)
        d[_rows(*CORNERS), 1] += amount * 0.6
        d[lids_up, 1] += amount * 0.2
    if label == 'eye_squeeze':
        d[lids_up, 1] += amount * 0.8
        d[lids_lo, 1] -= amount * 0.4
        d[brows, 1] += amount * 0.5
        d[_rows(*CORNERS), 1] -= amount * 0.3
    if label == 'sad':
        inner = np.clip(1.0 - np.abs(x[brows]) / 0.6, 0, 1)
        d[brows, 1] -= amount * inner
        d[_rows(*CORNERS), 1] += amount * 0.7
        d[_rows(*LIP_LO), 1] -= amount * 0.2
    if label not in EXPRESSIONS:
        raise ValueError(f'unknown expression {label!r}; known: {EXPRESSIONS}')
    return d


def random_field(face: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth random displacement: a few Gaussian bumps, mirrored left/right, scaled to `amount`."""
    d = np.zeros_like(face)
    for _ in range(rng.integers(1, 4)):
        center = face[rng.integers(0, len(face))]
        width = rng.uniform(0.15, 0.5)
        direction = rng.normal(0, 1, 2)
        direction /= np.linalg.norm(direction)
        for sign in (1, -1):  # both sides of the face, x mirrored
            c = center * np.array([sign, 1])
            w = np.exp(-np.sum((face - c) ** 2, axis=1) / (2 * width ** 2))
            d += w[:, None] * direction * np.array([sign, 1])
    peak = np.linalg.norm(d, axis=1).max()
    return d * (amount / peak if peak > 0 else 0.0)


@lru_cache(maxsize=None)
def region_weights() -> np.ndarray:
    """(len(REGIONS), 113) soft membership of every landmark, summing to 1 per landmark.

    Lip points blend from the mouth corners inwards, so that a corner leading the
    middle of the lips bends the lip line instead of tearing it.
    """
    face, ids, groups = landmark_layout()
    w = np.zeros((len(REGIONS), len(face)))

    def put(region, rows, weight=1.0):
        w[REGIONS.index(region), rows] += weight
    put('brows', np.concatenate([groups['right_brow10'], groups['left_brow10']]))
    lids_lo = _rows(*LID_LO_R, *LID_LO_L)
    put('lower_lids', lids_lo)
    put('upper_lids', np.setdiff1d(np.concatenate([groups['right_eye16'], groups['left_eye16']]), lids_lo))
    put('jaw', groups['jaw21'])
    lips = groups['lips40']
    corner_r, corner_l = ids.index(61), ids.index(291)
    center_x = (face[corner_r, 0] + face[corner_l, 0]) / 2
    reach = np.abs(face[lips, 0] - center_x) / ((face[corner_l, 0] - face[corner_r, 0]) / 2)
    corner = minimum_jerk((reach - 0.5) / 0.4)
    lower = np.isin(lips, _rows(*LIP_LO))
    put('mouth_corners', lips, corner)
    put('lower_lip', lips[lower], 1 - corner[lower])
    put('upper_lip', lips[~lower], 1 - corner[~lower])
    return w


@dataclass
class Person:
    person_id: str
    face: np.ndarray              # (113, 2) neutral face
    style: dict                   # expression -> intensity factor
    jitter: float                 # landmark noise SD
    blink_rate_hz: float
    talkativeness: float          # probability a clip has talking
    speech_opening: float = 0.06  # mouth opening of a stressed syllable (face units)


@dataclass
class Clip:
    face_xy: np.ndarray           # (frames, 113, 2)
    fps: float
    person_id: str
    label: str                    # '' for a calm clip, 'continuous' for continuous_clip
    onset_start_frame: int = -1
    target_frame: int = -1        # first frame at the apex (t_m)
    amplitude: float = 0.0        # mean landmark displacement from rest at the apex
    meta: dict = field(default_factory=dict)


def minimum_jerk(tau):
    tau = np.clip(tau, 0.0, 1.0)
    return 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5


def _ease(kind, tau):
    """Monotone 0 -> 1 profiles with zero speed at both ends, all evaluated (kind picks per column)."""
    tau = np.clip(tau, 0.0, 1.0)
    sine = 0.5 - 0.5 * np.cos(np.pi * tau)
    cubic = tau * tau * (3 - 2 * tau)
    return np.where(kind == 0, minimum_jerk(tau), np.where(kind == 1, sine, cubic))


@dataclass
class Motion:
    """One expression as parts (a region's x or y motion) on their own time curves."""
    label: str
    parts: np.ndarray             # (P, 113, 2) displacement of each part at the apex
    region: np.ndarray            # (P,) index into REGIONS
    axis: np.ndarray              # (P,) 0: horizontal, 1: vertical
    start: np.ndarray             # (P,) s from the expression's first motion
    rise: np.ndarray              # (P,) s
    gamma: np.ndarray             # (P,) timing warp: tau ** gamma moves the peak of acceleration
    kind: np.ndarray              # (P,) index into PROFILES
    overshoot: np.ndarray         # (P,) fraction past the apex, then settles back
    settle: np.ndarray            # (P,) s
    onset_s: float                # first motion to the whole face's apex (the paper's onset duration)

    def curves(self, t: np.ndarray) -> np.ndarray:
        """(len(t), P) progress of every part at times t (s from the first motion)."""
        tau = np.clip((t[:, None] - self.start) / self.rise, 0, 1) ** self.gamma
        settle = minimum_jerk((t[:, None] - self.start - self.rise) / self.settle)
        return (1 + self.overshoot) * _ease(self.kind, tau) - self.overshoot * settle

    def displacement(self, curves: np.ndarray) -> np.ndarray:
        """(frames, 113, 2) displacement for given part curves (frames, P)."""
        return (curves @ self.parts.reshape(len(self.parts), -1)).reshape(len(curves), NUM_LANDMARKS, 2)

    @property
    def end_s(self) -> float:
        return float(np.max(self.start + self.rise + self.settle * (self.overshoot > 0)))


def _split_by_region(field_xy: np.ndarray, min_share: float = 0.02):
    """(parts (P, 113, 2), region (P,), axis (P,)): a field split by region and axis, negligible parts dropped."""
    w = region_weights()
    parts, region, axis = [], [], []
    for r in range(len(REGIONS)):
        for a in (0, 1):
            part = np.zeros_like(field_xy)
            part[:, a] = w[r] * field_xy[:, a]
            parts.append(part)
            region.append(r)
            axis.append(a)
    parts = np.array(parts)
    size = np.abs(parts).max(axis=(1, 2))
    keep = size >= min_share * max(size.max(), 1e-12)
    return parts[keep], np.array(region)[keep], np.array(axis)[keep]


def _apex_frame(size: np.ndarray, within: float = 0.01) -> int:
    """First frame whose displacement is within 1% of the greatest (the apex of a plateau)."""
    return int(np.flatnonzero(size >= (1 - within) * size.max())[0])


def _mean_size(disp: np.ndarray) -> np.ndarray:
    """Mean landmark distance from rest of (..., landmarks, 2) displacements."""
    return np.sqrt(np.einsum('...i,...i->...', disp, disp)).mean(axis=-1)


def _span_of_the_parts_that_matter(start: np.ndarray, end: np.ndarray, parts: np.ndarray):
    """(start, end) mapped so that the parts of >= 10% of the largest span 0..1; small parts fit inside."""
    size = np.abs(parts).max(axis=(1, 2))
    main = size >= 0.1 * size.max()
    lo, hi = start[main].min(), end[main].max()
    start, end = (start - lo) / (hi - lo), np.clip((end - lo) / (hi - lo), 0.0, 1.0)
    return np.clip(start, 0.0, np.maximum(end - 0.2, 0.0)), end


def _stretched_to_apex(motion: Motion, duration_s: float) -> Motion:
    """The paper's duration runs from the first motion to the whole face's apex, which comes
    before the last small part arrives (or at an overshoot): stretch the rise to match."""
    t = np.linspace(0, motion.end_s, 120)
    apex_s = t[_apex_frame(_mean_size(motion.displacement(motion.curves(t))))]
    stretch = duration_s / max(apex_s, 1e-3)
    motion.start, motion.rise = motion.start * stretch, np.maximum(motion.rise * stretch, MIN_RISE_S)
    return motion


class ExpressionGenerator:
    def __init__(self, seed: int = 0, fps: float = 30.0):
        self.rng = np.random.default_rng(seed)
        self.fps = fps

    def person(self, index: int) -> Person:
        """A deterministic person (same index, same face) whatever was generated before."""
        rng = np.random.default_rng(10_000 + index)
        base, ids, groups = landmark_layout()
        face = base.copy()
        face[:, 0] *= rng.uniform(0.92, 1.08)
        face[:, 1] *= rng.uniform(0.92, 1.10)
        brows = np.concatenate([groups['right_brow10'], groups['left_brow10']])
        face[brows, 1] += rng.uniform(-0.04, 0.04)
        lips = groups['lips40']
        center = face[lips].mean(axis=0)
        face[lips] = center + (face[lips] - center) * np.array([rng.uniform(0.88, 1.12), rng.uniform(0.85, 1.15)])
        jaw = groups['jaw21']
        face[jaw, 1] += rng.uniform(-0.05, 0.05) * np.clip(face[jaw, 1] - face[lips, 1].mean(), 0, None)
        face += rng.normal(0, 0.004, face.shape)
        style = {e: rng.uniform(0.7, 1.3) for e in EXPRESSIONS}
        return Person(f'synthetic_p{index:03d}', face, style, jitter=rng.uniform(0.001, 0.005),
                      blink_rate_hz=rng.uniform(0.1, 0.4), talkativeness=rng.uniform(0.0, 0.4),
                      speech_opening=rng.uniform(0.05, 0.11))

    # ----- time curves -------------------------------------------------------------------------

    def _onset_seconds(self, mean_s: float = ONSET_MEAN_S, sd_s: float = ONSET_SD_S) -> float:
        sigma2 = np.log(1 + (sd_s / mean_s) ** 2)
        return float(np.clip(self.rng.lognormal(np.log(mean_s) - sigma2 / 2, np.sqrt(sigma2)), 0.2, 3.0))

    def _region_timing(self, label: str):
        """Per region (start, end) as fractions of the onset, profile, warp, overshoot, settle, leading axis."""
        rng, n = self.rng, len(REGIONS)
        upper = np.isin(REGIONS, UPPER_FACE)
        shift = float(np.clip(rng.normal(0, HALF_FACE_SHIFT_SD), -0.5, 0.5))  # > 0: upper face arrives first
        start = rng.uniform(0, REGION_START_MAX, n)
        start += (rng.random(n) < LATE_START_SHARE) * rng.uniform(0, LATE_START_MAX, n)
        end = 1 - np.where(upper, max(shift, 0.0), max(-shift, 0.0)) - rng.uniform(0, REGION_END_JITTER, n)
        end = np.maximum(end, start + 0.3)
        kind = rng.choice(len(PROFILES), n, p=PROFILE_SHARES)
        gamma = rng.uniform(0.65, 1.5, n)
        overshoot = np.where(rng.random(n) < OVERSHOOT_SHARE, rng.uniform(*OVERSHOOT, n), 0.0)
        settle = rng.uniform(*SETTLE_S, n)
        lead_axis = rng.integers(0, 2, n)
        if label == 'smile' and rng.random() < 0.8:  # the corners pull out before they lift
            lead_axis[REGIONS.index('mouth_corners')] = 0
        lag = rng.uniform(0, AXIS_LAG_MAX, n)
        return start, end, kind, gamma, overshoot, settle, lead_axis, lag

    def _motion(self, label: str, parts: np.ndarray, region: np.ndarray, axis: np.ndarray,
                duration_s: float, relax: bool = False) -> Motion:
        """Time curves for the parts of an expression; its whole-face apex comes duration_s after it starts."""
        start, end, kind, gamma, overshoot, settle, lead_axis, lag = self._region_timing(label)
        s, e = start[region], end[region]
        late = (axis != lead_axis[region]) * lag[region] * (e - s)
        s, e = _span_of_the_parts_that_matter(s + late, e + late / 3, parts)
        overshoot = np.zeros(len(parts)) if relax else overshoot[region]
        motion = Motion(label, parts, region, axis, s * duration_s, np.maximum((e - s) * duration_s, MIN_RISE_S),
                        gamma[region], kind[region], overshoot, settle[region], duration_s)
        return _stretched_to_apex(motion, duration_s)

    def _expression(self, person: Person, label: str, random_shape: bool = False, scale: float = 1.0,
                    onset_s: float = None) -> Motion:
        """One expression of this person: shape, intensity, asymmetry, time curves."""
        rng = self.rng
        if random_shape:
            field_xy, label = random_field(person.face, rng.uniform(0.08, 0.3), rng), 'random'
        else:
            lo, hi = INTENSITY[label]
            field_xy = expression_field(label, person.face, rng.uniform(lo, hi) * person.style[label] * scale)
        # Asymmetry: one side moves a little more.
        field_xy = field_xy * np.where(person.face[:, :1] < 0, 1 + rng.uniform(-0.15, 0.15), 1.0)
        return self._motion(label, *_split_by_region(field_xy), onset_s or self._onset_seconds())

    # ----- nuisances ---------------------------------------------------------------------------

    def _head_residue(self, person: Person, frames: int) -> np.ndarray:
        """Head-pose residue after alignment: a slowly drifting small similarity, (frames, 113, 2)."""
        rng, face = self.rng, person.face
        t = np.arange(frames) / self.fps
        drift = [rng.uniform(0, 2 * np.pi) for _ in range(4)]
        rot = np.deg2rad(0.25) * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[0])
        scale = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[1])
        tx = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[2])
        ty = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[3])
        c, s = np.cos(rot)[:, None], np.sin(rot)[:, None]
        out = np.empty((frames, NUM_LANDMARKS, 2))
        out[..., 0] = (c - 1 + scale[:, None]) * face[:, 0] - s * face[:, 1] + tx[:, None]
        out[..., 1] = s * face[:, 0] + (c - 1 + scale[:, None]) * face[:, 1] + ty[:, None]
        return out

    def _blinks(self, person: Person, out: np.ndarray) -> None:
        """Adds blinks to out: the lids meet for 0.1-0.3 s."""
        rng, fps, frames = self.rng, self.fps, len(out)
        lids_up, lids_lo = _rows(*LID_UP_R, *LID_UP_L), _rows(*LID_LO_R, *LID_LO_L)
        i = 0
        while True:
            i += int(rng.exponential(fps / person.blink_rate_hz)) + 1
            if i >= frames:
                break
            n = int(rng.uniform(0.1, 0.3) * fps)
            shape = np.sin(np.linspace(0, np.pi, n)) ** 2
            depth = rng.uniform(0.04, 0.08)
            k = min(n, frames - i)
            out[i:i + k][:, lids_up, 1] += depth * shape[:k, None]
            out[i:i + k][:, lids_lo, 1] -= 0.2 * depth * shape[:k, None]

    def _speech(self, person: Person, frames: int, turns) -> np.ndarray:
        """Mouth motion of speech in the given (first, last) frame turns, (frames, 113, 2).

        Syllables at 3-5.5 Hz in phrases with pauses; each opens the mouth with its
        own share of jaw and lips and widens or rounds it. Measured on the corpus's
        read speech (GRID, 30 sentences): mouth opening 5-95% range 0.066 (median),
        mouth width range 0.042, width anti-correlated with opening (r = -0.32);
        generated speech, measured alike: 0.063, 0.045, r = -0.37.
        """
        rng, fps = self.rng, self.fps
        face = person.face
        articulators = np.stack([expression_field('jaw_drop', face, 1.0), _lips_part_field(face),
                                 _mouth_width_field(face)])
        weights = np.zeros((frames, 3))
        for first, last in turns:
            t = first / fps
            while t < (last + 1) / fps:
                phrase_end = min(t + rng.uniform(0.8, 4.0), (last + 1) / fps)
                rate = rng.uniform(3.0, 5.5)
                while t < phrase_end:
                    length = rng.uniform(0.75, 1.3) / rate
                    _add_syllable(weights, t, length * 1.25, fps, self._syllable(person))
                    t += length
                t = phrase_end + rng.uniform(0.2, 1.2)   # a pause between phrases
        return (weights @ articulators.reshape(3, -1)).reshape(frames, NUM_LANDMARKS, 2)

    def _syllable(self, person: Person) -> np.ndarray:
        """(jaw, lips, width) weights of one syllable: stressed ones open more, vowels round or spread."""
        rng = self.rng
        opening = person.speech_opening * rng.uniform(0.2, 1.0)
        jaw = rng.uniform(0.5, 1.0)
        width = opening * rng.normal(-0.12, 0.2)
        return np.array([opening * jaw, opening * (1 - jaw), width])

    def _nuisance(self, person: Person, frames: int, turns=()) -> np.ndarray:
        """Jitter, head-pose residue, blinks and speech, as (frames, 113, 2) offsets."""
        out = self.rng.normal(0, person.jitter, (frames, NUM_LANDMARKS, 2))
        out += self._head_residue(person, frames)
        self._blinks(person, out)
        if turns:
            out += self._speech(person, frames, turns)
        return out

    # ----- clips -------------------------------------------------------------------------------

    def expression_clip(self, person: Person, label: str = None, rest_s: float = None,
                        hold_s: float = None, talking: bool = None) -> Clip:
        """Calm, one onset (regions on their own time curves, maybe a second expression mixed in), hold.

        meta: 'onset_s' (first motion to the apex), 'talking', 'regions' (per moving
        region of the main expression: start_frame, apex_frame, amplitude; noise-free)
        and 'mixed' (None, or the second expression's label, start_frame, apex_frame
        and onset_s; its apex may lie past the clip's end).
        """
        rng, fps = self.rng, self.fps
        random_shape = label is None and rng.random() < RANDOM_FIELD_SHARE
        label = label or str(rng.choice(EXPRESSIONS))
        rest_s = rng.uniform(0.6, 2.0) if rest_s is None else rest_s
        hold_s = rng.uniform(0.4, 1.0) if hold_s is None else hold_s
        main = self._expression(person, label, random_shape)
        mixed, mixed_at = None, 0.0
        if rng.random() < MIXED_SHARE:  # a weaker second expression, on its own time
            other = str(rng.choice([e for e in EXPRESSIONS if e != label]))
            # Blended expressions share an occasion, so their speeds are alike, not equal.
            onset_s = float(np.clip(main.onset_s * np.exp(rng.normal(0, 0.35)), 0.2, 3.0))
            mixed = self._expression(person, other, scale=rng.uniform(0.1, 0.4), onset_s=onset_s)
            mixed_at = rng.uniform(0.0, 0.6) * main.onset_s
        n_rest, n_hold = int(rest_s * fps), int(hold_s * fps)
        span = max(main.end_s, mixed_at + mixed.end_s if mixed else 0.0)
        n_all = n_rest + int(np.ceil(span * fps)) + n_hold + 1
        t = (np.arange(n_all) - n_rest + 1) / fps       # frame n_rest is the first that moves
        main_curves = main.curves(t)
        disp = main.displacement(main_curves)
        if mixed:
            mixed_disp = mixed.displacement(mixed.curves(t - mixed_at))
            disp += mixed_disp
        size = _mean_size(disp)
        target = _apex_frame(size)
        frames = min(n_all, target + 1 + n_hold)
        talking = rng.random() < person.talkativeness if talking is None else talking
        turns = [(0, frames - 1)] if talking else []
        face_xy = person.face[None] + disp[:frames] + self._nuisance(person, frames, turns)
        meta = {'onset_s': (target - n_rest + 1) / fps, 'talking': talking,
                'regions': _region_frames(main, main_curves[:frames]), 'mixed': None}
        if mixed:
            mixed_size = _mean_size(mixed_disp)
            meta['mixed'] = {'label': mixed.label, 'start_frame': n_rest + int(round(mixed_at * fps)),
                             'apex_frame': _apex_frame(mixed_size), 'onset_s': mixed.onset_s}
        return Clip(face_xy.astype(np.float32), fps, person.person_id, main.label, n_rest, target,
                    float(size[target]), meta)

    def calm_clip(self, person: Person, seconds: float = 60.0, talking: bool = None) -> Clip:
        frames = int(seconds * self.fps)
        talking = self.rng.random() < person.talkativeness if talking is None else talking
        face_xy = person.face[None] + self._nuisance(person, frames, [(0, frames - 1)] if talking else ())
        return Clip(face_xy.astype(np.float32), self.fps, person.person_id, '', meta={'talking': talking})

    def continuous_clip(self, person: Person, seconds: float = 60.0, talking: bool = None,
                        expressions_per_min: float = None) -> Clip:
        """A long stretch of one face: calm, speech turns, blinks, and expressions at random times
        that rise, hold and return to rest (sometimes a new one starts during the hold of the last).

        meta['onsets']: per expression whose apex is inside the clip, its label,
        onset_start_frame, target_frame (first frame at its apex), offset_start_frame,
        end_frame (back at rest) and amplitude. meta['speech']: (first, last) frames of
        the speech turns. Clip.onset_start_frame / target_frame are the first onset's.
        """
        rng, fps = self.rng, self.fps
        frames = int(round(seconds * fps))
        rate = rng.uniform(2.0, 8.0) if expressions_per_min is None else expressions_per_min
        disp = np.zeros((frames, NUM_LANDMARKS, 2))
        onsets = []
        at = rng.uniform(1.0, 5.0)
        while rate > 0 and at < seconds - 0.3:
            random_shape = rng.random() < RANDOM_FIELD_SHARE
            rise = self._expression(person, str(rng.choice(EXPRESSIONS)), random_shape)
            hold_s = rng.uniform(0.3, 3.0)
            relax = self._motion(rise.label, rise.parts, rise.region, rise.axis,
                                 self._onset_seconds(ONSET_MEAN_S * OFFSET_STRETCH, ONSET_SD_S * OFFSET_STRETCH),
                                 relax=True)
            event, first, event_disp = self._rise_and_return(rise, relax, at, hold_s)
            if first < frames:
                disp[first:first + len(event_disp)] += event_disp[:frames - first]
                if event['target_frame'] < frames:
                    onsets.append(event)
            if rng.random() < 0.15:   # the next expression arrives while this one holds
                at = at + rise.end_s + rng.uniform(0.1, 1.0) * hold_s
            else:
                at = event['end_frame'] / fps + rng.exponential(60.0 / rate)
        talking = rng.random() < 0.5 + person.talkativeness if talking is None else talking
        turns = self._speech_turns(frames) if talking else []
        face_xy = person.face[None] + disp + self._nuisance(person, frames, turns)
        first = onsets[0] if onsets else {'onset_start_frame': -1, 'target_frame': -1}
        return Clip(face_xy.astype(np.float32), fps, person.person_id, 'continuous',
                    first['onset_start_frame'], first['target_frame'],
                    float(max((o['amplitude'] for o in onsets), default=0.0)),
                    {'onsets': onsets, 'speech': turns, 'talking': talking})

    def _rise_and_return(self, rise: Motion, relax: Motion, at_s: float, hold_s: float):
        """One expression of a continuous clip: (its events, its first frame, its displacement from there)."""
        fps = self.fps
        first = int(np.ceil(at_s * fps))
        relax_at = rise.onset_s + hold_s
        t = np.arange(1, int(np.ceil((relax_at + relax.end_s) * fps)) + 2) / fps
        disp = rise.displacement(rise.curves(t) * (1 - relax.curves(t - relax_at)))
        size = _mean_size(disp)
        apex = _apex_frame(size[:int(relax_at * fps) + 1])
        event = {'label': rise.label, 'onset_start_frame': first, 'target_frame': first + apex,
                 'offset_start_frame': first + int(round(relax_at * fps)), 'end_frame': first + len(t) - 1,
                 'amplitude': float(size[apex])}
        return event, first, disp

    def _speech_turns(self, frames: int) -> list:
        """(first, last) frames of speech turns (2-10 s) between silences (2-15 s)."""
        rng, fps = self.rng, self.fps
        turns, i = [], int(rng.uniform(0, 8) * fps)
        while i < frames:
            n = int(rng.uniform(2, 10) * fps)
            turns.append((i, min(frames, i + n) - 1))
            i += n + int(rng.uniform(2, 15) * fps)
        return turns


def _region_frames(motion: Motion, curves: np.ndarray) -> dict:
    """Per region that moves: its first moving frame, apex frame and amplitude, from its part curves."""
    w = region_weights()
    out = {}
    for r in np.unique(motion.region):
        mine = motion.region == r
        rows = w[r] > 0.5
        disp = (curves[:, mine] @ motion.parts[mine][:, rows].reshape(mine.sum(), -1)).reshape(len(curves), -1, 2)
        size = _mean_size(disp)
        if size.max() > 0:
            out[REGIONS[r]] = {'start_frame': int(np.argmax(size > 0.01 * size.max())),
                               'apex_frame': _apex_frame(size), 'amplitude': float(size.max())}
    return out


def _lips_part_field(face: np.ndarray) -> np.ndarray:
    """Lips part without the jaw: the lower lip drops, the upper lip lifts a little."""
    _, _, groups = landmark_layout()
    d = np.zeros_like(face)
    lower = _rows(*LIP_LO)
    d[lower, 1] += 1.0
    d[np.setdiff1d(groups['lips40'], np.concatenate([lower, _rows(*CORNERS)])), 1] -= 0.25
    return d


def _mouth_width_field(face: np.ndarray) -> np.ndarray:
    """The mouth widens (> 0: spread vowels) or rounds (< 0): lip points move along x with their reach."""
    _, ids, groups = landmark_layout()
    lips = groups['lips40']
    corner_r, corner_l = ids.index(61), ids.index(291)
    center_x = (face[corner_r, 0] + face[corner_l, 0]) / 2
    half = (face[corner_l, 0] - face[corner_r, 0]) / 2
    d = np.zeros_like(face)
    d[lips, 0] = (face[lips, 0] - center_x) / half
    return d


def _add_syllable(weights: np.ndarray, start_s: float, length_s: float, fps: float, amounts: np.ndarray) -> None:
    """Adds one syllable's opening-and-closing bump (sin^2) to the articulator weights."""
    i0 = int(np.ceil(start_s * fps))
    i1 = min(len(weights), int(np.floor((start_s + length_s) * fps)) + 1)
    if i1 <= i0:
        return
    u = (np.arange(i0, i1) / fps - start_s) / length_s
    weights[i0:i1] += np.sin(np.pi * u)[:, None] ** 2 * amounts
