"""The simulated Emo head (a digital twin): servo positions -> the robot face's 113 landmarks.

    twin = SimulatedHead(load_head(), seed=0)
    face_xy = twin.face(positions)            # (113, 2) face frame, as the landmark node would see it
    face_xy = twin.face_of_commands(c)        # the same for 11 commands at rest (servos settled)

It stands in for the robot and the camera looking at it, so the self-model can
be learned, tested and demonstrated without hardware. It is deliberately not a
linear map, since soft skin is not:
- each facial servo moves a patch of skin (Gaussian falloff around the landmarks
  its linkage pulls), with saturation toward the ends of its travel (tanh);
- neighbouring actuators couple: an open jaw drags the mouth corners down and
  damps their raise, stretched corners flatten the lips;
- the upper and lower face couple through the skin (`COUPLING`, magnitudes in
  face units at full travel): raised mouth corners lift the lower lids and the
  cheeks (as a person's smile does, AU12 with AU6), an open jaw narrows the
  eyes (the upper lids follow the skin pulled down), raised brows open the
  upper lids (AU1+2 with AU5), closing upper lids pull the lower ones up. So a
  face made of the upper half of one babbled face and the lower half of
  another is not exactly a face the head makes: augmentation is tested;
- the left side responds a few percent differently from the right (assembly);
- measurement noise (landmark jitter, seeded).
In time, the skin lags its linkages (`SkinLag`, the head's dynamics.skin).
The face frame is the landmark node's (unit: outer-eye-corner distance, y
down), so the robot's face and a person's are comparable after normalization.
"""
import json
from functools import lru_cache
from importlib import resources

import numpy as np

from emo_common.layout import NUM_LANDMARKS, region


@lru_cache(maxsize=None)
def robot_face_model():
    """(rest face (113, 2), vertex ids, groups as row indices) of the simulated head."""
    data = json.loads(resources.files('emo_sim').joinpath('data', 'robot_face.json').read_text())
    ids = list(data['vertex_ids'])
    rows = {k: np.array([ids.index(v) for v in vs]) for k, vs in data['groups'].items()}
    return np.array(data['face_xy']), ids, rows


def _rows(*vertices):
    ids = robot_face_model()[1]
    return np.array([ids.index(v) for v in vertices if v in ids])


def _patch(face, rows, center, width):
    """Weights (113,) of a skin patch: the listed rows, falling off around `center`."""
    w = np.zeros(len(face))
    d2 = np.sum((face[rows] - center) ** 2, axis=1)
    w[rows] = np.exp(-d2 / (2 * width ** 2))
    return w


class SkinLag:
    """The silicone skin's viscoelastic lag behind the linkages that pull it: `order` first-order
    stages of time constant `time_constant_s`, applied to the servo positions (the skin follows
    where its magnets are). Exact for any spacing of the samples at order 1; at higher orders each
    stage holds its input over a step (8 % of a step off at 20 ms samples, tau 40 ms, order 2; the
    offline lag measurement shares it). Order 0 or tau 0: no lag.

        lag = SkinLag(head.dynamics.skin_order, head.dynamics.skin_time_constant_s)
        felt = lag.update(t, positions)       # the positions the skin has caught up with by t
    """

    def __init__(self, order: int, time_constant_s: float):
        self.order = int(order) if time_constant_s > 0 else 0
        self.tau = float(time_constant_s)
        self.reset()

    def reset(self) -> None:
        self.stages, self.t = None, None

    def update(self, t: float, positions: np.ndarray) -> np.ndarray:
        x = np.asarray(positions, dtype=np.float64)
        if self.order == 0:
            return x
        if self.stages is None:
            self.stages, self.t = [x.copy() for _ in range(self.order)], t
            return x.copy()
        x = np.where(np.isfinite(x), x, self.stages[-1])        # a servo that did not answer: where it was
        for s in self.stages:                                  # one never seen before starts settled
            np.copyto(s, x, where=~np.isfinite(s))
        dt = t - self.t
        if not np.isfinite(dt) or dt < 0 or dt > 5.0:          # clock jump or long pause: settled
            self.stages = [x.copy() for _ in range(self.order)]
        else:
            k = 1.0 - np.exp(-dt / self.tau)
            inp = x
            for s in self.stages:                              # input held over the step (zero-order hold)
                s += k * (inp - s)
                inp = s
        self.t = t
        return self.stages[-1].copy()


