"""The frames around the peak activation that the target-face model reads (runtime and training share them).

A training window keeps PEAK_WINDOW_HALF frames on each side of the peak
activation t_r; online, the predictor keeps the last 9 frames up to the firing
and feeds the model INPUT_FRAMES of them (oldest first), as the paper takes 4 of
the 9 frames around t_r.
"""
PEAK_WINDOW_HALF = 8            # frames kept on each side of the peak activation in a training window
INPUT_FRAMES = (0, 3, 5, 8)     # which of the last 9 frames (oldest first) the target-face model reads
