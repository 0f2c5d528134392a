"""``kernel_threads(n)``: cap numpy's OpenBLAS threads and torch's intra-op threads while
features are computed.

Feature extraction runs many small kernels (area resizes, histogram sums, the log-mel STFTs) while
worker processes decode videos on every core; OpenBLAS and torch would split each kernel over all
cores and their threads would spin waiting for each other, costing more work than they save
(measured on 2 cores: an 8x8 area resize 1.6 ms of CPU on one thread, 10 ms on two; the raw
log-mel block 1.5 s on one torch thread, 2.3 s on two). Without OpenBLAS loaded (another BLAS,
another platform) only torch is capped; without torch imported only OpenBLAS.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

log = logging.getLogger("xperience_suite.features")

# (get, set) entry points of the OpenBLAS builds numpy ships or links
_ENTRY_POINTS = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                 ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                 ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                 ("openblas_get_num_threads", "openblas_set_num_threads"))
_LOCK = threading.Lock()
_DEPTH = [0, 0, 0]  # nesting depth, OpenBLAS and torch thread counts to restore


@lru_cache(maxsize=1)
def _openblas() -> tuple | None:
    """``(get_num_threads, set_num_threads)`` of the OpenBLAS loaded in this process, or None."""
    import numpy  # noqa: F401  (numpy's BLAS must be loaded to be found)

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split(maxsplit=5)[5].strip() for line in maps
                            if "openblas" in line.lower() and len(line.split(maxsplit=5)) == 6})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get, put in _ENTRY_POINTS:
            if hasattr(lib, get) and hasattr(lib, put):
                getter, setter = getattr(lib, get), getattr(lib, put)
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                return getter, setter
    return None


def _torch():
    """torch when this process has imported it (never imports it)."""
    return sys.modules.get("torch")


@contextmanager
def kernel_threads(threads: int = 1) -> Iterator[None]:
    """Within the block, numpy's OpenBLAS and torch use at most ``threads`` threads (process-wide;
    nested and concurrent uses keep the first limit and restore the original counts at the last
    exit)."""
    api = _openblas()
    with _LOCK:
        if _DEPTH[0] == 0:
            _DEPTH[1] = api[0]() if api else 0
            if _DEPTH[1] > threads:
                api[1](threads)
            torch = _torch()
            _DEPTH[2] = torch.get_num_threads() if torch else 0
            if _DEPTH[2] > threads:
                torch.set_num_threads(threads)
        _DEPTH[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                if _DEPTH[1] > threads:
                    api[1](_DEPTH[1])
                torch = _torch()
                if torch and _DEPTH[2] > threads:
                    torch.set_num_threads(_DEPTH[2])
