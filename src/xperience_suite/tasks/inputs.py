"""The input selection of a task under a feature variant and dropped modality families.

Block names, roles (``role_blocks("motion")``...) and families (``modality_families()``) come
from the feature registry, where each block declares them."""

from __future__ import annotations

from ..errors import XperienceError
from ..features.registry import RAW_LOGMEL_BLOCK, modality_families
from ..features.variants import apply_variant
from ..windows.window_set import WindowSet

DROP_SEP = "-"  # "all-hands-video": variant "all" without the hands and video families


def feature_label(variant: str, drop: list[str] | tuple[str, ...] = ()) -> str:
    """The name a run's features go by: the variant, then each dropped family after a ``-``."""
    return DROP_SEP.join([variant, *drop])


def split_feature_label(label: str) -> tuple[str, list[str]]:
    """``"all-hands"`` -> ``("all", ["hands"])``; unknown families raise ``XperienceError``."""
    variant, *drop = label.split(DROP_SEP)
    families = modality_families()
    unknown = [f for f in drop if f not in families]
    if unknown:
        raise XperienceError(f"unknown modality families {unknown} in features.drop",
                             key="features.drop", expected=f"names among {list(families)}")
    return variant, drop


def base_blocks(ws: WindowSet) -> list[str]:
    """The window vector's blocks as extracted/published (the variant adds raw log-mel itself)."""
    return [n for n in ws.block_names if n != RAW_LOGMEL_BLOCK] or list(ws.block_names)


def select_inputs(ws: WindowSet, wanted: list[str] | None, variant: str, task: str,
                  side: str = "inputs") -> list[str]:
    """Blocks a task reads: ``wanted`` (None = the whole window vector) that the feature set has,
    with the feature variant applied inside that selection, then the dropped modality families
    (``variant`` may be a ``feature_label`` such as ``"all-hands"``)."""
    present = base_blocks(ws)
    chosen = present if wanted is None else [b for b in wanted if b in present]
    base_variant, drop = split_feature_label(variant)
    families = modality_families()
    dropped = {b for f in drop for b in families[f]}
    names = [n for n in apply_variant(chosen, base_variant) if n not in dropped]
    missing = [n for n in names if n not in ws.block_names]
    if missing:
        raise XperienceError(
            f"feature variant '{variant}' needs blocks {missing} that this feature set lacks",
            key=f"features={variant}", expected=f"blocks among {ws.block_names}")
    if not names:
        raise XperienceError(
            f"feature variant '{variant}' leaves task '{task}' without {side}",
            key=f"features={variant}",
            expected=f"a variant that keeps some of {wanted or present}")
    return names


def target_blocks(ws: WindowSet, wanted: list[str], task: str) -> list[str]:
    """Target blocks (retrieval/reconstruction targets are never changed by the variant)."""
    names = [b for b in wanted if b in ws.block_names and ws.block(b).available]
    if not names:
        raise XperienceError(f"task '{task}' needs target blocks {wanted}, none available",
                             key=f"task={task}", expected=f"some of {wanted} in the feature set")
    return names
