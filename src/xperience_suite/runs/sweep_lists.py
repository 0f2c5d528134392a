"""Sweep lists of the experiment files, derived from the registries instead of written out:

- ``${xperience.tasks:}``: every option of the ``task`` config group except the aliases
  (``hand_forecast``), the study's tasks in its table order first (``study_order``), then the
  others (your own ``task/*.yaml``, e.g. from ``--config-dir``) by name;
- ``${xperience.drop_one_family:}``: ``[]``, then each modality family of the feature registry
  alone (``modality_families``), the ``features.drop`` axis of the modality ablation; the
  config's ``imports`` are imported first, so the families of your own blocks are in it;
- ``${xperience.features_label:${features.name},${features.drop}}``: the name a run's features
  go by (``all-video``), for the job folders' names (``conf/hydra/default.yaml``).
"""

from __future__ import annotations

from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from ..features.registry import modality_families
from ..plugins import import_modules
from ..tasks.inputs import feature_label
from ..tasks.registry import ALIASES, study_order


def sweep_tasks(options: list[str]) -> list[str]:
    """Task config options -> the task axis of a sweep (aliases out, the study's order first)."""
    options = [o for o in options if o not in ALIASES]
    study = [t for t in study_order() if t in options]
    return study + sorted(o for o in options if o not in study)


def drop_one_family() -> list[str]:
    """``features.drop`` values of the modality ablation: none, then each family alone."""
    return ["[]"] + [f"[{family}]" for family in modality_families()]


def _tasks_resolver() -> str:
    return ",".join(sweep_tasks(GlobalHydra.instance().config_loader().get_group_options("task")))


def _families_resolver(*, _root_) -> str:
    import_modules(_root_.get("imports"))
    return ",".join(drop_one_family())


def _features_label_resolver(name: str, drop) -> str:
    return feature_label(str(name), [str(d) for d in (drop or [])])


OmegaConf.register_new_resolver("xperience.tasks", _tasks_resolver, replace=True)
OmegaConf.register_new_resolver("xperience.features_label", _features_label_resolver,
                                replace=True)
OmegaConf.register_new_resolver("xperience.drop_one_family", _families_resolver, replace=True)
