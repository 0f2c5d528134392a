"""The run's per-epoch history (train loss, validation scores): the one home of its learning
curves, collected by a callback so it exists whatever loggers the run has (``logger=none`` too)."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback


class EpochHistory(Callback):
    """``rows``: one dict per finished training epoch: ``epoch``, ``train_loss`` and each
    ``val/<metric>`` logged in that epoch (validation runs before ``on_train_epoch_end``)."""

    def __init__(self):
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        row: dict[str, float] = {"epoch": int(trainer.current_epoch)}
        for key, value in trainer.callback_metrics.items():
            if key == "train_loss" or key.startswith("val/"):
                row[key] = float(value)
        self.rows.append(row)


def epoch_history(trainer) -> list[dict[str, float]]:
    """The rows of the trainer's ``EpochHistory`` (empty when it has none)."""
    return next((cb.rows for cb in trainer.callbacks if isinstance(cb, EpochHistory)), [])
