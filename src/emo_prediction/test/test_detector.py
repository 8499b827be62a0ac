"""The causal onset detector: fires early on expressions, stays quiet on calm faces."""
import numpy as np

from emo_prediction.detector import GENERATED_FACE_PARAMS, DetectorParams, OnsetDetector, run_detector
from emo_prediction.training.evaluate import detector_report
from emo_common.layout import landmark_layout
from emo_prediction.training.synthetic import ExpressionGenerator

IDS = landmark_layout()[1]


def test_fires_once_per_onset_before_the_target():
    # Generated faces have only their generated jitter: the setting for them (the default, chosen
    # on real faces, has a floor four times higher, see test_the_default_is_less_eager below).
    gen = ExpressionGenerator(seed=11)
    for k in range(15):
        clip = gen.expression_clip(gen.person(500 + k), rest_s=1.5, talking=False)
        fires = [f for f, _ in run_detector(clip.face_xy, clip.fps, GENERATED_FACE_PARAMS, IDS)]
        assert len(fires) == 1, (clip.label, fires)
        assert clip.onset_start_frame <= fires[0] <= clip.target_frame, (clip.label, fires, clip.target_frame)


def test_never_uses_the_future():
    """The decision at frame i is the same whether or not later frames exist."""
    gen = ExpressionGenerator(seed=12)
    clip = gen.expression_clip(gen.person(600), rest_s=1.0)
    full = run_detector(clip.face_xy, clip.fps, None, IDS)
    frame = full[0][0]
    cut = run_detector(clip.face_xy[:frame + 1], clip.fps, None, IDS)
    assert cut and cut[0][0] == frame
    assert run_detector(clip.face_xy[:frame], clip.fps, None, IDS) == []


def test_peak_activation_is_reported_no_later_than_the_firing():
    gen = ExpressionGenerator(seed=13)
    clip = gen.expression_clip(gen.person(601), rest_s=1.0)
    (frame, event), = run_detector(clip.face_xy, clip.fps, None, IDS)
    assert event.peak_activation_time <= event.fire_time == frame / clip.fps


def test_rearms_after_the_face_returns_to_rest():
    gen = ExpressionGenerator(seed=14)
    person = gen.person(602)
    # Silent faces: this is about re-arming, not speech (a talking face has its own tests below).
    a = gen.expression_clip(person, 'smile', rest_s=1.0, hold_s=0.6, talking=False)
    back = np.repeat(a.face_xy[:1], 45, axis=0) + np.random.default_rng(0).normal(0, 0.002, (45, 113, 2))
    b = gen.expression_clip(person, 'brow_raise', rest_s=0.5, hold_s=0.6, talking=False)
    fires = [f for f, _ in run_detector(np.concatenate([a.face_xy, back, b.face_xy]), 30.0, None, IDS)]
    start_b = len(a.face_xy) + len(back)
    assert any(a.onset_start_frame - 3 <= f <= a.target_frame for f in fires), fires
    assert any(start_b + b.onset_start_frame - 3 <= f <= start_b + b.target_frame for f in fires), fires
    # Between them at most the snap back to calm (this smile is fast: fired near its apex, the firing
    # cannot double and fizzles, so the detector rests on the smile and the return reads as an onset).
    assert len(fires) <= 3


def test_a_lost_face_resets_it():
    det = OnsetDetector(DetectorParams(max_gap_s=0.5), 30.0, IDS)
    face = landmark_layout()[0]
    for i in range(20):
        det.update(i / 30, face)
    assert det.rest_face is not None
    det.update(2.0, None)
    det.update(2.1, face)
    assert det.rest_face is None  # starts again from a fresh rest face


def test_acceptance_figures_on_generated_clips():
    """Issue acceptance: fires before the target in >= 90% of clips, median lead >= 400 ms,
    <= 1 false trigger per minute of calm face (unseen generated people)."""
    report = detector_report(n_clips=200, n_people=20, calm_minutes=5, seed=21, params=GENERATED_FACE_PARAMS)
    assert report['fired_before_target_fraction'] >= 0.9, report
    assert report['lead_s']['median'] >= 0.4, report
    assert report['false_triggers_per_min'] <= 1.0, report


