"""Offline tools of the self-model: motor babbling (offline and through the driver), training, the
architecture comparison, evaluation and the offline lag measurement. Nothing here runs in inverse_node."""
