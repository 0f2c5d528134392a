"""Cost of the input checks behind ``status: degenerate`` (``runs.degenerate._inputs``) on a
window matrix the size of a many-episode run, against one plain pass over the same chunks.

    python benchmarks/bench_degenerate_check.py [--rows 12000] [--dims 9134]

Prints the check's seconds and peak memory (``ru_maxrss`` growth of this process) next to a pass
that only reads the chunks (``heads.streaming.x_chunks``), and their ratio; a second line does
the same with one non-finite value in every chunk (the slow path that counts and masks them).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xperience_suite.heads.streaming import x_chunks  # noqa: E402
from xperience_suite.runs.degenerate import _inputs  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=12000)
    ap.add_argument("--dims", type=int, default=9134)
    args = ap.parse_args()
    x = np.empty((args.rows, args.dims), dtype=np.float32)
    rng = np.random.default_rng(0)
    for s in range(0, args.rows, 500):  # filled in parts: no float64 copy of the whole
        x[s:s + 500] = rng.standard_normal((min(500, args.rows - s), args.dims), dtype=np.float32)
    cut = int(args.rows * 0.75)
    data = types.SimpleNamespace(x=x, train_idx=np.arange(cut), test_idx=np.arange(cut, args.rows),
                                 input_dim=args.dims, layout=[("all", "all")])
    idx = np.arange(args.rows)
    t0, m0 = time.perf_counter(), _peak_mb()
    total = sum(float(c.sum()) for c in x_chunks(x, idx))  # one plain pass over the chunks
    read_s, read_mb = time.perf_counter() - t0, _peak_mb() - m0
    for label in ("all finite", "a NaN per chunk"):
        if label != "all finite":
            x[::4096, 0] = np.nan
        reasons: list[str] = []
        t0, m0 = time.perf_counter(), _peak_mb()
        _inputs(data, None, reasons, [])
        check_s, check_mb = time.perf_counter() - t0, _peak_mb() - m0
        print(f"{label}: check {check_s:.2f} s (+{check_mb:.0f} MB peak), one plain pass "
              f"{read_s:.2f} s (+{read_mb:.0f} MB), ratio {check_s / read_s:.2f}x; "
              f"{len(reasons)} reason(s)  [{args.rows} x {args.dims}, checksum {total:.1f}]")


if __name__ == "__main__":
    main()
