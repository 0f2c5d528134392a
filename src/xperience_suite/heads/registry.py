"""The head module of a task kind: one LightningModule class per ``Task.kind``, plus the
open-vocabulary ``LabelEmbeddingHead`` for classification with ``head.label_space=embedding``."""

from __future__ import annotations

from ..errors import XperienceError
from .label_embedding import LabelEmbeddingHead
from .module import (ClassificationHead, HeadModule, MultilabelHead, PairHead, RegressionHead,
                     RetrievalHead, TrajectoryHead)

HEAD_MODULES: dict[str, type[HeadModule]] = {
    cls.kind: cls for cls in (ClassificationHead, PairHead, MultilabelHead, RegressionHead,
                              TrajectoryHead, RetrievalHead)
}
#: ``head.label_space`` -> the module class replacing the closed one for classification tasks.
LABEL_SPACES: dict[str, type[HeadModule] | None] = {"closed": None,
                                                    "embedding": LabelEmbeddingHead}


def head_module_class(kind: str, head: dict) -> type[HeadModule]:
    """The module class for a task kind and head config: ``classification`` with
    ``head.label_space=embedding`` -> ``LabelEmbeddingHead``; every other kind keeps its closed
    head."""
    space = head.get("label_space") or "closed"
    if space not in LABEL_SPACES:
        raise XperienceError(f"unknown label space '{space}'", key="head.label_space",
                             expected=f"one of {list(LABEL_SPACES)}")
    if kind == "classification" and LABEL_SPACES[space] is not None:
        return LABEL_SPACES[space]
    return HEAD_MODULES[kind]