class SimulatedHead:
    NOISE = 0.002  # landmark jitter SD, face units
    # Cross-region coupling, face units at full travel (the unit is the outer-eye-corner distance, so
    # 0.02 is about 1.3 mm on a face 65 mm between eye corners). Set, not measured on a head: sized
    # against the motion each region makes on its own servos here (lower lid 0.035, upper lid 0.07),
    # a sixth to two thirds of it, so that it matters to the self-model without dominating a region.
    COUPLING = {
        'corner_raise_lifts_lower_lids': 0.025,   # a smile pushes the cheek and lower lid up
        'corner_raise_lifts_cheeks': 0.03,        # the face contour beside the mouth, above the corners
        'jaw_open_lowers_upper_lids': 0.012,      # the opened jaw pulls the skin under the eyes down
        'brow_raise_opens_upper_lids': 0.015,     # raised brows lift the upper lids' skin
        'upper_lid_close_lifts_lower_lids': 0.25,  # share of the upper lid's closing the lower one follows
    }

    def __init__(self, head, seed: int = 0, noise: float = None):
        self.head = head
        self.rng = np.random.default_rng(seed)
        self.noise = self.NOISE if noise is None else noise
        face, ids, rows = robot_face_model()
        self.rest = face
        side = np.where(face[:, 0] < 0, 'r', 'l')  # x < 0: the robot's right, on the image's left
        asym = np.random.default_rng(1234 + seed)
        self.gain = {'r': 1.0, 'l': 1.0 + asym.uniform(0.03, 0.07)}
        brow = np.concatenate([rows['right_brow10'], rows['left_brow10']])
        lid_up = _rows(*region('upper_lid_right'), *region('upper_lid_left'))
        lid_lo = _rows(*region('lower_lid_right'), *region('lower_lid_left'))
        lip_up = _rows(*region('upper_lip'))
        lip_lo = _rows(*region('lower_lip'))
        lips = rows['lips40']
        corner = {'r': face[ids.index(61)], 'l': face[ids.index(291)]}
        chin_y = face[ids.index(152), 1]
        mouth_y = (corner['r'][1] + corner['l'][1]) / 2
        # Per facial servo: (weights (113,), direction of skin motion per unit travel (113, 2)).
        self.fields = {}
        for s in ('r', 'l'):
            sign = -1.0 if s == 'r' else 1.0             # outward in x
            on = side == s
            bx = face[brow, 0]
            inner = np.zeros(len(face))
            inner[brow] = np.clip(1 - np.abs(bx) / 0.7, 0, 1)
            outer = np.zeros(len(face))
            outer[brow] = np.clip(np.abs(bx) / 0.7, 0, 1)
            up = np.array([0.0, -1.0])
            self.fields[f'brow_inner_{s}'] = (inner * on, np.tile(up * 0.12, (NUM_LANDMARKS, 1)))
            self.fields[f'brow_outer_{s}'] = (outer * on, np.tile(up * 0.10, (NUM_LANDMARKS, 1)))
            w = np.zeros(len(face)); w[lid_up] = 1.0
            self.fields[f'lid_upper_{s}'] = (w * on, np.tile(up * 0.07, (NUM_LANDMARKS, 1)))
            w = np.zeros(len(face)); w[lid_lo] = 1.0
            self.fields[f'lid_lower_{s}'] = (w * on, np.tile(up * 0.035, (NUM_LANDMARKS, 1)))
            w = np.zeros(len(face)); w[lip_up] = 1.0
            self.fields[f'lip_upper_{s}'] = (w * on, np.tile(up * 0.08, (NUM_LANDMARKS, 1)))
            w = np.zeros(len(face)); w[lip_lo] = 1.0
            self.fields[f'lip_lower_{s}'] = (w * on, np.tile(-up * 0.09, (NUM_LANDMARKS, 1)))
            w = _patch(face, lips, corner[s], 0.25) * on
            self.fields[f'lip_side_{s}'] = (w, np.tile(np.array([sign * 0.05, 0.0]), (NUM_LANDMARKS, 1)))
            patch = _patch(face, np.concatenate([lips, rows['jaw21']]), corner[s], 0.18) * on
            # Five-bar corner linkage: motor a and b together raise, apart stretch.
            self.fields[f'corner_a_{s}'] = (patch, np.tile(np.array([sign * 0.06, -0.07]), (NUM_LANDMARKS, 1)))
            self.fields[f'corner_b_{s}'] = (patch, np.tile(np.array([-sign * 0.06, -0.07]), (NUM_LANDMARKS, 1)))
        jaw_w = np.zeros(len(face))
        jaw_rows = rows['jaw21']
        jaw_w[jaw_rows] = np.clip((face[jaw_rows, 1] - mouth_y) / (chin_y - mouth_y), 0, 1) ** 1.5
        jaw_w[lip_lo] = 1.0
        self.fields['jaw'] = (jaw_w, np.tile(np.array([0.0, 0.32]), (NUM_LANDMARKS, 1)))
        self.side = side
        self.corner_rows = {s: np.flatnonzero(_patch(face, lips, corner[s], 0.18) > 0.3) for s in ('r', 'l')}
        self.lips_up_rows = _rows(*region('upper_lip_outer'))
        # Per side, the rows the upper and lower face couple through (_coupling): lower lids, upper lids,
        # and the cheeks, the face contour (jaw group) between the eyes' and the mouth's height.
        contour = rows['jaw21']
        cheeks = contour[face[contour, 1] < mouth_y]
        self.coupling_rows = {s: (lid_lo[side[lid_lo] == s], lid_up[side[lid_up] == s], cheeks[side[cheeks] == s])
                              for s in ('r', 'l')}

    def travel(self, positions: np.ndarray) -> np.ndarray:
        """Each servo's signed share of its travel from calm, in the command sense (-1..1)."""
        h = self.head
        p = np.asarray(positions, dtype=np.float64)
        up = (p - h.calm) / np.maximum(h.max - h.calm, 1e-9)
        down = (p - h.calm) / np.maximum(h.calm - h.min, 1e-9)
        return np.clip(np.where(p >= h.calm, up, down), -1, 1) * h.direction

    def face(self, positions: np.ndarray, noise: bool = True) -> np.ndarray:
        """The robot's face (113, 2) for servo positions (ticks) in head order; NaN positions = calm."""
        p = np.where(np.isfinite(positions), positions, self.head.calm)
        u = self.travel(p)
        idx = self.head.index
        sat = np.tanh(1.4 * u) / np.tanh(1.4)  # the skin stiffens toward the ends of travel
        jaw = max(sat[idx['jaw']], 0.0) if 'jaw' in idx else 0.0
        d = np.zeros_like(self.rest)
        for name, (w, vec) in self.fields.items():
            if name not in idx:
                continue
            k = sat[idx[name]]
            if name == 'jaw':
                k = jaw
            if name.startswith('corner_'):
                k *= 1.0 - 0.4 * jaw  # an open jaw damps the corners
            d += (w * k)[:, None] * vec
        for s in ('r', 'l'):
            rows = self.corner_rows[s]
            d[rows, 1] += 0.03 * jaw                                 # and drags them down
        d += self._coupling(sat, jaw)
        for s in ('r', 'l'):
            d[self.side == s] *= self.gain[s]
        stretch = 0.0
        for s in ('r', 'l'):
            if f'corner_a_{s}' in idx:
                stretch += abs(sat[idx[f'corner_a_{s}']] - sat[idx[f'corner_b_{s}']]) / 4
        d[self.lips_up_rows, 1] += 0.02 * stretch                              # stretched corners flatten the lips
        face = self.rest + d
        if noise and self.noise > 0:
            face = face + self.rng.normal(0, self.noise, face.shape)
        return face.astype(np.float32)

    def _coupling(self, sat: np.ndarray, jaw: float) -> np.ndarray:
        """The upper and lower face pulling on each other (COUPLING), per side; y grows downwards."""
        c, idx = self.COUPLING, self.head.index
        at = lambda name: sat[idx[name]] if name in idx else 0.0  # noqa: E731
        d = np.zeros_like(self.rest)
        for s, (lo_s, up_s, cheek_s) in self.coupling_rows.items():
            smile = max((at(f'corner_a_{s}') + at(f'corner_b_{s}')) / 2, 0.0) * (1.0 - 0.4 * jaw)
            d[lo_s, 1] -= c['corner_raise_lifts_lower_lids'] * smile
            d[cheek_s, 1] -= c['corner_raise_lifts_cheeks'] * smile
            d[up_s, 1] += c['jaw_open_lowers_upper_lids'] * jaw
            brow = max((at(f'brow_inner_{s}') + at(f'brow_outer_{s}')) / 2, 0.0)
            d[up_s, 1] -= c['brow_raise_opens_upper_lids'] * brow
            closing = max(-at(f'lid_upper_{s}'), 0.0) * 0.07          # how far the upper lid came down
            d[lo_s, 1] -= c['upper_lid_close_lifts_lower_lids'] * closing
        return d

    def face_of_commands(self, commands: np.ndarray, noise: bool = True) -> np.ndarray:
        """The settled face for 11 commands (servos at their mapped goals, calm gaze)."""
        return self.face(self.head.commands_to_goals(commands), noise)
