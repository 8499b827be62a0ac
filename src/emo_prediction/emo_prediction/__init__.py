"""Anticipation of the human target face: peak-activation detection, the predictive model, its training and evaluation, and the predictor node."""
