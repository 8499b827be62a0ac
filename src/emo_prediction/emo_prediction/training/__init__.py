"""Offline tools of the predictor: the generated-face and real-face datasets, training, evaluation
and reading recordings. Nothing here runs in predictor_node."""
