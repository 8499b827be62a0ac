"""The demo camera's clip (camera:=demo): a real face making expressions with human-like onsets.

    clip = demo_clip()                  # renders on first use, then cached
    clip.video_path, clip.fps, clip.expressions[0]['target_frame']

Made from scikit-image's `astronaut` (a public-domain NASA portrait): a few
seconds of neutral face, then smile, surprise, brow raise and jaw drop, each
rising with a minimum-jerk profile over an onset duration spread like the
paper's 0.84 s +- 0.71 s, held, released, and followed by rest. Frames are made
by landmark-driven warping: MediaPipe's mesh of the photo gives the control
points, each expression moves some of them (in units of the inter-ocular
distance) while rigid points and the image border stay, and a thin-plate
spline carries the motion to every pixel. The clip is checked to have a face
MediaPipe finds in every frame, and ships its ground truth: per expression the
onset start, the peak activation (the greatest acceleration of the onset,
the paper's t_r) and the target face (the first frame at full intensity, t_m).
"""
import json
import os
import pathlib
from dataclasses import dataclass

import numpy as np

from emo_common.layout import region

VERSION = 'demo-v1'
FPS = 30.0
SIZE = (640, 480)  # width, height
SEED = 7

# Vertex groups of MediaPipe's face mesh; R = the person's right (image left).
BROW_R = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
BROW_L = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
LID_UP_R, LID_UP_L = region('upper_lid_right'), region('upper_lid_left')
LID_LO_R, LID_LO_L = region('lower_lid_right'), region('lower_lid_left')
LIP_UP, LIP_LO = region('upper_lip'), region('lower_lip')
CHIN = (152, 199, 175, 200, 18, 148, 377)
# Jaw contour from chin to ear, with the share of the jaw drop each point takes.
JAW_CONTOUR = ((176, 400, 0.9), (149, 378, 0.75), (150, 379, 0.55), (136, 365, 0.35),
               (172, 397, 0.2), (58, 288, 0.08))
CORNER_R, CORNER_L = 61, 291
CHEEK_R, CHEEK_L = (205, 50, 187), (425, 280, 411)
# Points that stay: forehead, nose, temples, eye corners.
ANCHORS = (10, 338, 109, 297, 67, 151, 9, 168, 6, 197, 195, 5, 4, 1, 234, 454, 127, 356,
           162, 389, 21, 251, 33, 263, 133, 362, 98, 327)


def _jaw_drop(amount: float) -> dict:
    """Vertex -> (dx, dy) of a jaw opening by `amount` inter-ocular distances."""
    moves = {v: (0.0, amount) for v in LIP_LO + CHIN}
    for right, left, share in JAW_CONTOUR:
        moves[right] = moves[left] = (0.0, amount * share)
    moves[CORNER_R] = moves[CORNER_L] = (0.0, amount * 0.4)
    return moves


def _mirror(moves_right: dict, pairs) -> dict:
    """Add the person's-left counterpart of right-side moves (x mirrored)."""
    out = dict(moves_right)
    for r, l in pairs:
        if r in moves_right:
            dx, dy = moves_right[r]
            out[l] = (-dx, dy)
    return out


def expression_moves(label: str) -> dict:
    """The full-intensity displacement of each moved vertex, in inter-ocular units (x right, y down)."""
    brows = list(zip(BROW_R, BROW_L))
    if label == 'smile':
        right = {CORNER_R: (-0.14, -0.11), 185: (-0.06, -0.05), 146: (-0.07, -0.03),
                 40: (-0.03, -0.04), 91: (-0.04, -0.02), CHEEK_R[0]: (-0.02, -0.06),
                 CHEEK_R[1]: (0.0, -0.04), CHEEK_R[2]: (-0.03, -0.05)}
        right.update({v: (0.0, -0.03) for v in LID_LO_R})
        moves = _mirror(right, [(CORNER_R, CORNER_L), (185, 409), (146, 375), (40, 270), (91, 321),
                                 *zip(CHEEK_R, CHEEK_L), *zip(LID_LO_R, LID_LO_L)])
        moves.update({v: (0.0, 0.03) for v in (14, 87, 317, 17, 84, 314)})  # lips part a little
        return moves
    if label == 'surprise':
        moves = _jaw_drop(0.28)
        moves.update({v: (0.0, -0.13) for v in BROW_R + BROW_L})
        moves.update({v: (0.0, -0.04) for v in LID_UP_R + LID_UP_L})
        moves[CORNER_R], moves[CORNER_L] = (0.03, 0.1), (-0.03, 0.1)
        return moves
    if label == 'brow_raise':
        moves = {v: (0.0, -0.16) for v in BROW_R + BROW_L}
        moves.update({v: (0.0, -0.03) for v in LID_UP_R + LID_UP_L})
        return _mirror(moves, brows)
    if label == 'jaw_drop':
        return _jaw_drop(0.42)
    raise ValueError(f'unknown demo expression {label!r}')


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """Smooth 0 -> 1 rise over tau in [0, 1] (zero velocity and acceleration at both ends)."""
    tau = np.clip(tau, 0.0, 1.0)
    return 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5


