"""``head=siamese``: pair heads that encode each window of a pair with one shared encoder.

The pair tasks join two views of windows side by side (``TaskData.input_parts``); a concatenation
MLP has to find, among thousands of z-scored columns, the few that relate one view to the other,
and on the few hundred train pairs it memorises instead. These networks see the parts apart:

- **temporal order** (parts ``first``, ``second``, ``second_minus_first``, each ``d`` wide): a
  shared encoder ``E`` maps a window to two codes, how it ends (``u``) and how it starts (``v``);
  ``c(f, s) = sum |u(f) - v(s)|`` is how badly ``s`` continues ``f``. The in-order logit is
  ``c(second, first) - c(first, second)``, plus (``mix_hidden > 0``) an MLP over
  ``[E(a), E(b), E(b) - E(a), E_diff(b - a)]`` taken antisymmetrically (``m(a, b) - m(b, a)``):
  swapping the windows flips the decision exactly.
- **misalignment** (parts ``motion``, ``sensed``): one tower per part, a logit from the symmetric
  features ``|e_m - e_s|`` and ``e_m * e_s``.

Every part's columns pass through per-column gates (started at ``gate_init``) whose L1 penalty
(``order_gate_l1`` / ``align_gate_l1``, added to their gradient) keeps only the columns that carry
the pair's relation.
Outputs are the two class logits ``(-s/2, s/2)``; the ``PairHead`` LightningModule trains them
(class-weighted cross-entropy, AdamW) like the reference MLP.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import XperienceError

ORDER_PARTS = ("first", "second", "second_minus_first")
ALIGN_PARTS = ("motion", "sensed")


class _L1Subgradient(torch.autograd.Function):
    """Identity forward; backward adds ``weight * sign(gate)``, the subgradient of
    ``weight * ||gate||_1``, to the gate's gradient (the penalty without touching the loss)."""

    @staticmethod
    def forward(ctx, gate: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.save_for_backward(gate)
        ctx.weight = weight
        return gate.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (gate,) = ctx.saved_tensors
        return grad + ctx.weight * gate.sign(), None


class ColumnGate(nn.Module):
    """``x (B, d) -> x * gate``; the ``(d,)`` gate is L1-penalised (``l1``) while training."""

    def __init__(self, dim: int, init: float, l1: float):
        super().__init__()
        self.gate = nn.Parameter(torch.full((dim,), float(init)))
        self.l1 = float(l1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = _L1Subgradient.apply(self.gate, self.l1) if self.training and self.l1 > 0 \
            else self.gate
        return x * gate


def encoder(d_in: int, d_out: int, hidden: int, dropout: float) -> nn.Module:
    """A linear map (``hidden == 0``) or Linear -> GELU -> Dropout -> Linear."""
    if hidden <= 0:
        return nn.Linear(d_in, d_out)
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, d_out))


def encoder_settings(head: dict) -> tuple[int, int, float]:
    """``(rank, encoder_hidden, dropout)`` of a head config."""
    return int(head["rank"]), int(head["encoder_hidden"]), float(head["dropout"])


def two_class(score: torch.Tensor) -> torch.Tensor:
    """``(B,)`` score of class 1 -> ``(B, 2)`` logits ``(-s/2, s/2)``."""
    return torch.stack([-score / 2, score / 2], dim=-1)


class OrderPairNet(nn.Module):
    """Temporal order of two windows (see the module docstring)."""

    def __init__(self, width: int, head: dict):
        super().__init__()
        rank, hidden, dropout = encoder_settings(head)
        self.width, self.rank = width, rank
        self.gate = ColumnGate(width, head["gate_init"], head["order_gate_l1"])
        self.encode = encoder(width, 2 * rank, hidden, dropout)  # (u: how it ends, v: starts)
        self.scale = nn.Parameter(torch.tensor(1.0))
        mix = int(head.get("mix_hidden") or 0)
        self.encode_diff = nn.Linear(width, rank) if mix else None
        self.mix = nn.Sequential(nn.Linear(4 * rank, mix), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mix, 1)) if mix else None

    def mismatch(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """``(B,)`` how badly the window coded ``second`` continues the one coded ``first``."""
        return (first[:, :self.rank] - second[:, self.rank:]).abs().sum(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b, diff = self.gate(x.reshape(len(x), 3, self.width)).unbind(1)
        ea, eb = self.encode(a), self.encode(b)
        score = self.scale * (self.mismatch(eb, ea) - self.mismatch(ea, eb))
        if self.mix is not None:
            ca, cb = ea[:, :self.rank], eb[:, :self.rank]
            forward = torch.cat([ca, cb, cb - ca, self.encode_diff(diff)], -1)
            swapped = torch.cat([cb, ca, ca - cb, self.encode_diff(-diff)], -1)
            score = score + (self.mix(forward) - self.mix(swapped)).squeeze(-1)
        return two_class(score)


class AlignPairNet(nn.Module):
    """Whether the motion and the sensed (visual + audio) parts come from the same window."""

    def __init__(self, motion: int, sensed: int, head: dict):
        super().__init__()
        rank, hidden, dropout = encoder_settings(head)
        self.motion = motion
        self.gate_m = ColumnGate(motion, head["gate_init"], head["align_gate_l1"])
        self.gate_s = ColumnGate(sensed, head["gate_init"], head["align_gate_l1"])
        self.encode_m = encoder(motion, rank, hidden, dropout)
        self.encode_s = encoder(sensed, rank, hidden, dropout)
        mix = int(head.get("mix_hidden") or 0)
        self.score = nn.Sequential(nn.Linear(2 * rank, mix), nn.GELU(), nn.Dropout(dropout),
                                   nn.Linear(mix, 1)) if mix else nn.Linear(2 * rank, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        em = self.encode_m(self.gate_m(x[:, :self.motion]))
        es = self.encode_s(self.gate_s(x[:, self.motion:]))
        return two_class(self.score(torch.cat([(em - es).abs(), em * es], -1)).squeeze(-1))


def _order(widths: list[int], head: dict) -> nn.Module:
    if len(set(widths)) != 1:
        raise XperienceError(f"temporal-order parts of unequal widths {widths}",
                             key="task.input_parts",
                             expected="first/second/difference of one width")
    return OrderPairNet(widths[0], head)


def _align(widths: list[int], head: dict) -> nn.Module:
    return AlignPairNet(widths[0], widths[1], head)


#: the pair network of each layout of parts (``TaskData.input_parts`` names, in order)
PAIR_NETWORKS: dict[tuple[str, ...], Callable[[list[int], dict], nn.Module]] = {
    ORDER_PARTS: _order,
    ALIGN_PARTS: _align,
}


def siamese_network(d_in: int, d_out: int, head: dict) -> nn.Module:
    """The ``siamese`` family's network for the task's ``input_parts`` (given in ``head``)."""
    parts = head.get("input_parts") or []
    names = tuple(name for name, _ in parts)
    if names not in PAIR_NETWORKS or d_out != 2:
        raise XperienceError(f"head=siamese needs a pair task (input parts {list(names)})",
                             key="head", expected="task=temporal_order or misalignment_detection")
    widths = [int(w) for _, w in parts]
    if sum(widths) != d_in:
        raise XperienceError(f"input parts {parts} do not add up to the input width {d_in}",
                             key="task.input_parts", expected=f"widths summing to {d_in}")
    return PAIR_NETWORKS[names](widths, head)
