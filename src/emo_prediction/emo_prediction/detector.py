"""Causal detection of an emerging expression in a live landmark stream.

    detector = OnsetDetector(DetectorParams(), fps=30)
    for t, face_xy in stream:                  # (113, 2) face-frame landmarks, or None when no face
        event = detector.update(t, face_xy)
        if event:                              # an onset: anticipate its target face now
            event.peak_activation_time, event.fire_time

The paper finds the peak activation offline (the greatest acceleration of the
face away from its rest face, before the frame farthest from rest), which needs
the future. Online, this detector:

1. keeps an adaptive rest face: an exponential average of the face while it is
   calm, frozen while an expression is under way;
2. measures activation, the mean landmark distance to the rest face (eyelid
   points down-weighted, so blinks count little), and smooths it causally with a
   Savitzky-Golay fit over the last few frames evaluated at the newest frame,
   which also gives its velocity and acceleration;
3. fires when activation rises above a threshold (a fixed floor or a multiple
   of the calm noise, whichever is larger) while still rising fast, for
   `confirm_frames` frames in a row; the peak activation reported is the frame
   of greatest acceleration since the rise began;
4. re-arms only after the face has returned near rest and a refractory time
   has passed; a gap without a face longer than `max_gap_s` resets it;
5. a firing that fizzles (its activation has not grown to `fizzle_factor` times
   its value at firing `fizzle_s` after firing) was landmark noise or a slow drift
   (a face not quite back at its old rest after an expression): the detector
   re-arms at once, from the face where it now rests, so that the refractory
   time does not swallow the real onset that follows;
6. speech (SpeechGate: the inner-lip gap reversing at syllable rate) makes the
   mouth's regions count only above the speech envelope, the most they moved in
   the last speech_window_s: a jaw drop larger than the syllables, or a brow
   raise, still fires while the person talks; the syllables do not.

Regions are the brows, the lips and the whole face (the jaw outline only with
jaw_region: its silhouette points slide when the head turns), measured on the
left/right symmetric part of the displacement (asymmetry_weight=0: a head turn's
residue is antisymmetric). CANDIDATE_PARAMS lists the settings an evaluation
on real faces picks from by leave-person-out.
"""
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.signal import savgol_coeffs

from emo_common.layout import NUM_LANDMARKS, region
from emo_common.messages import check_face

# Rows of the 113-point model order that are eyelid points (weight reduced: blinks).
EYELID_VERTICES = tuple(v for side in ('upper_lid_right', 'upper_lid_left', 'lower_lid_right', 'lower_lid_left')
                        for v in region(side))


@dataclass
class DetectorParams:
    window: int = 5                  # frames of the causal Savitzky-Golay fit
    # Face units: the least activation that can fire. 0.02 is the candidate (CANDIDATE_PARAMS) that
    # leave-person-out validation on real faces chooses (make evaluate); 0.0045 suits generated
    # faces, whose landmark noise is all there is (GENERATED_FACE_PARAMS).
    activation_min: float = 0.02
    noise_factor: float = 5.0        # ... or this many calm-noise SDs, whichever is larger
    velocity_min: float = 0.03       # face units/s: still rising this fast when firing
    confirm_frames: int = 2          # consecutive frames meeting both conditions
    rest_alpha: float = 0.05         # rest-face update per calm frame
    calm_fraction: float = 0.5       # calm = activation below this fraction of the threshold
    rearm_fraction: float = 0.35     # re-arm once activation falls below this fraction of the last peak...
    rearm_frames: int = 6            # ... for this many frames
    refractory_s: float = 0.8        # and at least this long after firing
    max_gap_s: float = 0.5           # a longer gap without a face resets the detector
    fizzle_factor: float = 2.0       # a firing whose activation has not grown this many times over...
    fizzle_s: float = 0.2            # ... this long after firing fizzled: re-arm from a fresh rest face
    eyelid_weight: float = 0.25
    init_frames: int = 5             # frames averaged into the first rest face (the paper's 5)
    min_calm_frames: int = 8         # calm frames seen (noise level known) before it can fire
    noise_cap: float = 0.006         # one calm frame adds at most this to the noise estimate (the upper end of
                                     # MediaPipe's rest jitter): motion in the first frames does not deafen it
    regional: bool = True            # activation = the most active face region, not the whole face
    jaw_region: bool = False         # the jaw outline as a region of its own (its silhouette points slide
                                     # along the cheek when the head turns or a hand is near: head turns read as onsets)
    # Speech gate (see SpeechGate): while the person talks, the mouth moves all the time and
    # each syllable looks like the start of a jaw drop; the mouth's regions then count only
    # by how far they exceed what the speech itself did over the last speech_window_s.
    asymmetry_weight: float = 0.0    # weight of the left/right antisymmetric part of the displacement (see below)
    speech_gate: bool = True
    speech_delta: float = 0.015      # face units (~1.5 mm): least change of the inner-lip gap that counts
    speech_reversals: int = 3        # this many opening/closing reversals of the lips ...
    speech_window_s: float = 1.5     # ... within this long is speech (3-7 Hz syllables give 6-14)
    speech_hold_s: float = 1.0       # speech lasts this long after the last such window (pauses between words)