# Where a minimum-jerk rise accelerates most: d3/dtau3 = 0 at tau = 1/2 - sqrt(3)/6.
PEAK_ACTIVATION_TAU = 0.5 - np.sqrt(3.0) / 6.0


def onset_durations(n: int) -> np.ndarray:
    """n onset durations (s) spread like the paper's 0.84 s +- 0.71 s, shortest first.

    The n evenly spaced quantiles of a log-normal with that mean and SD (so a
    short clip still spans quick and slow onsets), kept in [0.3, 2.0] s.
    """
    from scipy.stats import lognorm
    mean, sd = 0.84, 0.71
    sigma = np.sqrt(np.log(1 + (sd / mean) ** 2))
    quantiles = (np.arange(n) + 0.5) / n
    durations = lognorm.ppf(quantiles, s=sigma, scale=mean * np.exp(-sigma ** 2 / 2))
    return np.clip(durations, 0.3, 2.0)


# The demo's expressions and which of the spread onset durations each gets
# (0 = quickest): a mid-speed smile first, the slowest onset third.
DEMO_EXPRESSIONS = (('smile', 2), ('surprise', 1), ('brow_raise', 3), ('jaw_drop', 0))


def timeline(expressions=DEMO_EXPRESSIONS, rest_s: float = 2.0,
             hold_s: float = 1.0, release_s: float = 0.7, gap_s: float = 1.6, fps: float = FPS):
    """Per-frame (label, intensity) and the ground truth of each expression."""
    spread = onset_durations(len(expressions))
    labels = [label for label, _ in expressions]
    durations = [spread[rank] for _, rank in expressions]
    frames, truth = [], []
    frames += [(None, 0.0)] * int(round(rest_s * fps))
    for label, onset_s in zip(labels, durations):
        n_on = max(2, int(round(onset_s * fps)))
        start = len(frames)
        frames += [(label, float(minimum_jerk(np.array(i / n_on)))) for i in range(1, n_on + 1)]
        truth.append({'label': label, 'onset_s': n_on / fps, 'onset_start_frame': start,
                      'peak_activation_frame': start + int(round(PEAK_ACTIVATION_TAU * n_on)) - 1,
                      'target_frame': start + n_on - 1})
        frames += [(label, 1.0)] * int(round(hold_s * fps))
        n_off = int(round(release_s * fps))
        frames += [(label, float(1 - minimum_jerk(np.array(i / n_off)))) for i in range(1, n_off + 1)]
        frames += [(None, 0.0)] * int(round(gap_s * fps))
    return frames, truth


def _base_image() -> np.ndarray:
    """The astronaut photo cropped to 4:3 around the face and scaled to SIZE (RGB)."""
    import cv2
    from skimage import data
    img = data.astronaut()[0:384, 0:512]
    return cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA)


