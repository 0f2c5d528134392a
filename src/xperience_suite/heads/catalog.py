"""Which LightningModule trains a run's head: by the task's kind, the head family and the label
space. A family with modules of its own (``FAMILY_MODULES``) uses them for the kinds listed
there; other kinds get the kind's module (``module.head_module_class``), or an error for the
families in ``OWN_KINDS_ONLY``. The open-vocabulary label space (``head.label_space=embedding``)
keeps its own head."""

from __future__ import annotations

from ..errors import XperienceError
from .balanced import BalancedClassificationHead, BalancedMultilabelHead
from .families import head_family
from .module import HeadModule, head_module_class as kind_module_class
from .residual import ResidualTrajectoryHead
from .temporal import TemporalClassificationHead

#: family name -> {task kind: module class}
FAMILY_MODULES: dict[str, dict[str, type[HeadModule]]] = {
    "residual": {"trajectory": ResidualTrajectoryHead},
    "balanced": {"classification": BalancedClassificationHead,
                 "multilabel": BalancedMultilabelHead},
    "temporal": {"classification": TemporalClassificationHead},
}
OWN_KINDS_ONLY = {"residual", "temporal"}  # families that train no other kind


def head_module_class(kind: str, head: dict) -> type[HeadModule]:
    """The module class of ``head`` (its ``name`` a family of ``HEAD_FAMILIES``) on ``kind``."""
    family = head_family(head["name"]).name
    own = FAMILY_MODULES.get(family, {})
    embedding = kind == "classification" and (head.get("label_space") or "closed") != "closed"
    if kind in own and not embedding:
        return own[kind]
    if family in OWN_KINDS_ONLY:
        what = "open-vocabulary (head.label_space=embedding)" if embedding else kind
        raise XperienceError(f"head '{family}' does not train {what} tasks", key="head.name",
                             expected=f"a task of kind {sorted(own)} (closed labels), or "
                                      f"another head")
    return kind_module_class(kind, head)
