"""Re-score a checkpoint: ``python evaluate.py ckpt_path=outputs/<run>/checkpoints/last.ckpt``.

On the training data it scores the same test split (reproducing the run's metrics); with
``data=episode data.root=/other/episode`` it scores every window of that episode.
The app itself is ``xperience_suite.runs.apps.evaluate`` (also installed as ``xperience-evaluate``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # this checkout's package first

from xperience_suite.runs.apps import evaluate  # noqa: E402

if __name__ == "__main__":
    evaluate()
