"""CLI: ``python -m xperience_suite.sample [--out DIR] [--preset small|full] [--seed N] [--frames N]``.

Prints the episode folder. Without ``--out`` the cached sample is used (generated on first use).
"""

from __future__ import annotations

import argparse
import sys

from ..errors import XperienceError
from . import PRESETS, ensure_sample_episode, generate_episode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xperience_suite.sample", description=__doc__)
    parser.add_argument("--out", help="episode folder to write (default: the cache)")
    parser.add_argument("--preset", default="small", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        if args.out:
            folder = generate_episode(args.out, seed=args.seed, preset=args.preset, frames=args.frames)
        else:
            folder = ensure_sample_episode(args.preset, args.seed, frames=args.frames)
    except XperienceError as err:
        print(err, file=sys.stderr)
        return 2
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
