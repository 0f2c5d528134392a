"""Reading an episode manifest's CSV rows: the one reader behind the user's manifests
(``store.discover``) and the generator's own ``manifest.csv`` (``sample.episode_set``)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import XperienceError


def manifest_rows(path: Path, required: tuple[str, ...], note: str = "") -> list[dict]:
    """Rows of a CSV manifest with a header as dicts; a header lacking any ``required`` column is
    refused naming the file and the columns (``note`` adds to the expectation, e.g. optional
    columns)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        lacking = [c for c in required if c not in (reader.fieldnames or [])]
        if lacking:
            raise XperienceError("manifest lacks columns", file=path, key=",".join(lacking),
                                 expected=f"columns {list(required)}{note}")
        return list(reader)