# Candidate settings for real footage, from which an evaluation picks by leave-person-out
# (the settings are chosen on other people than those the figures are reported on). They
# differ in the activation floor only, from the default (sized to generated clips, whose
# landmark noise is known) up to a third of the smallest typical apex displacement of a
# face region (~0.09 face units, brows): real faces move more between expressions (head
# turns, hands, talking), so a higher floor trades lead time for fewer false alarms.
CANDIDATE_PARAMS = [DetectorParams(activation_min=a) for a in (0.0045, 0.01, 0.015, 0.02, 0.025, 0.03)]
GENERATED_FACE_PARAMS = DetectorParams(activation_min=0.0045)


@dataclass(frozen=True)
class OnsetEvent:
    fire_time: float                 # time of the frame that fired (s, the stream's clock)
    peak_activation_time: float      # time of the greatest acceleration of this rise
    activation: float                # smoothed activation when firing
    velocity: float                  # its rate of rise (units/s)
    rest_face: np.ndarray            # (113, 2) the rest face the onset departs from


# Inner-lip midline points (MediaPipe vertex ids): their vertical gap is the mouth opening.
UPPER_INNER_LIP = (13, 82, 312)
LOWER_INNER_LIP = (14, 87, 317)


class SpeechGate:
    """Causal speech detector from the mouth opening's oscillation.

    Talking opens and closes the lips at the syllable rate, 3-7 Hz (Chandrasekaran
    et al. 2009, "The natural statistics of audiovisual speech"), while an
    expression opens the mouth once and holds it. The gate follows the inner-lip
    gap with a hysteresis of `speech_delta` (so landmark jitter makes no
    reversals) and counts its reversals (opening -> closing and back) within the
    last `speech_window_s`: `speech_reversals` or more is speech, which then lasts
    `speech_hold_s` more (the pauses between words). A jaw drop, a smile or a
    brow raise gives at most one reversal in that time.
    """

    def __init__(self, params: 'DetectorParams', upper_rows, lower_rows):
        self.p = params
        self.upper, self.lower = np.asarray(upper_rows), np.asarray(lower_rows)
        self.reset()

    def reset(self) -> None:
        self._hi = self._lo = None
        self._direction = 0              # +1 opening, -1 closing, 0 not yet known
        self._reversals = deque()
        self._until = -np.inf
        self.speaking = False

    def update(self, t: float, face_xy: np.ndarray) -> bool:
        gap = float(face_xy[self.lower, 1].mean() - face_xy[self.upper, 1].mean())
        p = self.p
        if self._hi is None:
            self._hi = self._lo = gap
        if self._direction >= 0:
            self._hi = max(self._hi, gap)
        if self._direction <= 0:
            self._lo = min(self._lo, gap)
        if self._direction >= 0 and gap < self._hi - p.speech_delta:
            if self._direction > 0:
                self._reversals.append(t)
            self._direction, self._lo = -1, gap
        elif self._direction <= 0 and gap > self._lo + p.speech_delta:
            if self._direction < 0:
                self._reversals.append(t)
            self._direction, self._hi = 1, gap
        while self._reversals and self._reversals[0] <= t - p.speech_window_s:
            self._reversals.popleft()
        if len(self._reversals) >= p.speech_reversals:
            self._until = t + p.speech_hold_s
        self.speaking = t <= self._until
        return self.speaking


