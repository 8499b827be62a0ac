"""Build the predictive model's windows from videos, recorded bags, landmark arrays or generated clips.

    python -m emo_prediction.training.build_dataset --videos mmi/ --out windows.npz
    python -m emo_prediction.training.build_dataset --bags capture_2026_11_23/ --out windows.npz
    python -m emo_prediction.training.build_dataset --arrays clips/*.npz --synthetic 2000 --out windows.npz

Sources (any mix):
- --videos DIR: every video under DIR is one expression clip (MMI style); the
  participant is the sub-folder a video sits in, else the file name up to the
  first '_' or '-'. Faces are found with emo_perception's face mesh.
- --bags PATH: rosbag2 recordings (MCAP or SQLite, from `ros2 bag record` or the
  emo_bringup recorder) of /emo/face/landmarks, or of the eye camera's JPEGs
  (/emo/eye_left/image_raw/compressed, record_images:=true), whose frames go through
  the face mesh; one participant per bag. A damaged
  bag is an error (--skip-corrupt skips its damaged chunks); so are unset (zero) or
  repeated header stamps, which the frame rate is taken from.
- --arrays FILE: .npz with `face_xy` (frames, 113, 2) or 468-point MediaPipe
  `landmarks` (frames, 468, 3, normalized) with `width`, `height`; and `fps`;
  optional `participant`.
- --synthetic N: N generated expression clips (emo_prediction.training.synthetic).
Long recordings (bags, long arrays) are cut into clips around each onset the
online detector finds: from 1.5 s before to 2.5 s after it.
The result is cached: the same sources and arguments reuse the existing file.
"""
import argparse
import hashlib
import json
import pathlib
import re

import numpy as np
from emo_msgs.msg import Topics

from emo_prediction.training.bag_reading import FACE_LANDMARKS_TOPIC
from emo_prediction.training.dataset import build_from_clips, synthetic_clips
from emo_common.layout import NUM_LANDMARKS

VIDEO_SUFFIXES = ('.avi', '.mp4', '.mov', '.mkv', '.wmv', '.flv', '.webm', '.mpg')
CLIP_BEFORE_S, CLIP_AFTER_S = 1.5, 2.5


def participant_of(path: pathlib.Path, root: pathlib.Path) -> str:
    rel = path.relative_to(root)
    if len(rel.parts) > 1:
        return rel.parts[0]
    return re.split(r'[_-]', path.stem)[0]


