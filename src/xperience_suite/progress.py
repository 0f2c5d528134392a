"""Progress on stderr that fits where it goes: a live tqdm bar in a terminal, at most two plain
lines (start, end) when stderr is a file or a pipe (a log, CI, a multirun job)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


def stderr_is_terminal() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class QuietProgress:
    """tqdm's ``update`` / ``set_postfix_str`` / ``close`` as one line at the start and one at
    the end."""

    def __init__(self, total: int | None, desc: str, unit: str):
        self.total, self.desc, self.unit, self.n = total, desc, unit, 0
        self.t0 = time.perf_counter()
        of = f" ({total} {unit})" if total else ""
        print(f"{desc}{of}...", file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        if self.n is None:
            return
        print(f"{self.desc}: {self.n} {self.unit} in {time.perf_counter() - self.t0:.1f}s",
              file=sys.stderr, flush=True)
        self.n = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(total: int | None, desc: str, unit: str = "it", enabled: bool = True,
                 leave: bool = True):
    """A tqdm bar on a terminal, a ``QuietProgress`` elsewhere, ``None`` when not ``enabled``."""
    if not enabled:
        return None
    if not stderr_is_terminal():
        return QuietProgress(total, desc, unit)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=leave,
                dynamic_ncols=True)


@contextmanager
def stage(desc: str):
    """A long step without counts: ``desc...`` when it starts, ``desc: done in 12.3s`` after."""
    t0 = time.perf_counter()
    print(f"{desc}...", file=sys.stderr, flush=True)
    yield
    print(f"{desc}: done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
