"""The robot self-model: the inverse model from landmarks to the 11 motor commands and the inverse node (training
and babbling: emo_inverse.training; the simulated head: emo_sim)."""


def default_path(name: str) -> str:
    """A file shipped in emo_inverse/data (the simulated Emo head's self-model and babbling)."""
    from importlib import resources
    return str(resources.files('emo_inverse').joinpath('data', name))
