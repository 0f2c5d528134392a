"""Train and test one head on one task: ``python train.py task=hand_forecast head=minimal``.

Sweeps: ``python train.py -m task=timeline_action,temporal_order head=minimal,mlp``.
The app itself is ``xperience_suite.runs.apps.train`` (also installed as ``xperience-train``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # this checkout's package first

from xperience_suite.runs.apps import train  # noqa: E402

if __name__ == "__main__":
    train()
