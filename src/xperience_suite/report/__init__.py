"""Sweep reports: the job table of a sweep folder, the ablation summary with paired intervals,
its markdown and plots (``python -m xperience_suite.report <sweep_dir>``)."""
