"""Expression windows for the predictive model, as the paper builds them.

    data = WindowDataset.load('windows.npz')            # or build_from_clips(...)
    train, val = data.split('within', val_fraction=0.2, seed=0)
    inputs, labels = train.draw(rng)                    # one augmented draw per window

Per expression clip (emo_prediction.training.expression_analysis finds its peak
activation t_r and target face t_m), a window keeps the 17 frames around t_r
and the 4 frames from t_m on. Each draw takes, as the paper does, an input of 4
frames (in time order) out of the 9 frames around the peak activation and a
label out of the 4 frames from the target on; the centre of the 9 frames is
also moved by up to `center_jitter` frames, since the online detector fires a
little before or after t_r. Inference uses the last 9 frames up to the firing
frame, taking frames [0, 3, 5, 8] of them (`emo_prediction.window.INPUT_FRAMES`).
"""
from dataclasses import dataclass

import numpy as np

from emo_prediction.training.expression_analysis import ClipError, analyze_expression
from emo_prediction.window import INPUT_FRAMES, PEAK_WINDOW_HALF


@dataclass
class WindowDataset:
    around_peak: np.ndarray    # (N, 17, 113, 2) frames t_r-8 .. t_r+8
    targets: np.ndarray        # (N, 4, 113, 2) frames t_m .. t_m+3
    participant: np.ndarray    # (N,) str
    video: np.ndarray          # (N,) str
    label: np.ndarray          # (N,) str, the expression if known
    lead_s: np.ndarray         # (N,) (t_m - t_r) / fps

    def __len__(self):
        return len(self.targets)

    def subset(self, idx) -> 'WindowDataset':
        return WindowDataset(self.around_peak[idx], self.targets[idx], self.participant[idx],
                             self.video[idx], self.label[idx], self.lead_s[idx])

    def draw(self, rng: np.random.Generator, center_jitter: int = 4):
        """One augmented (inputs (N, 4, 113, 2), labels (N, 113, 2)) draw."""
        n = len(self)
        centers = PEAK_WINDOW_HALF + rng.integers(-center_jitter, center_jitter + 1, n)
        picks = np.sort(np.stack([rng.choice(9, 4, replace=False) for _ in range(n)]), axis=1)
        idx = centers[:, None] - 4 + picks
        inputs = self.around_peak[np.arange(n)[:, None], idx]
        labels = self.targets[np.arange(n), rng.integers(0, 4, n)]
        return inputs.astype(np.float32), labels.astype(np.float32)

    def fixed_inputs(self):
        """Deterministic evaluation inputs: frames [0, 3, 5, 8] of the 9 around t_r, label = t_m."""
        idx = PEAK_WINDOW_HALF - 4 + np.array(INPUT_FRAMES)
        return self.around_peak[:, idx].astype(np.float32), self.targets[:, 0].astype(np.float32)

    def mimic_faces(self):
        """The mimicry baseline: the face at the peak activation."""
        return self.around_peak[:, PEAK_WINDOW_HALF].astype(np.float32)

    def split(self, mode: str = 'within', val_fraction: float = 0.2, seed: int = 0):
        """(train, val): 'within' = 80:20 of each participant's videos; 'lpo' = leave participants out."""
        rng = np.random.default_rng(seed)
        val = np.zeros(len(self), bool)
        if mode == 'within':
            for p in np.unique(self.participant):
                videos = np.unique(self.video[self.participant == p])
                rng.shuffle(videos)
                n_val = int(round(len(videos) * val_fraction))
                val |= (self.participant == p) & np.isin(self.video, videos[:n_val])
        elif mode == 'lpo':
            people = np.unique(self.participant)
            rng.shuffle(people)
            val = np.isin(self.participant, people[:max(1, int(round(len(people) * val_fraction)))])
        else:
            raise ValueError(f"split mode must be 'within' or 'lpo', got {mode!r}")
        return self.subset(~val), self.subset(val)

    def folds(self, k: int = 5, by: str = 'video', seed: int = 0):
        """k (train, test) splits by video or by participant, for cross-validation."""
        groups = self.video if by == 'video' else self.participant
        unique = np.unique(groups)
        np.random.default_rng(seed).shuffle(unique)
        for chunk in np.array_split(unique, k):
            test = np.isin(groups, chunk)
            yield self.subset(~test), self.subset(test)

    def save(self, path) -> None:
        np.savez_compressed(path, around_peak=self.around_peak.astype(np.float32),
                            targets=self.targets.astype(np.float32), participant=self.participant,
                            video=self.video, label=self.label, lead_s=self.lead_s)

    @classmethod
    def load(cls, path) -> 'WindowDataset':
        with np.load(path, allow_pickle=False) as f:
            return cls(f['around_peak'], f['targets'], f['participant'], f['video'], f['label'], f['lead_s'])

    @classmethod
    def concatenate(cls, parts) -> 'WindowDataset':
        parts = [p for p in parts if len(p)]
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ('around_peak', 'targets', 'participant', 'video', 'label', 'lead_s')))


def window_from_clip(face_xy: np.ndarray, fps: float):
    """(around_peak (17, 113, 2), targets (4, 113, 2), lead_s) of one clip, or None with the reason."""
    try:
        events = analyze_expression(face_xy, fps)
    except ClipError as err:
        return None, str(err)
    if not events.has_expression:
        return None, events.reason
    from emo_prediction.training.expression_analysis import fill_gaps
    face = fill_gaps(face_xy, 5)
    n = len(face)
    peak = events.peak_activation_frame
    idx = np.clip(np.arange(peak - PEAK_WINDOW_HALF, peak + PEAK_WINDOW_HALF + 1), 0, n - 1)
    tgt = np.clip(np.arange(events.target_frame, events.target_frame + 4), 0, n - 1)
    lead = (events.target_frame - events.peak_activation_frame) / fps
    return (face[idx], face[tgt], lead), ''


def build_from_clips(clips, progress: bool = True) -> tuple:
    """A WindowDataset from (face_xy, fps, participant, video, label) tuples; also the skipped clips and why."""
    from tqdm import tqdm
    rows, skipped = [], []
    for face_xy, fps, participant, video, label in tqdm(list(clips), desc='windows', disable=not progress):
        window, reason = window_from_clip(face_xy, fps)
        if window is None:
            skipped.append((video, reason))
            continue
        rows.append((window, participant, video, label))
    if not rows:
        raise ClipError(f'no clip gave an expression window ({len(skipped)} skipped)')
    return WindowDataset(
        np.stack([r[0][0] for r in rows]).astype(np.float32), np.stack([r[0][1] for r in rows]).astype(np.float32),
        np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
        np.array([r[0][2] for r in rows], dtype=np.float32)), skipped


def synthetic_clips(n_clips: int, n_people: int, seed: int, first_person: int = 0):
    """(face_xy, fps, participant, video, label) of generated expression clips.

    People are numbered: the same number is the same face, so test sets start
    their people after the training ones (first_person) to hold participants out.
    """
    from emo_prediction.training.synthetic import ExpressionGenerator
    gen = ExpressionGenerator(seed)
    people = [gen.person(first_person + i) for i in range(n_people)]
    for k in range(n_clips):
        person = people[k % n_people]
        clip = gen.expression_clip(person)
        yield clip.face_xy, clip.fps, person.person_id, f'{person.person_id}_v{k:05d}', clip.label
