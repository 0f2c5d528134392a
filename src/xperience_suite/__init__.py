"""xperience-suite: turn Xperience-10M episodes into a benchmark and train/score heads on it.

Stages (one sub-package each, in the data's order):
episode -> features -> windows -> tasks -> heads -> metrics -> reports.
"""

__version__ = "0.1.0"
