"""CLI: generate one sample episode, or a synthetic multi-episode set.

    python -m xperience_suite.sample [--out DIR] [--preset small|full] [--seed N] [--frames N] [--activity NAME]
        [--overwrite]
    python -m xperience_suite.sample episodes=32 out=data/sample_episodes [seed=0] [preset=small]
        [min_frames=20] [max_frames=1500] [sessions=K] [missing_fraction=0.2] [workers=W] [overwrite=true]

Every argument may be written ``--key value``, ``--key=value`` or Hydra-style ``key=value``.
Prints the episode folder, or the set's manifest path. Without ``out``, a single episode comes from
the cache (generated on first use) and a set is written to the cache as
``episodes-<preset>-n<N>-seed<S>-<version>``.

An ``out`` folder holding files the generator did not write is refused (one line, exit 2)
unless ``overwrite``, which replaces only the files the generator writes and deletes nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from ..errors import XperienceError
from . import GENERATOR_VERSION, PRESETS, SCRIPTS, ensure_sample_episode, generate_episode, generate_episode_set
from .cache import cache_root

_HYDRA_ARG = re.compile(r"\+{0,2}([A-Za-z_][\w.-]*)=(.*)", re.S)


def hydra_to_flags(argv: list[str]) -> list[str]:
    """``key=value`` / ``+key=value`` -> ``--key=value`` (``_`` becomes ``-``); other arguments unchanged."""
    out = []
    for arg in argv:
        m = None if arg.startswith("-") else _HYDRA_ARG.fullmatch(arg)
        out.append(f"--{m.group(1).replace('_', '-')}={m.group(2)}" if m else arg)
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m xperience_suite.sample", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="episode (or set) folder to write (default: the cache)")
    p.add_argument("--preset", default="small", choices=sorted(PRESETS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=None, help="length of a single episode")
    p.add_argument("--activity", default="making_coffee", choices=sorted(SCRIPTS), help="single episode only")
    p.add_argument("--episodes", type=int, default=None, help="generate a set of this many episodes")
    p.add_argument("--min-frames", type=int, default=20)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--sessions", type=int, default=None)
    p.add_argument("--missing-fraction", type=float, default=0.2)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--overwrite", nargs="?", const=True, default=False, type=_flag,
                   help="write into a folder holding other files (same-named files are replaced, "
                        "nothing is deleted)")
    return p


def _flag(text: str) -> bool:
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(hydra_to_flags(sys.argv[1:] if argv is None else list(argv)))
    try:
        if args.episodes is not None:
            if args.frames is not None:
                raise XperienceError("frames is for a single episode", key="frames",
                                     expected="min_frames / max_frames with episodes=N")
            name = f"episodes-{args.preset}-n{args.episodes}-seed{args.seed}-{GENERATOR_VERSION}"
            out = args.out or cache_root() / name
            start = time.perf_counter()
            result = generate_episode_set(out, episodes=args.episodes, seed=args.seed, preset=args.preset,
                                          min_frames=args.min_frames, max_frames=args.max_frames,
                                          sessions=args.sessions, missing_fraction=args.missing_fraction,
                                          workers=args.workers, overwrite=args.overwrite)
            print(f"{args.episodes} episodes ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        elif args.out:
            result = generate_episode(args.out, seed=args.seed, preset=args.preset, frames=args.frames,
                                      activity=args.activity, overwrite=args.overwrite)
        else:
            if args.activity != "making_coffee":
                raise XperienceError("the cached sample is making_coffee", key="activity",
                                     expected="--out DIR for another activity")
            result = ensure_sample_episode(args.preset, args.seed, frames=args.frames)
    except XperienceError as err:
        print(err, file=sys.stderr)
        return 2
    except OSError as err:  # e.g. a parent of --out is a file: the system's reason, one line
        print(f"cannot write the episode: {err}", file=sys.stderr)
        return 2
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
