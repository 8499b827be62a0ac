"""Simulated heads for tests: the Emo head, and one whose dynamics are faster."""
import yaml


def faster_head_yaml(path, name: str = 'fast_emo') -> str:
    """Write a copy of the Emo head description that moves faster, return its path: twice the
    Profile Acceleration, half the skin's time constant, 1.5 x every max_velocity and half the
    load torque (so the speed under load, the datasheet line, rises too)."""
    from emo_description.head import default_head_path
    with open(default_head_path()) as f:
        doc = yaml.safe_load(f)
    d = doc['dynamics']
    d['max_acceleration'] = {group: 2 * a for group, a in d['max_acceleration'].items()}
    d['load_torque_nm'] = {group: t / 2 for group, t in d['load_torque_nm'].items()}
    d['skin']['time_constant_s'] /= 2
    for servo in doc['servos']:
        servo['max_velocity'] *= 1.5
    doc['name'] = name
    path = str(path)
    with open(path, 'w') as f:
        yaml.safe_dump(doc, f)
    return path
