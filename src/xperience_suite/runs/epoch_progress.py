"""Training progress that fits where the output goes: a live bar in a terminal, one line per
epoch on stderr when it is a file or a pipe (a log, CI), nothing in a multirun job."""

from __future__ import annotations

import sys
import time

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.callbacks import Callback

from ..progress import stderr_is_terminal

MODES = ("auto", "bar", "epochs", "none")


def in_multirun() -> bool:
    try:
        return HydraConfig.get().mode == RunMode.MULTIRUN
    except ValueError:  # composed outside a Hydra run (tests, the compose API)
        return False


def progress_mode(setting: str | None, bar_enabled: bool = True) -> str:
    """``bar``, ``epochs`` or ``none`` for the config's ``progress`` (``auto``: a live bar in a
    terminal, ``none`` in a multirun job, else ``epochs``); ``trainer.enable_progress_bar=false``
    turns every form off."""
    if not bar_enabled:
        return "none"
    setting = setting or "auto"
    if setting != "auto":
        return setting
    if in_multirun():
        return "none"
    return "bar" if stderr_is_terminal() else "epochs"


class EpochLines(Callback):
    """A stderr line per finished training epoch: its number, the logged epoch metrics, the time
    so far; at most ``max_lines`` per fit (every k-th epoch, and the last one)."""

    def __init__(self, max_lines: int = 20, stream=None):
        self.max_lines = max_lines
        self.stream = stream
        self.t0 = time.perf_counter()

    def on_train_start(self, trainer, pl_module) -> None:
        self.t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        epoch = trainer.current_epoch + 1
        every = -(-total // self.max_lines) if total else 1
        if trainer.global_rank != 0 or trainer.sanity_checking or \
                (epoch % every and epoch != total and not trainer.should_stop):
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()
                   if not k.startswith("test/") and getattr(v, "numel", lambda: 1)() == 1}
        parts = [f"epoch {epoch}/{total or '?'}", *(f"{k} {v:.4g}" for k, v in sorted(metrics.items())),
                 f"({time.perf_counter() - self.t0:.1f}s)"]
        print("  ".join(parts), file=self.stream or sys.stderr, flush=True)
