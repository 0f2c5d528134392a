"""``keep_freed_memory()``: glibc's malloc keeps freed memory for reuse instead of handing it back
to the kernel, so the extractor's temporaries are not faulted in and zeroed again and again.

The feature blocks allocate and free temporaries of 1-50 MB over and over (a depth chunk in
float64, a batch of STFTs, a chunk of frame codes). By default glibc serves such sizes with a fresh
``mmap`` or trims them off the heap when freed, so the kernel faults in and zeroes every page of
every temporary again. Measured on the full-size sample: ~1 GB of page faults in the depth block
alone, 0.3-0.5 s of system time beside 0.5-0.8 s of computing. Raising ``M_MMAP_THRESHOLD`` and
``M_TRIM_THRESHOLD`` keeps up to ``TRIM_THRESHOLD`` of freed memory in the process for the next
temporary (system time ~0). The settings are process-wide and stay for the process's life (glibc
has no way to go back to its adaptive defaults); forked video workers inherit them. Elsewhere
than glibc (macOS, musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

M_TRIM_THRESHOLD = -1  # glibc's malloc.h parameter numbers
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # below it from the heap, not an own mmap (glibc's 64-bit maximum)
TRIM_THRESHOLD = 512 << 20  # freed heap memory kept for reuse before any goes back

_LOCK = threading.Lock()
_APPLIED: list[bool] = []


def _glibc_mallopt():
    """glibc's ``mallopt``, or ``None`` off Linux/glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not hasattr(libc, "gnu_get_libc_version"):  # musl's mallopt does nothing
            return None
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt


def keep_freed_memory() -> bool:
    """Apply the thresholds once per process (later calls return the first result). -> whether
    glibc took them."""
    with _LOCK:
        if not _APPLIED:
            mallopt = _glibc_mallopt()
            taken = [mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1,
                     mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1] if mallopt else [False]
            _APPLIED.append(all(taken))
        return _APPLIED[0]
