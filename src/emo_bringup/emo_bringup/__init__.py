"""Launch files, per-node configuration, the launch-free graph runner used by make demo, dataset capture and monitoring of the Emo coexpression stack."""
