"""``usable_cores()``: the CPUs this process may run on (its affinity mask where the OS has one),
the one count every pool, thread limit and worker default starts from."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """CPUs this process may run on (at least 1)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
