"""``kernel_threads(n)``: cap numpy's BLAS threads and torch's intra-op threads while features are
computed.

Feature extraction runs many small kernels (area resizes, histogram sums, the log-mel STFTs) while
worker processes decode videos on every core; BLAS and torch would split each kernel over all
cores and their threads would spin waiting for each other, costing more work than they save
(measured on 2 cores: an 8x8 area resize 1.6 ms of CPU on one thread, 10 ms on two; the raw
log-mel block 1.5 s on one torch thread, 2.3 s on two). The BLAS limit is threadpoolctl's; torch
(only when already imported) through ``torch.set_num_threads``.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Iterator

from threadpoolctl import ThreadpoolController

_LOCK = threading.Lock()
_STATE: dict = {"depth": 0, "blas": None, "torch": 0}  # nesting depth, what to restore


def blas_threads() -> list[int]:
    """Thread counts of the BLAS libraries loaded in this process (empty when none is)."""
    return [lib["num_threads"] for lib in ThreadpoolController().select(user_api="blas").info()]


@contextmanager
def kernel_threads(threads: int = 1) -> Iterator[None]:
    """Within the block, numpy's BLAS and torch use at most ``threads`` threads (process-wide;
    nested and concurrent uses keep the first limit and restore the original counts at the last
    exit)."""
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["blas"] = ThreadpoolController().limit(limits=threads, user_api="blas")
            torch = sys.modules.get("torch")  # never imported here
            _STATE["torch"] = torch.get_num_threads() if torch else 0
            if _STATE["torch"] > threads:
                torch.set_num_threads(threads)
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0:
                _STATE["blas"].restore_original_limits()
                torch = sys.modules.get("torch")
                if torch and _STATE["torch"] > threads:
                    torch.set_num_threads(_STATE["torch"])
