"""LightningModules that fit a head on one task and score it with torchmetrics.

``HeadModule`` holds what every head kind shares: the train-only scalers (buffers, saved in the
checkpoint), the network of the head family (``families.py``: the reference ``mlp``, or the
linear map of ``minimal`` / ``ridge``), the training procedures, and test-time scoring.
Subclasses per head kind define the loss, how outputs become predictions, and how the metric
suite is fed.
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import XperienceError
from ..metrics.suites import at_least_one, build_metric_suite
from .families import head_family
from .networks import solve_ridge, solve_ridge_intercept
from .streaming import column_moments


class HeadModule(L.LightningModule):
    kind = ""
    loss_name = "loss"  # the training loss, as the learning-curve figure names it
    #: head settings read only where outputs become decisions and scores, never by the loss or
    #: a fit: one fitted head can be scored under each value (``score_under``)
    scoring_settings: tuple[str, ...] = ()

    def __init__(self, input_dim: int, output_dim: int, head: dict, task: dict,
                 class_names: list[str] | None = None, target_shape: list[int] | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.family = head_family(head["name"])
        self.head_name = self.family.name
        self.automatic_optimization = self.family.gradient_trained
        self.net = self.build_net(input_dim, output_dim, head)
        self.register_buffer("x_mean", torch.zeros(input_dim))
        self.register_buffer("x_std", torch.ones(input_dim))
        self.metrics = self.build_metrics()
        self.val_metrics = self.build_metrics()  # validation episodes: checkpoint selection
        self.val_scores: dict[str, float] = {}  # of the last validation epoch
        self.test_records: list[dict[str, torch.Tensor]] = []
        self.train_seconds = 0.0  # wall time of the training loop itself (set by fit)

    def build_net(self, input_dim: int, output_dim: int, head: dict) -> nn.Module:
        """The trainable map of the head family (the reference MLP, one linear layer, ...); it
        also gets the task's ``input_parts`` (pair tasks' part widths, else None)."""
        parts = self.hparams.task.get("input_parts")
        return self.family.network(input_dim, output_dim, {**head, "input_parts": parts})

    # -- scalers -----------------------------------------------------------------------------
    def fit_scalers(self, x_train, y_train: torch.Tensor) -> None:
        """Fit input (and, per kind, target) scalers on the train split only.

        ``x_train``: the ``(n, d)`` train inputs, or an iterable of ``(m, d)`` row chunks of them
        (streamed episodes: float64 moments merged chunk by chunk); ``y_train`` all train
        targets."""
        if isinstance(x_train, torch.Tensor):
            x64 = x_train.double()
            mean, std = x64.mean(0), x64.std(0, unbiased=False)
        else:
            mean, std = column_moments(x_train)
        self.x_mean.copy_(mean)
        self.x_std.copy_(_safe_std(std, mean))

    def scale_x(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num((x - self.x_mean) / self.x_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.scale_x(x))

    # -- training ----------------------------------------------------------------------------
    def on_train_start(self):
        self._train_started = time.perf_counter()

    def on_train_end(self):
        self.train_seconds = time.perf_counter() - self._train_started

    def training_step(self, batch, batch_idx):
        x, y, _ = batch  # every loader yields (x, y, group)
        if self.automatic_optimization:
            loss = self.loss(self(x), y)
            self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                     batch_size=len(x))
            return loss
        loss = self.fit_minimal(x, y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(x))
        return None

    def fit_minimal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Full-batch gradient descent with an L2 penalty (the reference logistic heads), or the
        ``ridge`` family's closed-form ridge classifier (``fit_ridge_labels``).

        Runs in float64: at the reference step size the iteration amplifies rounding, and float32
        drifts measurably from the reference."""
        if self.family.ridge_labels:
            return self.fit_ridge_labels(x, y)
        cfg = self.hparams.head
        return self.fit_logistic(self.net, x, y, int(cfg["gd_steps"]), float(cfg["lr"]),
                                 float(cfg["l2"]))

    def fit_logistic(self, layer: nn.Linear, x: torch.Tensor, y: torch.Tensor, steps: int,
                     lr: float, l2: float) -> torch.Tensor:
        """Fit ``layer`` on z-scored ``x`` by ``steps`` of full-batch gradient descent (step
        ``lr``) on the kind's loss plus ``l2 * ||W||^2``, from zero, in float64; the last loss."""
        xs = self.scale_x(x).double()
        weight = torch.zeros_like(layer.weight, dtype=torch.float64, requires_grad=True)
        bias = torch.zeros_like(layer.bias, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([weight, bias], lr=lr)
        with torch.enable_grad():
            for _ in range(steps):
                opt.zero_grad()
                loss = self.loss(F.linear(xs, weight, bias), y) + l2 * weight.pow(2).sum()
                loss.backward()
                opt.step()
        with torch.no_grad():
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
        return loss.detach().float()

    def fit_ridge_labels(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One-vs-rest ridge classifier (scikit-learn's ``RidgeClassifier``): closed-form ridge
        (``head.ridge_l2``, unpenalised intercept) from z-scored inputs to ``{-1, +1}`` targets,
        one column per class or object. The decision values are the head's outputs: the class
        with the largest one, an object when it is >= 0 (the most decided one when none is)."""
        xs = self.scale_x(x)
        target = self.ridge_label_targets(y).to(xs.dtype)
        weight, bias = solve_ridge_intercept(xs, target, float(self.hparams.head["ridge_l2"]))
        with torch.no_grad():
            self.net.weight.copy_(weight.T)
            self.net.bias.copy_(bias)
        return F.mse_loss(self.net(xs), target).detach()

    def ridge_label_targets(self, y: torch.Tensor) -> torch.Tensor:
        """``(n, output_dim)`` targets in {-1, +1} of the ridge classifier (label kinds)."""
        raise XperienceError(f"head=ridge has no label fit for {self.kind} targets",
                             key="head", expected="a classification, pair or multilabel task")

    def configure_optimizers(self):
        """AdamW for the MLP; the full-batch heads fit themselves in ``fit_minimal``."""
        cfg = self.hparams.head
        if self.family.gradient_trained:
            return torch.optim.AdamW(self.parameters(), lr=cfg["lr"],
                                     weight_decay=cfg["weight_decay"])
        return None

    # -- scoring -----------------------------------------------------------------------------
    def score_batch(self, batch, metrics: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed ``metrics`` with one ``(x, y, group)`` batch (group = episode ids: retrieval
        galleries never mix them); returns ``(prediction, confidence)``."""
        x, y, group = batch
        out = self(x)
        pred, conf = self.decode(out)
        self.update_metrics(metrics, out, pred, y, group)
        return pred, conf

    def test_step(self, batch, batch_idx):
        pred, conf = self.score_batch(batch, self.metrics)
        self.test_records.append({"pred": pred.detach().cpu(), "confidence": conf.detach().cpu(),
                                  "target": batch[1].detach().cpu()})

    def validation_step(self, batch, batch_idx):
        self.score_batch(batch, self.val_metrics)

    def on_validation_epoch_start(self):
        self.val_metrics.reset()

    def on_validation_epoch_end(self):
        """Log ``val/<metric>`` and ``val/score`` (the primary metric, negated when lower is
        better), which checkpoint selection and early stopping maximise."""
        if self.trainer.sanity_checking:
            return
        scores = {k: float(v) for k, v in self.val_metrics.compute().items()}
        task = self.hparams.task
        primary = scores.get(task["primary_metric"], float("nan"))
        scores["score"] = primary if task["higher_is_better"] else -primary
        self.val_scores = scores
        for name, value in scores.items():
            self.log(f"val/{name}", value, sync_dist=True)

    def on_test_epoch_start(self):
        self.metrics.reset()
        self.test_records = []

    def on_test_epoch_end(self):
        for name, value in self.metrics.compute().items():
            self.log(f"test/{name}", float(value), sync_dist=True)

    def score_under(self, settings: dict) -> None:
        """Score this fitted head under other values of its ``scoring_settings`` from now on
        (the selection scores candidates that differ only there from one fit); any other
        setting would need another fit and is refused."""
        other = sorted(set(settings) - set(self.scoring_settings))
        if other:
            raise XperienceError(f"head settings {other} change the fit, not only the scoring",
                                 key=f"head.{other[0]}",
                                 expected=f"one of {list(self.scoring_settings)}")
        self.hparams.head.update(settings)

    def test_predictions(self) -> dict[str, np.ndarray]:
        return {k: torch.cat([r[k] for r in self.test_records]).numpy()
                for k in ("pred", "confidence", "target")}

    # -- per kind ----------------------------------------------------------------------------
    def build_metrics(self) -> nn.Module:
        raise NotImplementedError

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Network output -> (prediction, confidence) per sample, in target units."""
        raise NotImplementedError

    def update_metrics(self, metrics: nn.Module, out: torch.Tensor, pred: torch.Tensor,
                       y: torch.Tensor, group: torch.Tensor | None = None) -> None:
        """Feed ``metrics`` (the test or the validation suite) with one batch."""
        metrics.update(pred, y)

    def run_info(self) -> dict[str, Any]:
        """What runs record about this head beside its config (metrics.json, the checkpoint)."""
        return {}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["xperience"] = {"kind": self.kind, "head": self.head_name, **self.run_info()}


class ClassificationHead(HeadModule):
    """Multiclass labels; class-weighted cross-entropy (inverse train frequency)."""

    kind = "classification"
    loss_name = "class-weighted cross-entropy"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("class_weight", torch.ones(self.hparams.output_dim))

    def build_metrics(self):
        return self.build_metrics_for(self.hparams.output_dim)

    def build_metrics_for(self, num_classes: int) -> nn.Module:
        """Metric suite over ``num_classes`` (more than the head's when scoring unseen labels)."""
        return build_metric_suite(self.kind, num_classes=num_classes)

    def fit_scalers(self, x_train, y_train):
        super().fit_scalers(x_train, y_train)
        counts = torch.bincount(y_train, minlength=self.hparams.output_dim).float()
        weight = torch.where(counts > 0, counts.sum() / (len(counts) * counts.clamp(min=1)),
                             torch.zeros_like(counts))
        self.class_weight.copy_(weight)

    def loss(self, out, y):
        return F.cross_entropy(out, y, weight=self.class_weight.to(out.dtype))

    def ridge_label_targets(self, y):
        return 2.0 * F.one_hot(y, self.hparams.output_dim).double() - 1.0

    def target_seen(self, y: torch.Tensor) -> torch.Tensor:
        """``(B,)`` bool: whether each target's class occurred in training (ids past the head's
        classes, which evaluate.py appends for another episode's new labels, never did)."""
        seen = self.class_weight > 0
        return (y < len(seen)) & seen[y.clamp(0, len(seen) - 1)]

    def update_metrics(self, metrics, out, pred, y, group=None):
        """Also feeds the seen/unseen-class split of the suite (``target_seen``) and the
        class scores the top-k recall ranks (``scores``)."""
        metrics.update(pred, y, target_seen=self.target_seen(y), scores=self.ranking_scores(out))

    def ranking_scores(self, out: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` class scores as ``decode`` ranks them: classes with no training sample
        get -inf (like scikit-learn, such a class is never predicted)."""
        seen = self.class_weight > 0
        return out.masked_fill(~seen, float("-inf")) if seen.any() else out

    def decode(self, out):
        """Most probable class among those seen in training."""
        conf, pred = self.ranking_scores(out).softmax(-1).max(-1)
        return pred, conf


class PairHead(ClassificationHead):
    """Two-class pair verification (temporal order, misalignment); F1 of class 1."""

    kind = "binary"

    def build_metrics_for(self, num_classes: int) -> nn.Module:
        return build_metric_suite(self.kind)


class MultilabelHead(HeadModule):
    """Object sets; BCE with positive weights clipped to [1, 20]; at least one label per sample.

    ``head.decision_threshold`` ``t`` (default 0.5, the study's rule): an object is predicted when
    its fitted probability is >= ``t``. The scored probabilities are the fitted ones with every
    logit moved by ``-logit(t)`` (one offset added to each object's intercept after the fit), so
    the metric's own >= 0.5 rule reads them unchanged; training never sees the offset. A choice
    made on validation data like any head setting (``conf/select.yaml``)."""

    kind = "multilabel"
    loss_name = "weighted binary cross-entropy"
    scoring_settings = ("decision_threshold",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("pos_weight", torch.ones(self.hparams.output_dim))

    def build_metrics(self):
        return build_metric_suite(self.kind, num_labels=self.hparams.output_dim)

    def fit_scalers(self, x_train, y_train):
        super().fit_scalers(x_train, y_train)
        pos = y_train.sum(0)
        neg = len(y_train) - pos
        cfg = self.hparams.head
        self.pos_weight.copy_((neg / pos.clamp(min=1e-12)).clamp(cfg["pos_weight_min"],
                                                                 cfg["pos_weight_max"]))

    def loss(self, out, y):
        return F.binary_cross_entropy_with_logits(out, y.to(out.dtype),
                                                  pos_weight=self.pos_weight.to(out.dtype))

    def ridge_label_targets(self, y):
        return 2.0 * y.double() - 1.0

    def decision_probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """``(B, objects)`` probabilities as scored: each logit moved by ``-logit(t)``."""
        t = float(self.hparams.head.get("decision_threshold") or 0.5)
        return (out if t == 0.5 else out - math.log(t / (1 - t))).sigmoid()

    def decode(self, out):
        prob = self.decision_probabilities(out)
        pred = at_least_one(prob)
        conf = torch.where(pred.bool(), prob, 1 - prob).mean(-1)
        return pred, conf

    def update_metrics(self, metrics, out, pred, y, group=None):
        metrics.update(self.decision_probabilities(out), y)


class RegressionHead(HeadModule):
    """Real-valued targets; MSE on z-scored targets (non-finite targets masked); ridge minimal."""

    kind = "regression"
    loss_name = "MSE of z-scored targets"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("y_mean", torch.zeros(self.hparams.output_dim))
        self.register_buffer("y_std", torch.ones(self.hparams.output_dim))

    def build_metrics(self):
        return build_metric_suite(self.kind)

    def fit_scalers(self, x_train, y_train):
        super().fit_scalers(x_train, y_train)
        y64 = y_train.double()
        finite = torch.isfinite(y64)
        count = finite.sum(0).clamp(min=1)
        mean = torch.where(finite, y64, torch.zeros_like(y64)).sum(0) / count
        var = torch.where(finite, (y64 - mean) ** 2, torch.zeros_like(y64)).sum(0) / count
        self.y_mean.copy_(mean)
        self.y_std.copy_(_safe_std(var.sqrt(), mean))

    def scale_y(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.y_mean) / self.y_std

    def loss(self, out, y):
        z = self.scale_y(y)
        mask = torch.isfinite(z)
        return F.mse_loss(out[mask], z[mask])

    def fit_minimal(self, x, y):
        """Closed-form kernel ridge on z-scored inputs and targets (masked targets -> mean)."""
        z = torch.nan_to_num(self.scale_y(y), nan=0.0, posinf=0.0, neginf=0.0)
        weight = solve_ridge(self.scale_x(x), z, float(self.hparams.head["ridge_l2"]))
        with torch.no_grad():
            self.net.weight.copy_(weight.T)
            self.net.bias.zero_()
        return self.loss(self.net(self.scale_x(x)), y).detach()

    def decode(self, out):
        pred = out * self.y_std + self.y_mean
        return pred, torch.full((len(out),), float("nan"), device=out.device)


class TrajectoryHead(RegressionHead):
    """Future hand joints (H, 42, 3) per sample; MPJPE and final-frame MPJPE."""

    kind = "trajectory"

    def build_metrics(self):
        return build_metric_suite(self.kind)

    def update_metrics(self, metrics, out, pred, y, group=None):
        shape = (len(pred), *self.hparams.target_shape)
        metrics.update(pred.reshape(shape), y.reshape(shape))


class RetrievalHead(RegressionHead):
    """Projection into a target block; ranked by cosine in the raw target space (the
    prediction mapped back from z-scores, as the study ranks), and also in the z-scored space
    (``*_zscored`` keys). A non-finite true value counts as its train mean (0 when z-scored).

    A family that ranks in an ``embedding`` (``contrastive``) trains its network's own loss
    (``net.info_nce``) and ranks both sides of every pair through ``net.embed`` of their z-scored
    vectors: the same test gallery, the same ranks, MRR and top-k (``ranking_pair``)."""

    kind = "retrieval"

    @property
    def loss_name(self) -> str:
        return "symmetric InfoNCE" if self.embedded else super().loss_name

    @property
    def embedded(self) -> bool:
        return self.family.ranks_in == "embedding"

    def build_metrics(self):
        return build_metric_suite(self.kind, primary=self.hparams.task["primary_metric"])

    def fit_scalers(self, x_train, y_train):
        super().fit_scalers(x_train, y_train)
        if self.embedded:
            self.net.init_from_targets(self.scale_y(y_train.to(self.y_mean.dtype)))

    def loss(self, out, y):
        if not self.embedded:
            return super().loss(out, y)
        return self.net.info_nce(out, torch.nan_to_num(self.scale_y(y), nan=0.0, posinf=0.0,
                                                       neginf=0.0).to(out.dtype))

    def on_train_epoch_end(self):
        if self.embedded:  # the learned temperature, in the run's logs
            self.log("temperature", self.net.temperature, on_epoch=True)

    def run_info(self) -> dict[str, Any]:
        return {"temperature": self.net.temperature} if self.embedded else {}

    def update_metrics(self, metrics, out, pred, y, group=None):
        truth_z = torch.nan_to_num(self.scale_y(y), nan=0.0, posinf=0.0, neginf=0.0)
        zscored = (truth_z, out) if self.hparams.task.get("query") == "target" else (out, truth_z)
        metrics.update(*self.ranking_pair(pred, y), group=group, views={"zscored": zscored})

    def ranking_pair(self, pred: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(queries, gallery)`` the task ranks, in the raw target space (the study's): the
        predictions ``pred`` and the targets ``y`` (masked values at the train mean), in the order
        of the task's ``query`` (the run's rank histogram uses it too). A family ranking in an
        embedding: both z-scored, then ``net.embed`` (B, E)."""
        truth = torch.where(torch.isfinite(y), y, self.y_mean.to(y.dtype))
        if self.embedded:  # both sides through the same target tower
            pred, truth = (self.net.embed(self.scale_y(v).to(self.y_mean.dtype))
                           for v in (pred, truth))
        return (truth, pred) if self.hparams.task.get("query") == "target" else (pred, truth)


def _safe_std(std: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Standard deviations for z-scoring; a (numerically) constant column gets 1, so it maps to
    ~0 instead of amplifying rounding noise (calibration and point-cloud columns are constant)."""
    return torch.where(std > 1e-6 * (1.0 + mean.abs()), std, torch.ones_like(std))