class FaceWarper:
    """Thin-plate-spline warping of a face image by landmark displacements."""

    def __init__(self, image: np.ndarray, mesh_px: np.ndarray, grid_step: int = 8):
        self.image = image
        self.mesh_px = mesh_px
        self.iod = float(np.linalg.norm(mesh_px[263, :2] - mesh_px[33, :2]))
        h, w = image.shape[:2]
        border = [(x, y) for x in np.linspace(0, w - 1, 9) for y in (0, h - 1)] + \
                 [(x, y) for y in np.linspace(0, h - 1, 7)[1:-1] for x in (0, w - 1)]
        self.fixed = np.vstack([mesh_px[list(ANCHORS), :2], np.array(border, dtype=np.float64)])
        gy, gx = np.mgrid[0:h + grid_step:grid_step, 0:w + grid_step:grid_step]
        self.grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float64)
        self.grid_shape = gx.shape
        self.grid_step = grid_step

    def warp(self, moves: dict, intensity: float, shift=(0.0, 0.0), roll_deg: float = 0.0) -> np.ndarray:
        import cv2
        from scipy.interpolate import RBFInterpolator
        h, w = self.image.shape[:2]
        if moves and intensity > 0:
            ids = np.array(sorted(moves))
            disp = np.array([moves[i] for i in ids]) * self.iod * intensity
            dst = self.mesh_px[ids, :2] + disp
            # Backward map: at each destination point, where to sample the source.
            ctrl = np.vstack([dst, self.fixed])
            vals = np.vstack([-disp, np.zeros_like(self.fixed)])
            field = RBFInterpolator(ctrl, vals, kernel='thin_plate_spline', smoothing=1e-3)(self.grid)
            fx = field[:, 0].reshape(self.grid_shape).astype(np.float32)
            fy = field[:, 1].reshape(self.grid_shape).astype(np.float32)
            gh, gw = self.grid_shape
            fx = cv2.resize(fx, (gw * self.grid_step, gh * self.grid_step), interpolation=cv2.INTER_CUBIC)[:h, :w]
            fy = cv2.resize(fy, (gw * self.grid_step, gh * self.grid_step), interpolation=cv2.INTER_CUBIC)[:h, :w]
        else:
            fx = np.zeros((h, w), np.float32)
            fy = np.zeros((h, w), np.float32)
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        out = cv2.remap(self.image, xs + fx, ys + fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if shift != (0.0, 0.0) or roll_deg:
            center = tuple(self.mesh_px[168, :2])
            m = cv2.getRotationMatrix2D(center, roll_deg, 1.0)
            m[:, 2] += shift
            out = cv2.warpAffine(out, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        return out


@dataclass(frozen=True)
class DemoClip:
    video_path: pathlib.Path
    fps: float
    num_frames: int
    expressions: list  # ground truth per expression (see module doc)
    meshes_path: pathlib.Path  # (frames, 468, 3) MediaPipe meshes of the rendered frames


def cache_dir() -> pathlib.Path:
    """Where the rendered clip lives: $EMO_CACHE_DIR or ~/.cache/emo_coexpression."""
    root = os.environ.get('EMO_CACHE_DIR') or os.path.join(os.path.expanduser('~'), '.cache', 'emo_coexpression')
    return pathlib.Path(root) / VERSION


def render(out_dir: pathlib.Path, progress: bool = True) -> DemoClip:
    """Render the demo clip into out_dir, checking MediaPipe finds the face in every frame."""
    import cv2
    from tqdm import tqdm

    from emo_perception.face_frame import mesh_to_pixels
    from emo_perception.face_mesh import FaceMeshTracker

    out_dir.mkdir(parents=True, exist_ok=True)
    base = _base_image()
    with FaceMeshTracker(max_faces=1, static_image_mode=True) as tracker:
        meshes = tracker.process(base)
    if not meshes:
        raise RuntimeError('MediaPipe found no face in the demo base image')
    warper = FaceWarper(base, mesh_to_pixels(meshes[0], SIZE[0], SIZE[1]))
    frames, truth = timeline()
    rng = np.random.default_rng(SEED)
    tmp_video = out_dir / 'demo.tmp.mp4'
    writer = cv2.VideoWriter(str(tmp_video), cv2.VideoWriter_fourcc(*'mp4v'), FPS, SIZE)
    tracked = np.zeros((len(frames), 468, 3), np.float32)
    missing = []
    with FaceMeshTracker(max_faces=1) as tracker:
        for i, (label, intensity) in enumerate(tqdm(frames, desc='rendering demo clip', disable=not progress)):
            t = i / FPS
            # A living head: slow sway and roll, a little sensor noise.
            shift = (3.0 * np.sin(2 * np.pi * t / 5.3), 2.0 * np.sin(2 * np.pi * t / 7.1))
            roll = 1.5 * np.sin(2 * np.pi * t / 6.7)
            rgb = warper.warp(expression_moves(label) if label else {}, intensity, shift, roll)
            noisy = np.clip(rgb.astype(np.int16) + rng.integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
            writer.write(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR))
            found = tracker.process(noisy)
            if found:
                tracked[i] = found[0]
            else:
                missing.append(i)
    writer.release()
    if missing:
        raise RuntimeError(f'MediaPipe lost the face in demo frames {missing[:10]}')
    np.savez_compressed(out_dir / 'meshes.npz', meshes=tracked)
    (out_dir / 'demo.json').write_text(json.dumps(
        {'version': VERSION, 'fps': FPS, 'num_frames': len(frames), 'width': SIZE[0], 'height': SIZE[1],
         'source': 'scikit-image astronaut (public-domain NASA photo), landmark-driven warping',
         'expressions': truth, 'intensity': [round(x, 4) for _, x in frames],
         'label': [lab for lab, _ in frames]}, indent=1))
    tmp_video.rename(out_dir / 'demo.mp4')
    return load(out_dir)


def load(out_dir: pathlib.Path) -> DemoClip:
    meta = json.loads((out_dir / 'demo.json').read_text())
    return DemoClip(video_path=out_dir / 'demo.mp4', fps=meta['fps'], num_frames=meta['num_frames'],
                    expressions=meta['expressions'], meshes_path=out_dir / 'meshes.npz')


def demo_clip(progress: bool = True) -> DemoClip:
    """The demo clip, rendered into the cache on first use."""
    out_dir = cache_dir()
    if (out_dir / 'demo.mp4').exists() and (out_dir / 'demo.json').exists() and (out_dir / 'meshes.npz').exists():
        return load(out_dir)
    return render(out_dir, progress=progress)


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(description='Render (or find) the built-in demo clip and print where it is.')
    parser.add_argument('--force', action='store_true', help='render again even if cached')
    parser.add_argument('--path', action='store_true', help="print the clip's path alone (eye_camera_node source:=...)")
    args = parser.parse_args()
    clip = render(cache_dir(), progress=not args.path) if args.force else demo_clip(progress=not args.path)
    print(clip.video_path)
    if args.path:
        return
    for e in clip.expressions:
        print(f"  {e['label']:10s} onset {e['onset_s']:.2f} s  peak activation frame {e['peak_activation_frame']}"
              f"  target frame {e['target_frame']}")


if __name__ == '__main__':
    main()
