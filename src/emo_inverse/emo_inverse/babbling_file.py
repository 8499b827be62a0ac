"""The motor-babbling dataset file (.npz): what babbling writes, what training and the inverse node's
normalization read.

    data = load('babble.npz')      # commands (n, 11), faces (n, 113, 2), session (n,), rest_face (113, 2)
    data.get('robot_lag')          # the lag babbling measured, as a dict, when it did
    save('babble.npz', data)
"""
import json

import numpy as np

from emo_common.layout import NUM_LANDMARKS


def save(path, data: dict) -> None:
    """Write a dataset (.npz); a robot_lag dict goes in as a JSON string (a 0-d unicode array)."""
    arrays = dict(data)
    if isinstance(arrays.get('robot_lag'), dict):
        arrays['robot_lag'] = np.array(json.dumps(arrays['robot_lag']))
    np.savez_compressed(path, **arrays)


def load(path) -> dict:
    """A dataset written by `save`: arrays, and robot_lag as a dict when the babbling measured it."""
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    if 'robot_lag' in data:
        try:
            data['robot_lag'] = json.loads(str(data['robot_lag'][()]))
        except (TypeError, ValueError) as err:
            raise ValueError(f'{path}: robot_lag is not the JSON of a measured lag ({err})') from err
        if not isinstance(data['robot_lag'], dict):
            raise ValueError(f'{path}: robot_lag is not the JSON of a measured lag')
    for key in ('commands', 'faces', 'session', 'rest_face'):
        if key not in data:
            raise ValueError(f'{path}: not a babbling dataset (no {key!r})')
    if data['faces'].shape[1:] != (NUM_LANDMARKS, 2) or data['commands'].shape[1:] != (11,):
        raise ValueError(f'{path}: faces must be (n, 113, 2) and commands (n, 11)')
    return data