class OnsetDetector:
    def __init__(self, params: DetectorParams = None, fps: float = 30.0, vertex_ids=None):
        self.p = params or DetectorParams()
        self.fps = fps
        w = self.p.window
        # Causal fits: coefficients that give value, slope and curvature at the newest sample.
        self._c0 = savgol_coeffs(w, 2, deriv=0, pos=w - 1, use='dot')
        self._c1 = savgol_coeffs(w, 2, deriv=1, delta=1.0 / fps, pos=w - 1, use='dot')
        self._c2 = savgol_coeffs(w, 2, deriv=2, delta=1.0 / fps, pos=w - 1, use='dot')
        self.weights = np.ones(NUM_LANDMARKS)
        if vertex_ids is not None:
            ids = list(vertex_ids)
            for v in EYELID_VERTICES:
                if v in ids:
                    self.weights[ids.index(v)] = self.p.eyelid_weight
        self.weights /= self.weights.sum()
        # Face regions (brows, lips, jaw; the eyes only inside the whole face, where
        # their weight is low, since blinks move them most): an expression concentrates
        # in one or two regions, where it stands out of the landmark noise sooner.
        # Each region: (rows, whether the mouth moves it: what speech moves).
        self.regions = []
        if vertex_ids is not None and self.p.regional:
            from emo_common.layout import landmark_layout
            _, ids_, rows = landmark_layout()
            if list(ids_) == list(vertex_ids):
                brows = np.concatenate([rows['right_brow10'], rows['left_brow10']])
                self.regions = [(brows, False), (rows['lips40'], True), (np.arange(NUM_LANDMARKS), True)]
                if self.p.jaw_region:
                    self.regions.append((rows['jaw21'], True))
        if not self.regions:
            self.regions = [(np.arange(NUM_LANDMARKS), True)]
        # Left/right mirror partner of each landmark (nearest point to its mirror image on the
        # model's neutral face). Expressions are mostly bilateral, while a head turn leaves an
        # antisymmetric residue in the face frame (one side narrows as the other widens, the
        # midline slides sideways): the displacement's antisymmetric part counts `asymmetry_weight`.
        self.mirror = None
        if vertex_ids is not None and self.p.asymmetry_weight != 1.0:
            from emo_common.layout import landmark_layout
            neutral, ids_, _ = landmark_layout()
            if list(ids_) == list(vertex_ids):
                gap = np.linalg.norm(neutral[:, None] - (neutral * [-1.0, 1.0])[None], axis=2)
                mirror = gap.argmin(axis=1)
                if (mirror[mirror] == np.arange(len(mirror))).all():
                    self.mirror = mirror
        self._region_weights = [(r, self.weights[r] / self.weights[r].sum(), mouth) for r, mouth in self.regions]
        self._mouth = np.array([mouth for _, mouth in self.regions])
        self.gate = None
        if vertex_ids is not None and self.p.speech_gate:
            ids = list(vertex_ids)
            if all(v in ids for v in UPPER_INNER_LIP + LOWER_INNER_LIP):
                self.gate = SpeechGate(self.p, [ids.index(v) for v in UPPER_INNER_LIP],
                                       [ids.index(v) for v in LOWER_INNER_LIP])
        self.reset()

    @property
    def speaking(self) -> bool:
        """Whether the person is talking now (the speech gate's state; False without a gate)."""
        return self.gate is not None and self.gate.speaking

    def reset(self) -> None:
        self.rest_face = None
        self._init = []
        # Region distances of the last frames: the newest `window` are smoothed, the ones
        # before them are the speech envelope of the mouth's regions.
        self._raw = deque(maxlen=self.p.window + max(1, int(round(self.p.speech_window_s * self.fps))))
        self._times = deque(maxlen=self.p.window)
        self._faces = deque(maxlen=self.p.window)
        self.fizzles = 0
        self.noise_sd = 0.0
        self.baseline = np.zeros(len(self.regions))   # calm level of each region (landmark jitter alone)
        self.max_baseline = 0.0          # calm level of their maximum (the largest of several jitters)
        self._noise_n = 0
        self.armed = True
        self._confirm = 0
        self._rise_start = None
        self._best_accel = (-np.inf, None)
        self._last_fire = -np.inf
        self._peak_since_fire = self._fire_activation = 0.0
        self._below = 0
        self._last_time = None
        self.activation = self.velocity = self.acceleration = 0.0
        self._gated = False
        if getattr(self, 'gate', None) is not None:
            self.gate.reset()

    @property
    def threshold(self) -> float:
        return max(self.p.activation_min, self.p.noise_factor * self.noise_sd)

    def _floors(self) -> np.ndarray:
        """What each region's distance is measured above: its calm level (landmark jitter) and,
        for the mouth's regions while the person talks, the most the speech moved them in the
        last speech_window_s before the smoothing window (the speech envelope)."""
        floors = self.baseline
        if self._gated and len(self._raw) > self.p.window:
            envelope = np.max(list(self._raw)[:-self.p.window], axis=0)
            floors = np.where(self._mouth, np.maximum(floors, envelope), floors)
        return floors

    def activation_of(self, face_xy: np.ndarray) -> float:
        """Landmark distance of a face to the current rest face: the largest weighted mean over
        a face region (eyelids down-weighted; the whole face is one) above that region's floor
        (its calm level; while the person talks, for the mouth, the speech envelope)."""
        return self.activation_from(face_xy, self.rest_face)

    def activation_from(self, face_xy: np.ndarray, rest_face: np.ndarray) -> float:
        """activation_of a face measured from another rest face (e.g. the one an onset rose from)."""
        return float((self.region_distances(face_xy, rest_face) - self._floors()).max())

    def region_distances(self, face_xy: np.ndarray, rest_face: np.ndarray = None) -> np.ndarray:
        """Weighted mean landmark distance to the rest face (or `rest_face`) of each region."""
        d = face_xy - (self.rest_face if rest_face is None else rest_face)
        if self.mirror is not None:
            flipped = d[self.mirror] * [-1.0, 1.0]
            w = self.p.asymmetry_weight
            d = 0.5 * (1 + w) * d + 0.5 * (1 - w) * flipped   # symmetric part + w * antisymmetric part
        dist = np.linalg.norm(d, axis=1)
        return np.array([w @ dist[r] for r, w, _ in self._region_weights])

    def update(self, t: float, face_xy: Optional[np.ndarray]) -> Optional[OnsetEvent]:
        """Feed one frame (face None when no face was found); returns an event when an onset is detected."""
        if face_xy is None:
            if self._last_time is not None and t - self._last_time > self.p.max_gap_s:
                self.reset()
            return None
        # No face at all (wrong size, non-finite, or far outside any face frame: a broken message) is
        # skipped like a frame that never came: none may enter the rest face or the noise level.
        face_xy = check_face(face_xy).face
        if face_xy is None or not np.isfinite(t):
            return None
        if self._last_time is not None and t - self._last_time > self.p.max_gap_s:
            self.reset()
        self._last_time = t
        if self.rest_face is None:
            self._init.append(face_xy)
            if len(self._init) >= self.p.init_frames:
                self.rest_face = np.mean(self._init, axis=0)
            return None

        if self.gate is not None:
            # Talking starts or stops: the whole window is measured the new way (below), so
            # that the switch itself makes no jump in activation.
            self._gated = self.gate.update(t, face_xy)
        self._raw.append(self.region_distances(face_xy))
        self._times.append(t)
        self._faces.append(face_xy)
        if len(self._raw) < self.p.window:
            return None
        # Jitter alone keeps the distance to the rest face above zero: measure above that level.
        regions = np.array(list(self._raw)[-self.p.window:])
        raw = (regions - self._floors()).max(axis=1) - self.max_baseline
        self.activation = float(self._c0 @ raw)
        self.velocity = float(self._c1 @ raw)
        self.acceleration = float(self._c2 @ raw)
        threshold = self.threshold

        # The first frames after the rest face are calm by assumption (as the paper's
        # first 5 frames): they set the jitter baseline and the noise level.
        calm = self._noise_n < self.p.min_calm_frames or self.activation < self.p.calm_fraction * threshold
        if self.armed and calm:
            # Adapt the rest face and the noise level only while the face is calm.
            self.rest_face += self.p.rest_alpha * (face_xy - self.rest_face)
            if not self._gated:  # speech is motion, not landmark noise
                self._noise_n = min(self._noise_n + 1, 300)
                self.baseline += (regions[-1] - self.baseline) / self._noise_n
                self.max_baseline += raw[-1] / self._noise_n
                deviation = min(abs(raw[-1] - raw.mean()) * 1.25, self.p.noise_cap)
                self.noise_sd += (deviation - self.noise_sd) / self._noise_n
            self._rise_start = None
            self._best_accel = (-np.inf, None)

        if not self.armed:
            self._peak_since_fire = max(self._peak_since_fire, self.activation)
            if t - self._last_fire >= self.p.fizzle_s and self._peak_since_fire < self.p.fizzle_factor * self._fire_activation:
                # Noise or drift, not an expression: the face rests where it is now.
                self.rest_face = np.mean(self._faces, axis=0)
                self._raw = deque((self.region_distances(f) for f in self._faces), maxlen=self._raw.maxlen)
                self.armed = True
                self._confirm = 0
                self.fizzles += 1
                return None
            if self.activation < self.p.rearm_fraction * self._peak_since_fire:
                self._below += 1
            else:
                self._below = 0
            if self._below >= self.p.rearm_frames and t - self._last_fire >= self.p.refractory_s:
                self.armed = True
                self._confirm = 0
            return None

        if self.velocity > 0 and self._rise_start is None and not calm:
            self._rise_start = t
        if self._rise_start is not None and self.acceleration > self._best_accel[0]:
            self._best_accel = (self.acceleration, t)
        if self.activation > threshold and self.velocity > self.p.velocity_min:
            self._confirm += 1
        else:
            self._confirm = 0
        if self._confirm < self.p.confirm_frames or self._noise_n < self.p.min_calm_frames:
            return None
        self.armed = False
        self._last_fire = t
        self._peak_since_fire = self._fire_activation = self.activation
        self._below = 0
        peak_time = self._best_accel[1] if self._best_accel[1] is not None else t
        return OnsetEvent(t, peak_time, self.activation, self.velocity, self.rest_face.copy())


def run_detector(face_xy: np.ndarray, fps: float, params: DetectorParams = None, vertex_ids=None) -> list:
    """Run the detector over a whole clip (frames, 113, 2; NaN = no face); returns [(frame, event)]."""
    detector = OnsetDetector(params, fps, vertex_ids)
    events = []
    for i, face in enumerate(face_xy):
        ev = detector.update(i / fps, None if not np.isfinite(face).all() else face)
        if ev:
            events.append((i, ev))
    return events
