"""Export one episode's windows as a precomputed folder (the format: ``data/exported.py``).

``python -m xperience_suite.export [<episode_dir>] --out <dir> [--features <variant>]`` writes:

- ``shared_windows.npz``: ``X`` float32 (W, D) of the variant's blocks, ``starts``, ``ends``
  (int64, ``ends`` one past the last frame), plus ``num_frames`` and ``episode_id``;
- ``feature_manifest.json``: ``[{name, start, end, dim, available}]`` of the blocks in ``X``;
- ``windows.csv``: ``window_index, start_frame, end_frame, center_frame, action_label,
  action_fraction, subtask_label, subtask_fraction``. ``end_frame`` is EXCLUSIVE (one past the last
  frame, like ``WindowSet.ends``) and ``center_frame = (start_frame + end_frame) // 2``. A label is
  the majority among the window's labeled frames when it covers >= 60% of them, else empty; the
  fraction is that majority's share (0 without labeled frames);
- ``window_objects.csv``: ``window_index, objects`` (names joined by ``|``, first-seen order);
- ``available_modalities.json``: the episode's modality flags.

Without ``<episode_dir>`` the embedded sample episode is exported (``ensure_sample_episode()``).

The files are written into a temporary sibling folder and then published. An ``--out`` folder
holding files the exporter did not write (see ``owned``) is refused unless ``--overwrite``, which
replaces only the five files above; files it exported there before are replaced, never anything
else deleted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .data.exported import export_window_set
from .episode import load_episode
from .errors import XperienceError
from .features.extract import extract_window_set
from .features.variants import VARIANTS, apply_variant
from .owned import refuse_foreign
from .sample import ensure_sample_episode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xperience_suite.export",
                                     description="Export one episode's window features.")
    parser.add_argument("episode_dir", nargs="?", help="episode folder (default: the sample)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--features", default="all", choices=list(VARIANTS))
    parser.add_argument("--cache-dir", default=None, help="feature cache root")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a folder holding other files (same-named files are "
                             "replaced, nothing is deleted)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        root = ensure_sample_episode() if args.episode_dir is None else Path(args.episode_dir)
        episode = load_episode(root)
        refuse_foreign(Path(args.out), args.overwrite, "--overwrite")  # before extracting
        ws = extract_window_set(episode, cache_dir=args.cache_dir, progress=not args.quiet,
                                use_cache=not args.no_cache)
        out = export_window_set(ws, args.out, args.features, overwrite=args.overwrite)
    except XperienceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"exported {ws.num_windows} windows x {len(apply_variant(ws.block_names, args.features))}"
          f" blocks ({args.features}) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
