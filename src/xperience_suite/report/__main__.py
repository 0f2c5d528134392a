"""(Re)build the report of a sweep: ``python -m xperience_suite.report outputs/multirun/<date>/<time>``."""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import XperienceError
from .ablation import BASELINE
from .sweep_report import build_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xperience_suite.report",
                                     description=__doc__)
    parser.add_argument("sweep_dir", help="a Hydra multirun folder")
    parser.add_argument("--baseline", default=BASELINE,
                        help="features variant the deltas are taken against (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        paths = build_report(args.sweep_dir, baseline=args.baseline)
    except XperienceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
