"""Runs: one training or evaluation run end to end (``training``, ``evaluation``), the Hydra
apps (``apps``), config checks (``config_schema``), and what a run writes: outputs
(``run_outputs``), figures, epoch history, bootstrap intervals, W&B logging, degenerate-run
checks."""
