"""The robot self-model: simulated head, motor babbling, the inverse model from landmarks to the 11 motor commands, and the inverse node."""
