"""Which LightningModule trains a run's head: one class per ``Task.kind`` (``HEAD_MODULES``);
a head family with modules of its own (``FAMILY_MODULES``) uses them for the kinds listed there
(other kinds get the kind's module; a family that serves only some kinds, ``HeadFamily.kinds``,
refuses the others in one line; a setting one kind alone reads, ``KIND_SETTINGS``, is refused
on the others); the
open-vocabulary ``LabelEmbeddingHead`` serves classification with ``head.label_space=embedding``."""

from __future__ import annotations

from ..errors import XperienceError
from .balanced import BalancedClassificationHead, BalancedMultilabelHead
from .blend import BlendClassificationHead, BlendMultilabelHead, BlendPairHead
from .families import head_family
from .label_embedding import LabelEmbeddingHead
from .module import (ClassificationHead, HeadModule, MultilabelHead, PairHead, RegressionHead,
                     RetrievalHead, TrajectoryHead)
from .residual import ResidualTrajectoryHead
from .temporal import TemporalClassificationHead

HEAD_MODULES: dict[str, type[HeadModule]] = {
    cls.kind: cls for cls in (ClassificationHead, PairHead, MultilabelHead, RegressionHead,
                              TrajectoryHead, RetrievalHead)
}
#: ``head.label_space`` -> the module class replacing the closed one for classification tasks.
LABEL_SPACES: dict[str, type[HeadModule] | None] = {"closed": None,
                                                    "embedding": LabelEmbeddingHead}


#: family name -> {task kind: module class}
FAMILY_MODULES: dict[str, dict[str, type[HeadModule]]] = {
    "residual": {"trajectory": ResidualTrajectoryHead},
    "balanced": {"classification": BalancedClassificationHead,
                 "multilabel": BalancedMultilabelHead},
    "temporal": {"classification": TemporalClassificationHead},
    "blend": {"classification": BlendClassificationHead, "binary": BlendPairHead,
              "multilabel": BlendMultilabelHead},
}
#: a head setting only one task kind reads -> (that kind, its neutral value): set to anything
#: else on another kind it is refused, not silently ignored
KIND_SETTINGS: dict[str, tuple[str, object]] = {"decision_threshold": ("multilabel", 0.5)}


def head_module_class(kind: str, head: dict) -> type[HeadModule]:
    """The module class of ``head`` (its ``name`` a family of ``HEAD_FAMILIES``, ``mlp`` when
    absent) on task kind ``kind``; a kind the family does not serve is refused here, the one
    place every run and ``evaluate.py`` pass through."""
    family = head_family(head.get("name") or "mlp")
    own = FAMILY_MODULES.get(family.name, {})
    embedding = kind == "classification" and (head.get("label_space") or "closed") != "closed"
    served = not family.kinds or kind in family.kinds
    if not served or (embedding and family.kinds and kind in own):
        what = kind if not served else "open-vocabulary (head.label_space=embedding)"
        raise XperienceError(f"head '{family.name}' does not train {what} tasks",
                             key="head.name", expected=f"a task of kind {list(family.kinds)} "
                                                       "(closed labels), or another head")
    for setting, (reader, neutral) in KIND_SETTINGS.items():
        if kind != reader and head.get(setting) not in (None, neutral):
            raise XperienceError(f"head.{setting} applies to {reader} tasks only, not {kind}",
                                 key=f"head.{setting}",
                                 expected=f"{neutral} (its default) or null here")
    if kind in own and not embedding:
        return own[kind]
    return kind_module_class(kind, head)


def kind_module_class(kind: str, head: dict) -> type[HeadModule]:
    """The kind's own module class: ``classification`` with ``head.label_space=embedding`` ->
    ``LabelEmbeddingHead``; every other kind keeps its closed head."""
    space = head.get("label_space") or "closed"
    if space not in LABEL_SPACES:
        raise XperienceError(f"unknown label space '{space}'", key="head.label_space",
                             expected=f"one of {list(LABEL_SPACES)}")
    if kind == "classification" and LABEL_SPACES[space] is not None:
        return LABEL_SPACES[space]
    return HEAD_MODULES[kind]