def test_the_default_is_less_eager():
    """The default floor (chosen on real faces) never fires earlier on the same onsets, mostly later."""
    gen = ExpressionGenerator(seed=12)
    later = 0
    for k in range(10):
        clip = gen.expression_clip(gen.person(520 + k), rest_s=1.5, talking=False)
        eager = [f for f, _ in run_detector(clip.face_xy, clip.fps, GENERATED_FACE_PARAMS, IDS)]
        default = [f for f, _ in run_detector(clip.face_xy, clip.fps, None, IDS)]
        if eager and default:
            assert default[0] >= eager[0]
            later += default[0] > eager[0]
    assert later >= 5


def _face_left_off_rest_then_an_onset(seed: int):
    """A calm face that settles a little away from its rest (as after an expression), then an onset."""
    from emo_prediction.training.synthetic import expression_field
    gen = ExpressionGenerator(seed=seed)
    person = gen.person(700)
    clip = gen.expression_clip(person, 'surprise', rest_s=1.5, hold_s=0.6, talking=False)
    calm = clip.face_xy[:clip.onset_start_frame]
    # A residual smile steps in over 3 frames and stays: it crosses the threshold but never grows.
    residual = expression_field('smile', person.face, 0.5)
    ramp = np.clip(np.arange(len(calm)) - 20, 0, 3)[:, None, None] / 3.0
    offset = calm + ramp * residual
    stream = np.concatenate([offset, clip.face_xy[clip.onset_start_frame:] + residual])
    return stream, clip


def test_a_fizzled_firing_does_not_swallow_the_onset_after_it():
    stream, clip = _face_left_off_rest_then_an_onset(seed=31)
    fires = [f for f, _ in run_detector(stream, clip.fps, None, IDS)]
    assert fires and fires[0] < clip.onset_start_frame            # the residual step fires...
    det = OnsetDetector(None, clip.fps, IDS)
    for i, face in enumerate(stream):
        det.update(i / clip.fps, face)
    assert det.fizzles >= 1                                       # ... fizzles ...
    onset = [f for f in fires if f >= clip.onset_start_frame]
    assert onset and onset[0] <= clip.target_frame, (fires, clip.onset_start_frame, clip.target_frame)
    # Without the fizzle rule the refractory detector stays disarmed and misses the onset.
    stuck = DetectorParams(fizzle_factor=0.0)
    late = [f for f, _ in run_detector(stream, clip.fps, stuck, IDS) if f >= clip.onset_start_frame]
    assert not late or late[0] > clip.target_frame


# --- The speech gate --------------------------------------------------------------------
# Streams built here from the neutral face and expression_field alone (not the generator's
# nuisance model), so that the tests say what the gate does whatever the generator's details.

def _stream(seconds: float, seed: int, talk_hz: float = 0.0, talk_amount: float = 0.0,
            onset: str = None, onset_at_s: float = 0.0, onset_s: float = 0.6, amount: float = 0.12):
    """A jittery neutral face (30 fps), optionally talking (the jaw opening and closing at
    talk_hz, syllable by syllable), optionally with an expression rising (minimum jerk) from
    onset_at_s over onset_s, then held. Returns (faces, onset start frame, target frame)."""
    from emo_prediction.training.synthetic import expression_field
    fps = 30.0
    rng = np.random.default_rng(seed)
    neutral = landmark_layout()[0]
    n = int(seconds * fps)
    t = np.arange(n) / fps
    faces = neutral[None] + rng.normal(0, 0.002, (n, 113, 2))
    if talk_hz:  # after 1 s of silence, phrases of 1.6 s with pauses of 0.6 s
        phrase = (t >= 1.0) & ((t - 1.0) % 2.2 < 1.6)
        syllables = np.clip(np.sin(2 * np.pi * talk_hz * (t - 1.0)), 0, None) * phrase
        faces += talk_amount * syllables[:, None, None] * expression_field('jaw_drop', neutral, 1.0)[None]
    start = target = -1
    if onset:
        start, target = int(onset_at_s * fps), int((onset_at_s + onset_s) * fps)
        tau = np.clip((t - onset_at_s) / onset_s, 0, 1)
        profile = 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5
        faces += profile[:, None, None] * expression_field(onset, neutral, amount)[None]
    return faces, start, target


