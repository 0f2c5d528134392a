"""A task's input matrix on disk: float32 rows appended episode by episode, read back on demand.

``RowFile`` is what ``TaskData.x`` is over many episodes: an ``(n, d)`` float32 matrix in an
anonymous scratch file (``tempfile.TemporaryFile``: unlinked at once, gone when the process
ends). Rows are read with ``os.preadv`` into fresh arrays instead of being memory-mapped, so the
pages read do not stay in the process's resident memory; reading rows in order is one contiguous
read per run of consecutive indices.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import XperienceError


class RowFile:
    """``(n, d)`` float32 rows. ``append`` rows (any number per call), then index like an array:
    ``rows[i]`` (d,), ``rows[a:b]`` (b - a, d), ``rows[idx]`` (len(idx), d); ``np.asarray(rows)``
    loads everything."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, dim: int, scratch_dir: str | Path | None = None):
        self.dim = int(dim)
        self.rows = 0
        folder = None if scratch_dir is None else Path(scratch_dir)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        try:
            self._file = tempfile.TemporaryFile(dir=folder, prefix="task_rows_")
        except OSError as err:
            raise XperienceError(f"cannot create the task's scratch matrix ({err})", file=folder,
                                 expected="a writable folder for scratch files") from None
        self._fd = self._file.fileno()

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.dim)

    @property
    def row_bytes(self) -> int:
        return self.dim * self.dtype.itemsize

    def __len__(self) -> int:
        return self.rows

    def append(self, x: np.ndarray) -> None:
        """Append ``(m, d)`` rows (converted to float32)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise XperienceError("rows of another width than the task matrix", key="x",
                                 expected=f"(m, {self.dim}), got {x.shape}")
        view, offset = memoryview(x).cast("B"), self.rows * self.row_bytes
        while len(view):
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written
        self.rows += len(x)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a new ``(stop - start, d)`` float32 array (one read)."""
        start, stop = max(0, int(start)), min(self.rows, int(stop))
        out = np.empty((max(0, stop - start), self.dim), dtype=self.dtype)
        view, offset = memoryview(out).cast("B"), start * self.row_bytes
        while len(view):
            got = os.preadv(self._fd, [view], offset)
            if got <= 0:
                raise XperienceError("the task's scratch matrix ended early", key="x",
                                     expected=f"{self.rows} rows of {self.dim} float32")
            view, offset = view[got:], offset + got
        return out

    def take(self, idx) -> np.ndarray:
        """Rows ``idx`` (any order, repeats allowed) as ``(len(idx), d)``; one read per run of
        consecutive sorted indices."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if len(idx) and (idx.min() < -self.rows or idx.max() >= self.rows):
            raise IndexError(f"row index out of range for {self.rows} rows")
        idx = np.where(idx < 0, idx + self.rows, idx)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        out = np.empty((len(idx), self.dim), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(sorted_idx) > 1) + 1
        for run in np.split(np.arange(len(idx)), breaks):
            if len(run):
                lo, hi = int(sorted_idx[run[0]]), int(sorted_idx[run[-1]]) + 1
                out[order[run]] = self.read(lo, hi)[sorted_idx[run] - lo]
        return out

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.rows if key < 0 else 0)
            if not 0 <= i < self.rows:
                raise IndexError(f"row {key} out of range for {self.rows} rows")
            return self.read(i, i + 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(self.rows)
            return self.read(start, stop) if step == 1 else self.take(np.arange(start, stop, step))
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        return self.take(key)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.read(0, self.rows)
        return out if dtype is None else out.astype(dtype, copy=False)

    def close(self) -> None:
        self._file.close()

    def __getstate__(self):
        raise TypeError("RowFile holds an open scratch file and cannot be pickled "
                        "(use trainer strategy 'ddp', which relaunches the script, not 'ddp_spawn')")

    def __repr__(self) -> str:
        return f"RowFile({self.rows} x {self.dim} float32)"
