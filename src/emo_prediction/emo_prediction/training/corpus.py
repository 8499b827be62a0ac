"""Real faces: a folder of MediaPipe landmark sequences of real people, with labelled onsets.

    corpus = load_corpus('../shared/data/real_onsets')
    for seq in corpus.sequences:          # every source video, whole, in the face frame
        seq.person, seq.fps, seq.face_xy  # (frames, 113, 2), NaN where no face was found
        seq.category                      # 'read_speech' | 'talking' | 'calm' | 'expressive'
    corpus.onsets                         # the labelled expression onsets (dicts of onsets.json)
    corpus.people                         # sorted person ids: split by these, never by frame

The folder layout is the one of `shared/data/real_onsets` (README there):
`sources.json`, `onsets.json` and `landmarks/<source_id>.npz` with every frame's
468-point mesh. Sources may be added at any time: whatever is there is used.
The meshes go through the landmark node's own face-frame step
(`emo_perception.face_frame.mesh_to_face_landmarks`), so the models see what
the running node would publish.
"""
import json
import os
import pathlib
from dataclasses import dataclass, field

import numpy as np

from emo_common.layout import NUM_LANDMARKS

ONSETS_ENV = 'EMO_ONSETS'   # overrides the default corpus folder


@dataclass
class Sequence:
    source_id: str
    person: str
    fps: float
    face_xy: np.ndarray          # (frames, 113, 2) float32, NaN where no face
    category: str                # read_speech | talking | calm | expressive
    onsets: list = field(default_factory=list)   # this source's labelled onsets

    @property
    def seconds(self) -> float:
        return len(self.face_xy) / self.fps

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.face_xy)) / self.fps


@dataclass
class Corpus:
    folder: pathlib.Path
    sequences: list
    onsets: list

    @property
    def people(self) -> list:
        return sorted({s.person for s in self.sequences})

    def of(self, people) -> list:
        people = set(people)
        return [s for s in self.sequences if s.person in people]

    def fingerprint(self) -> dict:
        """What a result was computed on: sources, frames, people and onsets."""
        return {'folder': str(self.folder), 'sources': len(self.sequences), 'people': len(self.people),
                'frames': int(sum(len(s.face_xy) for s in self.sequences)),
                'seconds': round(float(sum(s.seconds for s in self.sequences)), 1), 'onsets': len(self.onsets)}


def default_folder() -> pathlib.Path:
    """$EMO_ONSETS, else shared/data/real_onsets beside the repository (absent in a user's clone)."""
    if os.environ.get(ONSETS_ENV):
        return pathlib.Path(os.environ[ONSETS_ENV])
    here = pathlib.Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / 'shared' / 'data' / 'real_onsets'
        if (parent / '.git').exists() or candidate.is_dir():
            return candidate
    return pathlib.Path('../shared/data/real_onsets')


def category_of(source: dict) -> str:
    """What kind of face motion a source holds (the false-alarm figures are per kind)."""
    origin = source.get('content_origin', '').lower()
    if 'read speech' in origin or source['source_id'].startswith(('grid_', 'grids1_')):
        return 'read_speech'
    if source.get('talking_video'):
        return 'talking'
    if not source.get('onsets'):
        return 'calm'
    return 'expressive'


def meshes_to_face_xy(meshes: np.ndarray, width: int, height: int, detected=None) -> np.ndarray:
    """(frames, 113, 2) face-frame landmarks of MediaPipe meshes (frames, 468, 3), NaN where no face."""
    from emo_perception.face_frame import mesh_to_face_landmarks
    meshes = np.asarray(meshes)
    ok = np.isfinite(meshes).all(axis=(1, 2))
    if detected is not None:
        ok &= np.asarray(detected).astype(bool)
    face = np.full((len(meshes), NUM_LANDMARKS, 2), np.nan, np.float32)
    for i in np.flatnonzero(ok):
        face[i] = mesh_to_face_landmarks(meshes[i], width, height).face_xy
    return face


def mesh_file_to_face_xy(npz_path) -> tuple:
    """(face_xy (frames, 113, 2) with NaN where no face, fps) of one landmark file."""
    with np.load(npz_path) as f:
        meshes, detected = f['landmarks'], f['detected']
        width, height, fps = int(f['width']), int(f['height']), float(f['fps'])
    return meshes_to_face_xy(meshes, width, height, detected), fps


def load_corpus(folder=None, progress: bool = False) -> Corpus:
    folder = pathlib.Path(folder) if folder is not None else default_folder()
    if not (folder / 'sources.json').is_file():
        raise FileNotFoundError(f'{folder} holds no sources.json: not a real-onsets corpus '
                                f'(set {ONSETS_ENV} or ONSETS=DIR)')
    sources = json.loads((folder / 'sources.json').read_text())
    onsets_path = folder / 'onsets.json'
    onsets = json.loads(onsets_path.read_text()) if onsets_path.is_file() else []
    from tqdm import tqdm
    sequences = []
    for src in tqdm(sources, desc='corpus', disable=not progress):
        path = folder / 'landmarks' / f"{src['source_id']}.npz"
        if not path.is_file():
            continue
        face, fps = mesh_file_to_face_xy(path)
        own = [o for o in onsets if o['source_id'] == src['source_id']]
        sequences.append(Sequence(src['source_id'], src['person_id'], fps, face, category_of(src), own))
    known = {s.source_id for s in sequences}
    return Corpus(folder, sequences, [o for o in onsets if o['source_id'] in known])


def leave_person_out(people, k: int = 0, seed: int = 0):
    """(train people, test people) folds: one person per fold (k=0), or k folds of people."""
    people = sorted(people)
    if not k or k >= len(people):
        for p in people:
            yield [q for q in people if q != p], [p]
        return
    order = list(people)
    np.random.default_rng(seed).shuffle(order)
    for chunk in np.array_split(np.array(order), k):
        test = sorted(chunk.tolist())
        yield [q for q in people if q not in test], test


def check_disjoint(train_people, test_people, what: str = 'test') -> None:
    """Refuse a split in which a person is both trained on and tested on."""
    both = set(train_people) & set(test_people)
    if both:
        raise ValueError(f'{what} people also in training: {sorted(both)} (leave-person-out violated)')
