"""The open-vocabulary classification head (``head.label_space=embedding``).

Instead of one logit per training class, the network predicts a point in a label-text embedding
space (``heads/label_text.py``) and every candidate label text is scored by cosine:

    logits (B, C) = cos(net(z-scored x) (B, E), label_embeddings (C, E)) / temperature

The candidates are all the task's class names (train, val and test vocabularies), so a test
label never seen in training can still be predicted when its text lies near what the network
outputs. Labels absent from training are never training targets *nor* training negatives.
Decoding does not mask anything (unlike the closed head); candidates absent from training get a
cosine bonus ``head.unseen_margin`` (calibrated stacking, Chao et al. 2016), ``auto`` = the
margin with the best macro-F1 on the validation episodes (whose labels are partly unseen too).

- ``mlp``: the reference MLP with ``E`` outputs, AdamW on ``head.embedding_loss``: ``cosine``
  (default: class-weighted ``1 - cos`` to the label's embedding) or ``ce`` (class-weighted
  cross-entropy over the cosine logits of the training labels). On the synthetic set, ``ce``
  pushes apart paraphrases of one action that the features cannot tell apart (they are separate
  classes), and learns to never land near an unseen phrasing. ``head.embedding_base: ridge``
  (the mlp.yaml default) adds the ``minimal`` head's closed-form ridge map (``head.ridge_l2``),
  fit on the train split with the scalers and then frozen: the prediction is
  ``ridge(x) + mlp(x)``, the MLP's last layer starting at zero, so training (and the validation
  checkpoint choice) starts from the ridge head and the MLP only learns a non-linear residual.
  ``none`` (the default when the key is absent, as in older checkpoints): the MLP alone, which
  on the synthetic benchmark (a few hundred train windows of ~8.5k features) scores below the
  closed head; with the ridge base the validation episodes pick an early epoch, a small
  residual (README "Open-vocabulary labels").
- ``minimal``: a linear map from z-scored inputs to label embeddings by closed-form ridge
  (``head.ridge_l2``), each sample weighted by its class weight: each output column is a text
  feature, so the map is read like the ridge heads.

The label embeddings are a buffer saved in the checkpoint; the class names are in its
hyper-parameters. ``set_candidates`` re-scores against another label list (``evaluate.py`` on
data with new labels).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from ..errors import XperienceError
from .label_text import DEFAULT_DIM, embed_labels, resolve_encoder
from .module import ClassificationHead
from .networks import solve_ridge, zero_linear

DEFAULT_TEMPERATURE = 0.1
MARGIN_GRID = tuple(round(0.025 * k, 3) for k in range(17))  # 0 .. 0.4 in cosine units


class LabelEmbeddingHead(ClassificationHead):
    """Multiclass labels scored by cosine against label-text embeddings (open vocabulary)."""

    kind = "classification"
    open_vocabulary = True

    @property
    def loss_name(self) -> str:
        return {"ce": "class-weighted cross-entropy of cosine logits",
                "cosine": "class-weighted 1 - cosine"}[self.hparams.head.get("embedding_loss",
                                                                             "cosine")]

    def __init__(self, input_dim: int, output_dim: int, head: dict, task: dict,
                 class_names: list[str] | None = None, target_shape: list[int] | None = None):
        if not class_names or len(class_names) != output_dim:
            raise XperienceError("the label-embedding head needs the class names",
                                 key="class_names", expected=f"{output_dim} label texts")
        self.temperature = float(head.get("temperature", DEFAULT_TEMPERATURE))
        if not self.temperature > 0:
            raise XperienceError(f"temperature={self.temperature}", key="head.temperature",
                                 expected="a positive number")
        if head.get("embedding_loss", "cosine") not in ("ce", "cosine"):
            raise XperienceError(f"embedding_loss={head.get('embedding_loss')!r}",
                                 key="head.embedding_loss", expected="ce or cosine")
        margin = head.get("unseen_margin", 0.0)
        self.auto_margin = margin == "auto"
        try:
            margin = 0.0 if self.auto_margin else float(margin)
        except (TypeError, ValueError):
            raise XperienceError(f"unseen_margin={margin!r}", key="head.unseen_margin",
                                 expected="a number (cosine units) or auto") from None
        super().__init__(input_dim=input_dim, output_dim=output_dim, head=head, task=task,
                         class_names=class_names, target_shape=target_shape)
        self.register_buffer("unseen_margin", torch.tensor(margin))
        self._val_outputs: list = []

    def build_net(self, input_dim: int, output_dim: int, head: dict) -> torch.nn.Module:
        """A map into the label-text space (``E`` outputs, not one per class); registers the
        candidate label embeddings ``(C, E)`` and, with ``embedding_base: ridge``, the frozen
        ridge map ``self.base``."""
        self.text_encoder = resolve_encoder(str(head.get("text_encoder", "ngram")))
        emb = torch.from_numpy(self.embed_texts(self.hparams.class_names))
        self.register_buffer("label_embeddings", emb)  # (C, E), rows L2-normalised
        self.embedding_dim = emb.shape[1]
        base = head.get("embedding_base", "none") if self.family.gradient_trained else "none"
        if base not in ("none", "ridge"):
            raise XperienceError(f"embedding_base={base!r}", key="head.embedding_base",
                                 expected="ridge or none")
        net = super().build_net(input_dim, self.embedding_dim, head)
        self.base = None  # the frozen ridge map of ``embedding_base: ridge``
        if base == "ridge":
            torch.nn.init.zeros_(net[-1].weight)
            torch.nn.init.zeros_(net[-1].bias)
            self.base = zero_linear(input_dim, self.embedding_dim).requires_grad_(False)
        return net

    def embed_texts(self, texts: list[str]):
        """Embeddings ``(n, E)`` of label texts with this head's encoder settings."""
        head = self.hparams.head
        return embed_labels(list(texts), self.text_encoder,
                            int(head.get("embedding_dim", DEFAULT_DIM)),
                            tuple(head.get("ngram_range", (2, 4))))

    # -- scoring -----------------------------------------------------------------------------
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted label embeddings ``(B, E)`` (not normalised): the network's output, plus
        the frozen ridge map's with ``embedding_base: ridge``."""
        xs = self.scale_x(x)
        return self.net(xs) if self.base is None else self.base(xs) + self.net(xs)

    def score(self, emb: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, C)``: cosine to every candidate label over the temperature."""
        return F.normalize(emb, dim=-1) @ self.label_embeddings.to(emb.dtype).T / self.temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.embed(x))

    def loss(self, out, y):
        """``ce``: class-weighted cross-entropy over the classes seen in training (others
        masked). ``cosine``: class-weighted mean of ``1 - cos(prediction, label embedding)``
        (the neural twin of the ridge head: paraphrases of one action are not pushed apart)."""
        weight = self.class_weight.to(out.dtype)
        if self.hparams.head.get("embedding_loss", "cosine") == "cosine":
            cos = out.gather(1, y[:, None])[:, 0] * self.temperature
            w = weight[y]
            return ((1 - cos) * w).sum() / w.sum()
        seen = self.class_weight > 0
        return F.cross_entropy(out.masked_fill(~seen, float("-inf")), y, weight=weight)

    def ranking_scores(self, out, margin: float | None = None):
        """Candidate scores, unseen ones included. Candidates absent from training get the
        unseen margin added to their cosine (calibrated stacking: a model trained on the seen
        labels only scores those too high; 0 = plain nearest label)."""
        margin = float(self.unseen_margin) if margin is None else margin
        if margin:
            out = out + (self.class_weight == 0).to(out.dtype) * (margin / self.temperature)
        return out

    def decode(self, out, margin: float | None = None):
        """Most probable candidate label by ``ranking_scores``."""
        conf, pred = self.ranking_scores(out, margin).softmax(-1).max(-1)
        return pred, conf

    # -- the unseen margin, chosen on the validation episodes --------------------------------
    def validation_step(self, batch, batch_idx):
        if not self.auto_margin:
            return super().validation_step(batch, batch_idx)
        x, y, _ = batch
        self._val_outputs.append((self(x).detach(), y.detach()))
        return None

    def on_validation_epoch_start(self):
        super().on_validation_epoch_start()
        self._val_outputs = []

    def on_validation_epoch_end(self):
        """``unseen_margin: auto``: pick the margin of ``MARGIN_GRID`` with the best validation
        macro-F1 (the smallest on ties), then score validation with it."""
        if self.auto_margin and self._val_outputs:
            out = torch.cat([o for o, _ in self._val_outputs])
            y = torch.cat([t for _, t in self._val_outputs])
            self._val_outputs = []
            if not self.trainer.sanity_checking:
                suite = self.build_metrics_for(len(self.class_weight)).to(out.device)
                best = (-1.0, 0.0)
                for margin in MARGIN_GRID:
                    suite.reset()
                    suite.update(self.decode(out, margin)[0], y)
                    score = suite.compute()["macro_f1"]
                    best = max(best, (score, -margin))
                self.unseen_margin.fill_(-best[1])
            pred, _ = self.decode(out)
            self.update_metrics(self.val_metrics, out, pred, y)
        super().on_validation_epoch_end()
        if self.auto_margin and not self.trainer.sanity_checking:
            self.val_scores["unseen_margin"] = float(self.unseen_margin)
            self.log("val/unseen_margin", float(self.unseen_margin), sync_dist=True)

    def fit_scalers(self, x_train, y_train):
        """The scalers and class weights, then (``embedding_base: ridge``) the ridge map on the
        whole train split (streamed chunks are gathered, as the minimal head does)."""
        if self.base is None:
            return super().fit_scalers(x_train, y_train)
        if not isinstance(x_train, torch.Tensor):
            x_train = torch.cat(list(x_train))
        super().fit_scalers(x_train, y_train)
        self.fit_ridge(self.base, x_train, y_train)

    def configure_optimizers(self):
        """AdamW on the trainable parameters (the frozen ridge map is not one of them)."""
        if self.base is None:
            return super().configure_optimizers()
        cfg = self.hparams.head
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad],
                                 lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def fit_minimal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The minimal head: ``fit_ridge`` of its linear map on the whole train batch."""
        self.fit_ridge(self.net, x, y)
        return self.loss(self(x), y).detach()

    def fit_ridge(self, layer: torch.nn.Linear, x: torch.Tensor, y: torch.Tensor) -> None:
        """Closed-form ridge (``head.ridge_l2``) from z-scored inputs ``(n, d)`` to the
        (class-weight-centred) embeddings of each sample's label, written into ``layer``; rows
        weighted by the square root of their class weight."""
        xs = self.scale_x(x).double()
        target = self.label_embeddings.double()[y]
        w = self.class_weight.double()[y]
        w = w / w.mean()
        t_mean = (w[:, None] * target).sum(0) / w.sum()
        x_mean = (w[:, None] * xs).sum(0) / w.sum()
        root = w.sqrt()[:, None]
        weight = solve_ridge(root * (xs - x_mean), root * (target - t_mean),
                             float(self.hparams.head["ridge_l2"]))
        with torch.no_grad():
            layer.weight.copy_(weight.T.to(layer.weight.dtype))
            layer.bias.copy_((t_mean - x_mean @ weight).to(layer.bias.dtype))

    # -- other label lists -------------------------------------------------------------------
    def set_candidates(self, class_names: list[str]) -> None:
        """Score against ``class_names`` from now on: the training classes first (same order),
        then any new labels, which are embedded and become predictable."""
        old = list(self.hparams.class_names)
        if list(class_names[:len(old)]) != old:
            raise XperienceError("candidate labels must start with the checkpoint's classes",
                                 key="class_names", expected=f"{old[:3]}... first")
        device = self.label_embeddings.device
        self.label_embeddings = torch.from_numpy(self.embed_texts(class_names)).to(device)
        weight = torch.zeros(len(class_names), device=device, dtype=self.class_weight.dtype)
        weight[:len(old)] = self.class_weight[:len(old)]
        self.class_weight = weight

    def run_info(self) -> dict[str, Any]:
        return {"label_space": "embedding", "text_encoder": self.text_encoder}

