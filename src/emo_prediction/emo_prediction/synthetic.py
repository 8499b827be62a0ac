"""Procedurally generated expression dynamics, for the default predictive model and for tests.

    gen = ExpressionGenerator(seed=0)
    clip = gen.expression_clip(person=gen.person(3))    # one onset: calm, rise, hold
    clip.face_xy  (frames, 113, 2), clip.target_frame, clip.label
    calm = gen.calm_clip(gen.person(3), seconds=60)     # blinks, talking, jitter; no expression

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
  weaker expression mixed in;
- dynamics: a calm lead-in, an onset of log-normal duration with the paper's
  0.84 s +- 0.71 s, following a minimum-jerk rise whose timing is warped per
  clip (so the peak of acceleration moves), then a hold;
- nuisances: landmark jitter, slowly drifting head-pose residue of the face
  alignment, blinks, and talking-like mouth motion.
"""
from dataclasses import dataclass, field

import numpy as np

from emo_prediction.face import face_model  # noqa: F401  (re-exported: tests and tools use it from here)

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


def _rows(*vertex_ids):
    _, ids, _ = face_model()
    return np.array([ids.index(v) for v in vertex_ids])


LID_UP_R, LID_UP_L = (246, 161, 160, 159, 158, 157, 173), (466, 388, 387, 386, 385, 384, 398)
LID_LO_R, LID_LO_L = (7, 163, 144, 145, 153, 154, 155), (249, 390, 373, 374, 380, 381, 382)
LIP_LO = (17, 84, 181, 91, 146, 314, 405, 321, 375, 14, 87, 178, 88, 95, 317, 402, 318, 324)
CORNERS = (61, 291, 78, 308)


def expression_field(label: str, face: np.ndarray, amount: float) -> np.ndarray:
    """The (113, 2) displacement of `label` at intensity `amount` on a given face."""
    _, ids, groups = face_model()
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


@dataclass
class Person:
    person_id: str
    face: np.ndarray              # (113, 2) neutral face
    style: dict                   # expression -> intensity factor
    jitter: float                 # landmark noise SD
    blink_rate_hz: float
    talkativeness: float          # probability a clip has talking


@dataclass
class Clip:
    face_xy: np.ndarray           # (frames, 113, 2)
    fps: float
    person_id: str
    label: str                    # '' for a calm clip
    onset_start_frame: int = -1
    target_frame: int = -1        # first frame at the apex (t_m)
    amplitude: float = 0.0
    meta: dict = field(default_factory=dict)


def minimum_jerk(tau):
    tau = np.clip(tau, 0.0, 1.0)
    return 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5


class ExpressionGenerator:
    def __init__(self, seed: int = 0, fps: float = 30.0):
        self.rng = np.random.default_rng(seed)
        self.fps = fps

    def person(self, index: int) -> Person:
        """A deterministic person (same index, same face) whatever was generated before."""
        rng = np.random.default_rng(10_000 + index)
        base, ids, groups = face_model()
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
                      blink_rate_hz=rng.uniform(0.1, 0.4), talkativeness=rng.uniform(0.0, 0.4))

    def _onset_seconds(self) -> float:
        sigma2 = np.log(1 + (ONSET_SD_S / ONSET_MEAN_S) ** 2)
        return float(np.clip(self.rng.lognormal(np.log(ONSET_MEAN_S) - sigma2 / 2, np.sqrt(sigma2)), 0.2, 3.0))

    def _nuisance(self, person: Person, frames: int, talking: bool) -> np.ndarray:
        """Jitter, head-pose residue, blinks and talking, as (frames, 113, 2) offsets."""
        rng, fps = self.rng, self.fps
        face = person.face
        out = rng.normal(0, person.jitter, (frames, 113, 2))
        # Head-pose residue after alignment: a slowly drifting small similarity.
        t = np.arange(frames) / fps
        drift = [rng.uniform(0, 2 * np.pi) for _ in range(4)]
        rot = np.deg2rad(0.25) * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[0])
        scale = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[1])
        tx = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[2])
        ty = 0.002 * np.sin(2 * np.pi * t / rng.uniform(3, 9) + drift[3])
        c, s = np.cos(rot)[:, None], np.sin(rot)[:, None]
        out[..., 0] += (c - 1 + scale[:, None]) * face[:, 0] - s * face[:, 1] + tx[:, None]
        out[..., 1] += s * face[:, 0] + (c - 1 + scale[:, None]) * face[:, 1] + ty[:, None]
        # Blinks: the lids meet for 0.1-0.3 s.
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
        if talking:
            jaw_field = expression_field('jaw_drop', face, 1.0)
            syll = rng.uniform(3.0, 5.0)
            amp = rng.uniform(0.005, 0.03)
            env = np.clip(np.sin(2 * np.pi * t * syll + rng.uniform(0, 6)), 0, None) * \
                (0.5 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(1.5, 3) + rng.uniform(0, 6)))
            out += amp * env[:, None, None] * jaw_field[None]
        return out

    def expression_clip(self, person: Person, label: str = None, rest_s: float = None,
                        hold_s: float = None, talking: bool = None) -> Clip:
        rng, fps = self.rng, self.fps
        random_shape = label is None and rng.random() < RANDOM_FIELD_SHARE
        label = label or str(rng.choice(EXPRESSIONS))
        rest_s = rng.uniform(0.6, 2.0) if rest_s is None else rest_s
        hold_s = rng.uniform(0.4, 1.0) if hold_s is None else hold_s
        onset_s = self._onset_seconds()
        n_rest, n_on, n_hold = int(rest_s * fps), max(3, int(round(onset_s * fps))), int(hold_s * fps)
        frames = n_rest + n_on + n_hold
        lo, hi = INTENSITY[label]
        amount = rng.uniform(lo, hi) * person.style[label]
        if random_shape:
            field_xy = random_field(person.face, rng.uniform(0.08, 0.3), rng)
            label = 'random'
        else:
            field_xy = expression_field(label, person.face, amount)
        if rng.random() < 0.3:  # a weaker second expression mixed in
            other = str(rng.choice([e for e in EXPRESSIONS if e != label]))  # noqa: E501
            field_xy += expression_field(other, person.face, rng.uniform(*INTENSITY[other]) * rng.uniform(0.1, 0.4))
        # Asymmetry: one side moves a little more.
        field_xy *= np.where(person.face[:, :1] < 0, 1 + rng.uniform(-0.15, 0.15), 1.0)
        gamma = rng.uniform(0.7, 1.4)  # warps when the rise accelerates most
        tau = np.arange(1, n_on + 1) / n_on
        profile = np.concatenate([np.zeros(n_rest), minimum_jerk(tau ** gamma), np.ones(n_hold)])
        face_xy = person.face[None] + profile[:, None, None] * field_xy[None]
        talking = rng.random() < person.talkativeness if talking is None else talking
        face_xy += self._nuisance(person, frames, talking)
        return Clip(face_xy.astype(np.float32), fps, person.person_id, label, n_rest, n_rest + n_on - 1,
                    float(np.linalg.norm(field_xy, axis=1).mean()),
                    {'onset_s': n_on / fps, 'talking': talking, 'gamma': gamma})

    def calm_clip(self, person: Person, seconds: float = 60.0, talking: bool = None) -> Clip:
        frames = int(seconds * self.fps)
        talking = self.rng.random() < person.talkativeness if talking is None else talking
        face_xy = person.face[None] + self._nuisance(person, frames, talking)
        return Clip(face_xy.astype(np.float32), self.fps, person.person_id, '', meta={'talking': talking})
