"""Classification scores split by whether a sample's true class was seen in training.

Open-vocabulary evaluation asks two questions: how well are the training classes still recognised
(``seen_*``), and how often are test classes that never occurred in training named correctly
(``unseen_*``, zero for any closed-vocabulary head, which cannot predict them)."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

SUBSETS = ("seen", "unseen")


class SeenUnseenClassification(Metric):
    """Accuracy and macro-F1 over the samples whose true class was (``seen``) / was not
    (``unseen``) among the training classes.

    ``update(preds (B,) class ids, target (B,), target_seen (B,) bool)``; without
    ``target_seen`` the batch is not counted. ``compute()`` -> ``{seen_accuracy, seen_macro_f1,
    unseen_accuracy, unseen_macro_f1}``; a subset with no sample is left out (not NaN), so a test
    set without unseen classes has no ``unseen_*`` keys. Macro-F1 of a subset averages the classes
    present in its targets or predictions (a seen class predicted for an unseen sample counts as
    a false positive there), as ``MulticlassF1Score(average="macro")`` on that subset does. Counts
    are summed across processes (DDP)."""

    full_state_update = False

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        for name in ("tp", "fp", "fn"):
            self.add_state(name, torch.zeros(len(SUBSETS), self.num_classes, dtype=torch.long),
                           dist_reduce_fx="sum")
        self.add_state("correct", torch.zeros(len(SUBSETS), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.zeros(len(SUBSETS), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor, target_seen: Tensor | None = None) -> None:
        if target_seen is None:
            return
        preds, target = preds.long().reshape(-1), target.long().reshape(-1)
        subset = (~target_seen.bool().reshape(-1)).long()  # 0 seen, 1 unseen
        hit = preds == target
        c = self.num_classes
        ones = torch.ones_like(target)
        self.tp.view(-1).index_add_(0, subset[hit] * c + target[hit], ones[hit])
        self.fn.view(-1).index_add_(0, subset[~hit] * c + target[~hit], ones[~hit])
        self.fp.view(-1).index_add_(0, subset[~hit] * c + preds[~hit], ones[~hit])
        self.correct.index_add_(0, subset, hit.long())
        self.total.index_add_(0, subset, ones)

    def compute(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for s, name in enumerate(SUBSETS):
            if int(self.total[s]) == 0:
                continue
            tp, fp, fn = self.tp[s].double(), self.fp[s].double(), self.fn[s].double()
            present = (tp + fp + fn) > 0
            f1 = 2 * tp[present] / (2 * tp[present] + fp[present] + fn[present])
            out[f"{name}_accuracy"] = (self.correct[s].double() / self.total[s]).float()
            out[f"{name}_macro_f1"] = f1.mean().float()
        return out
