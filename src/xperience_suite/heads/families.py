"""The head families (the ``head`` config group's ``name``): how a head's map is built and fit.

| family    | map                   | labels (classes, pairs, objects)             | regression / projection |
| --------- | --------------------- | -------------------------------------------- | ----------------------- |
| `mlp`     | the reference MLP     | AdamW on weighted CE / BCE, mini-batches     | AdamW on MSE            |
| `minimal` | one linear layer      | full-batch logistic regression (GD)          | closed-form ridge       |
| `ridge`   | one linear layer      | closed-form one-vs-rest ridge on {-1, +1}    | closed-form ridge       |
| `siamese` | shared window encoder | AdamW on CE; pair tasks only (`siamese.py`)  | -                       |
| `contrastive` | two tied towers   | (retrieval tasks only)                       | InfoNCE, learned temperature; ranked in the towers' embedding |
| `residual` | the reference MLP     | (trajectory tasks only)                      | constant velocity + MLP residual, AdamW on MPJPE |
| `balanced` | one linear layer      | class-balanced closed-form ridge on {-1, +1} | closed-form ridge       |
| `temporal` | causal 1-D conv over the window and the ones before it | AdamW on weighted CE (classes only) | - |
| `blend`   | a `minimal` linear layer + the reference MLP | each fit as its own head; their probabilities averaged | - |

Modules of their own (``residual.py``, ``balanced.py``, ``temporal.py``, ``blend.py``) are
picked by ``registry.py`` (``FAMILY_MODULES``).

``ridge`` is the head of the study's audio ablation (``audio_ablation_and_raw_upgrade.py``):
every task by closed-form ridge on z-scored inputs. ``contrastive`` (``contrastive.py``) is the
stronger head of cross-modal retrieval (``docs/heads_projection.md``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from torch import nn

from ..errors import XperienceError
from .contrastive import contrastive_towers
from .networks import reference_mlp, zero_linear
from .siamese import siamese_network


def _mlp(d_in: int, d_out: int, head: dict) -> nn.Module:
    return reference_mlp(d_in, d_out, head["hidden"], head["layers"], head["dropout"])


def _linear(d_in: int, d_out: int, head: dict) -> nn.Module:
    return zero_linear(d_in, d_out)


class HeadFamily(NamedTuple):
    name: str
    gradient_trained: bool  # Lightning's optimizer loop over mini-batches; else one full-batch fit
    ridge_labels: bool  # labels fit by closed-form one-vs-rest ridge; else logistic GD
    network: Callable[[int, int, dict], nn.Module]  # (input dim, output dim, head config)
    ranks_in: str = "target"  # retrieval: "target" (the study's raw space) | "embedding" (net.embed)
    kinds: tuple[str, ...] = ()  # the head kinds it serves; () = every kind

    @property
    def seeded(self) -> bool:
        """Whether the seed changes the fit (initialisation, batch order, dropout); a full-batch
        fit from a zero start gives the same head for every seed."""
        return self.gradient_trained


HEAD_FAMILIES: dict[str, HeadFamily] = {f.name: f for f in (
    HeadFamily("mlp", gradient_trained=True, ridge_labels=False, network=_mlp),
    HeadFamily("minimal", gradient_trained=False, ridge_labels=False, network=_linear),
    HeadFamily("ridge", gradient_trained=False, ridge_labels=True, network=_linear),
    HeadFamily("siamese", gradient_trained=True, ridge_labels=False, network=siamese_network,
               kinds=("binary",)),
    HeadFamily("contrastive", gradient_trained=True, ridge_labels=False,
               network=contrastive_towers, ranks_in="embedding", kinds=("retrieval",)),
    HeadFamily("residual", gradient_trained=True, ridge_labels=False, network=_mlp,
               kinds=("trajectory",)),  # residual.py
    HeadFamily("balanced", gradient_trained=False, ridge_labels=True, network=_linear),  # balanced.py
    HeadFamily("temporal", gradient_trained=True, ridge_labels=False, network=_mlp,
               kinds=("classification",)),  # temporal.py
    HeadFamily("blend", gradient_trained=True, ridge_labels=False, network=_mlp,
               kinds=("classification", "binary", "multilabel")),  # blend.py
)}


def head_family(name: str) -> HeadFamily:
    """The family of ``head.name``; an unknown name is a one-line error."""
    if name not in HEAD_FAMILIES:
        raise XperienceError(f"unknown head '{name}'", key="head.name",
                             expected=f"one of {list(HEAD_FAMILIES)}")
    return HEAD_FAMILIES[name]