def video_face_xy(path: pathlib.Path):
    """(face_xy (frames, 113, 2) NaN where no face, fps) of a video, via emo_perception's face mesh."""
    import cv2
    from emo_perception.face_frame import mesh_to_face_landmarks
    from emo_perception.face_mesh import FaceMeshTracker
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f'cannot decode video {path}')
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    faces = []
    with FaceMeshTracker(max_faces=2) as tracker:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            meshes = tracker.process(rgb)
            faces.append(mesh_to_face_landmarks(meshes[0], rgb.shape[1], rgb.shape[0]).face_xy
                         if meshes else np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
    cap.release()
    return np.array(faces, np.float32).reshape(-1, NUM_LANDMARKS, 2), fps


IMAGE_TOPIC = '/' + Topics.EYE_LEFT_IMAGE_COMPRESSED


def bag_face_xy(path: pathlib.Path, topic: str = FACE_LANDMARKS_TOPIC, skip_corrupt: bool = False):
    """(face_xy, fps) of the FaceLandmarks in a rosbag2 recording (time order; NaN without a face); a
    bag with the eye camera's JPEGs (record_images) and no landmarks: the face mesh of its frames.

    The frame rate comes from the header stamps, which must be set and increasing: zero (unset) or
    repeated stamps are a ValueError. With skip_corrupt, damaged chunks of the bag are skipped (and said).
    """
    from emo_prediction.training.bag_reading import BagReport, bag_topics, read_face_landmarks
    report = BagReport()
    if topic not in bag_topics(path) and IMAGE_TOPIC in bag_topics(path):
        topic = IMAGE_TOPIC
        stamps, faces = bag_images_face_xy(path, topic, skip_corrupt, report)
    else:
        stamps, faces = read_face_landmarks(path, topic, skip_corrupt, report)
    if report.corrupt:
        print(f'{path}: skipped {len(report.corrupt)} corrupted spans ({report.skipped} {topic} messages)')
    if len(stamps) < 2:
        raise ValueError(f'{path}: fewer than 2 {topic} messages')
    check_stamps(stamps, f'{path} ({topic} header stamps)')
    return faces, float(1.0 / np.median(np.diff(stamps)))


def bag_images_face_xy(path, topic: str, skip_corrupt: bool = False, report=None):
    """(stamps, face_xy) of the compressed camera images of a bag, through emo_perception's face mesh."""
    from emo_perception.face_frame import mesh_to_face_landmarks
    from emo_perception.face_mesh import FaceMeshTracker
    from emo_perception.image_conversion import compressed_to_rgb
    from emo_prediction.training.bag_reading import read_messages
    stamps, faces = [], []
    with FaceMeshTracker(max_faces=2) as tracker:
        for _, msg in read_messages(path, topic, skip_corrupt, report):
            rgb = compressed_to_rgb(msg)
            meshes = tracker.process(rgb)
            stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
            faces.append(mesh_to_face_landmarks(meshes[0], rgb.shape[1], rgb.shape[0]).face_xy
                         if meshes else np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
    return np.array(stamps), np.array(faces, np.float32).reshape(-1, NUM_LANDMARKS, 2)


def check_stamps(stamps: np.ndarray, what: str) -> None:
    """Stamps in s must be positive, finite and strictly increasing in time order (the frame rate comes from them)."""
    stamps = np.asarray(stamps, np.float64)
    bad = ~np.isfinite(stamps) | (stamps <= 0.0)
    if bad.any():
        raise ValueError(f'{what}: {int(bad.sum())} of {len(stamps)} stamps are zero, negative or not finite '
                         f'(first at message {int(np.argmax(bad))}): the header stamps were not set')
    steps = np.diff(stamps)
    if (steps <= 0.0).any():
        i = int(np.argmax(steps <= 0.0))
        raise ValueError(f'{what}: stamps must increase, but {int((steps <= 0.0).sum())} do not '
                         f'(first: message {i + 1} at {stamps[i + 1]:.9f} s after {stamps[i]:.9f} s)')


def array_face_xy(path: pathlib.Path):
    with np.load(path, allow_pickle=False) as f:
        fps = float(f['fps']) if 'fps' in f.files else 30.0
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f'{path}: fps must be a positive number, got {fps}')
        participant = str(f['participant']) if 'participant' in f.files else path.stem
        if 'face_xy' in f.files:
            face = np.asarray(f['face_xy'], np.float32)
        elif 'landmarks' in f.files:
            from emo_prediction.training.corpus import meshes_to_face_xy
            face = meshes_to_face_xy(f['landmarks'], int(f['width']), int(f['height']),
                                     f['detected'] if 'detected' in f.files else None)
        else:
            raise ValueError(f'{path}: needs face_xy (frames, 113, 2) or landmarks (frames, 468, 3)')
    if face.ndim != 3 or face.shape[1:] != (NUM_LANDMARKS, 2):
        raise ValueError(f'{path}: face_xy must be (frames, 113, 2), got {face.shape}')
    return face, fps, participant


def cut_onsets(face_xy: np.ndarray, fps: float):
    """Clips around each onset the online detector finds in a long recording."""
    from emo_prediction.detector import run_detector
    from emo_common.layout import landmark_layout
    _, ids, _ = landmark_layout()
    for frame, _ in run_detector(face_xy, fps, None, ids):
        a, b = max(0, frame - int(CLIP_BEFORE_S * fps)), min(len(face_xy), frame + int(CLIP_AFTER_S * fps))
        yield a, face_xy[a:b]


def collect(args):
    """(face_xy, fps, participant, video, label) of every clip of the sources."""
    if args.videos:
        root = pathlib.Path(args.videos)
        for path in sorted(p for p in root.rglob('*') if p.suffix.lower() in VIDEO_SUFFIXES):
            face, fps = video_face_xy(path)
            yield face, fps, participant_of(path, root), str(path.relative_to(root)), ''
    for bag in args.bags or []:
        face, fps = bag_face_xy(pathlib.Path(bag), skip_corrupt=args.skip_corrupt)
        for start, clip in cut_onsets(face, fps):
            yield clip, fps, pathlib.Path(bag).name, f'{pathlib.Path(bag).name}@{start}', ''
    for arr in args.arrays or []:
        face, fps, participant = array_face_xy(pathlib.Path(arr))
        if len(face) > (CLIP_BEFORE_S + CLIP_AFTER_S + 1) * fps:
            for start, clip in cut_onsets(face, fps):
                yield clip, fps, participant, f'{pathlib.Path(arr).name}@{start}', ''
        else:
            yield face, fps, participant, pathlib.Path(arr).name, ''
    if args.synthetic:
        yield from synthetic_clips(args.synthetic, args.people, args.seed)


def fingerprint(args) -> str:
    """What the cache depends on: the arguments and each source file's size and time."""
    items = [json.dumps({k: str(v) for k, v in sorted(vars(args).items()) if k != 'out'})]
    paths = []
    if args.videos:
        paths += sorted(pathlib.Path(args.videos).rglob('*'))
    for p in (args.bags or []) + (args.arrays or []):
        p = pathlib.Path(p)
        paths += sorted(p.rglob('*')) if p.is_dir() else [p]
    for p in paths:
        if p.is_file():
            st = p.stat()
            items.append(f'{p}:{st.st_size}:{st.st_mtime_ns}')
    return hashlib.sha256('\n'.join(items).encode()).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--videos', type=pathlib.Path)
    parser.add_argument('--bags', nargs='+')
    parser.add_argument('--arrays', nargs='+')
    parser.add_argument('--skip-corrupt', action='store_true',
                        help='skip damaged chunks of bags (and say how many messages were lost) instead of failing')
    parser.add_argument('--synthetic', type=int, default=0)
    parser.add_argument('--people', type=int, default=60)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    if not (args.videos or args.bags or args.arrays or args.synthetic):
        parser.error('give at least one source: --videos, --bags, --arrays or --synthetic')
    key = fingerprint(args)
    meta_path = args.out.with_suffix('.json')
    if args.out.exists() and meta_path.exists() and json.loads(meta_path.read_text()).get('fingerprint') == key:
        print(f'{args.out} is up to date (cached)')
        return 0
    data, skipped = build_from_clips(collect(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data.save(args.out)
    meta = {'fingerprint': key, 'windows': len(data), 'participants': int(len(np.unique(data.participant))),
            'skipped': [{'video': v, 'reason': r} for v, r in skipped]}
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f'wrote {len(data)} windows of {meta["participants"]} participants to {args.out}; '
          f'{len(skipped)} clips skipped (see {meta_path})')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
