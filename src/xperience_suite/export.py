"""Export one episode's windows as a precomputed folder (the format: ``data/exported.py``).

``python -m xperience_suite.export [<episode_dir>] --out <dir> [--features <variant>]`` writes the
variant's window features, window labels, objects and modality flags that ``data=windows`` reads.
Without ``<episode_dir>`` the embedded sample episode is exported (``ensure_sample_episode()``).
An ``--out`` folder holding files the exporter did not write (see ``owned``) is refused unless
``--overwrite``, which replaces only the exported files; nothing else is ever deleted.
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
from .owned import EXPORT, refuse_foreign
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
        refuse_foreign(Path(args.out), args.overwrite, "--overwrite", EXPORT)  # before extracting
        ws = extract_window_set(episode, cache_dir=args.cache_dir, progress=not args.quiet,
                                use_cache=not args.no_cache)
        out = export_window_set(ws, args.out, args.features, overwrite=args.overwrite)
    except XperienceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. a parent of --out is a file: the system's reason, one line
        print(f"error: cannot write the export: {err}", file=sys.stderr)
        return 2
    print(f"exported {ws.num_windows} windows x {len(apply_variant(ws.block_names, args.features))}"
          f" blocks ({args.features}) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
