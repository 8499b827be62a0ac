"""The Emo head's description: one YAML (servos, command map, dynamics, kinematic chain) and its URDF."""
