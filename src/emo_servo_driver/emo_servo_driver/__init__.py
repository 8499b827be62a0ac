"""Head description, the 11-to-26 servo mapping with symmetry and safety limits, the Dynamixel bus, a simulated bus, and the lifecycle driver node."""