def test_speech_gate_recognises_syllables_not_a_single_opening():
    from emo_prediction.detector import LOWER_INNER_LIP, SpeechGate, UPPER_INNER_LIP
    gate = SpeechGate(DetectorParams(), [IDS.index(v) for v in UPPER_INNER_LIP], [IDS.index(v) for v in LOWER_INNER_LIP])
    talk, _, _ = _stream(4.0, seed=1, talk_hz=4.5, talk_amount=0.08)
    states = [gate.update(i / 30.0, f) for i, f in enumerate(talk)]
    assert not any(states[:40])                    # silence, then the first syllables: not yet speech
    assert np.mean(states[60:]) > 0.95             # talking at 4.5 Hz, pauses included: speech
    gate.reset()
    jaw, _, _ = _stream(4.0, seed=2, onset='jaw_drop', onset_at_s=1.0, amount=0.25)
    assert not any(gate.update(i / 30.0, f) for i, f in enumerate(jaw))   # one opening, held: no speech


def test_speech_gate_silences_a_talking_face():
    """A calm face that talks fires far less with the gate than without it."""
    counts = {}
    for gate in (True, False):
        params = DetectorParams(speech_gate=gate)
        counts[gate] = sum(len(run_detector(_stream(20.0, seed=s, talk_hz=hz, talk_amount=0.06)[0], 30.0, params, IDS))
                           for s, hz in ((3, 3.5), (4, 4.5), (5, 6.0)))
    assert counts[False] >= 6, counts              # talking alone does fire the ungated detector...
    assert counts[True] <= counts[False] / 4, counts   # ... and the gate removes most of it


def test_speech_gate_changes_nothing_on_a_silent_onset():
    """An expression out of a calm, silent face is caught at the same frame with or without the gate."""
    for label, seed in (('jaw_drop', 6), ('smile', 7), ('brow_raise', 8)):
        faces, start, target = _stream(3.0, seed=seed, onset=label, onset_at_s=1.2)
        gated = [f for f, _ in run_detector(faces, 30.0, DetectorParams(speech_gate=True), IDS)]
        plain = [f for f, _ in run_detector(faces, 30.0, DetectorParams(speech_gate=False), IDS)]
        assert gated == plain and len(gated) == 1 and start <= gated[0] <= target, (label, gated, plain)


def test_a_brow_raise_while_talking_is_still_caught():
    """The gate only discounts the mouth: a brow raise mid-sentence fires, early."""
    for seed in (9, 10, 11):
        faces, start, target = _stream(5.0, seed=seed, talk_hz=4.5, talk_amount=0.06,
                                       onset='brow_raise', onset_at_s=3.0, amount=0.10)
        det = OnsetDetector(DetectorParams(), 30.0, IDS)
        fires = []
        for i, face in enumerate(faces):
            if det.update(i / 30.0, face) is not None:
                fires.append((i, det.speaking))
        caught = [(f, speaking) for f, speaking in fires if start <= f <= target]
        assert caught and caught[0][1], (fires, start, target)         # fired while the gate held speech
        assert (target - caught[0][0]) / 30.0 >= 0.2, (fires, target)  # with time to spare
        # Talking alone fired it at most once, on the first syllable (before a window of
        # speech is seen, a syllable is the start of a jaw drop), never once speech was known.
        early = [(f, speaking) for f, speaking in fires if f < start]
        assert len(early) <= 1 and not any(speaking for _, speaking in early), fires
