"""Head configs by name and settings, and ``head=best``: each task's head chosen on validation.

A *candidate* is a head config of the ``head`` group plus settings over it:
``{head: ridge, ridge_l2: 100.0}`` is ``head=ridge head.ridge_l2=100.0``. ``conf/head/best.yaml``
maps every task to the candidate that won the selection (``runs.selection``) under ``tasks:``,
and under ``by_features: {<features name>: {<task>: ...}}`` the winners of a selection made on that
feature set (the real log-mel windows: ``raw_logmel_only``), which take precedence; a run with
``head=best`` resolves its task's entry into that head config before the module is built
(``stale_choice``: a finished run made with an earlier choice). Its other keys (``SHARED_KEYS``:
``head.max_epochs=1``, ``debug=tiny``, ``head.label_space=embedding``) apply over every task's
choice when set; null leaves the chosen head's own value.
"""

from __future__ import annotations

import copy

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict

from ..config_tree import config_dir
from ..errors import XperienceError

BEST = "best"
CHOICE_KEYS = ("name", "tasks", "by_features")  # best.yaml's own keys; the others apply
# over every choice
SHARED_KEYS = ("max_epochs", "label_space")  # best.yaml's slots for overrides over every choice


def compose_in_tree(config_name: str | None, overrides: list[str]) -> DictConfig:
    """Compose from the config tree: through the running Hydra app's search path when there is
    one (train.py, a sweep job), else from ``config_dir()``."""
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=config_name, overrides=overrides)
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)


def _compose_head(name: str) -> DictConfig:
    """The ``head`` group's option ``name``, composed as Hydra composes it (defaults included)."""
    return compose_in_tree(None, [f"+head={name}"]).head


def as_candidate(head: DictConfig | dict) -> dict:
    """A full head config (``cfg.head``) as a candidate: its name and the settings that differ
    from its ``conf/head`` option (``{head: mlp, lr: 0.003}`` after ``head.lr=0.003``)."""
    spec = OmegaConf.to_container(head, resolve=True) if isinstance(head, DictConfig) \
        else dict(head)
    name = str(spec.pop("name"))
    default = OmegaConf.to_container(_compose_head(name), resolve=True)
    return {"head": name, **{k: v for k, v in spec.items() if default.get(k, object()) != v}}


def split_candidate(candidate) -> tuple[str, dict]:
    """``{head: ridge, ridge_l2: 100.0}`` -> ``("ridge", {"ridge_l2": 100.0})``."""
    spec = OmegaConf.to_container(candidate, resolve=True) if isinstance(candidate, DictConfig) \
        else dict(candidate)
    if not spec.get("head"):
        raise XperienceError(f"head candidate {spec} names no head", key="head",
                             expected="{head: <a conf/head option>, <setting>: <value>, ...}")
    name = str(spec.pop("head"))
    return name, spec


def candidate_label(candidate) -> str:
    """``ridge(ridge_l2=100.0)``; a bare head's name alone."""
    name, settings = split_candidate(candidate)
    inner = ",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in settings.items())
    return f"{name}({inner})" if inner else name


def head_config(candidate) -> DictConfig:
    """The full head config of a candidate: its ``conf/head`` option with its settings over it
    (a setting the option does not have is refused, as ``train.py head.<key>=...`` refuses it)."""
    name, settings = split_candidate(candidate)
    if name == BEST:
        raise XperienceError("head=best cannot be a candidate of itself", key="head",
                             expected="a head family's config (minimal, mlp, ridge, ...)")
    try:
        node = _compose_head(name)
    except Exception as err:  # Hydra's "could not find 'head/x'"
        raise XperienceError(f"no head config '{name}' ({str(err).splitlines()[0]})",
                             key="head", expected="an option of conf/head/") from None
    unknown = [k for k in settings if k not in node]
    if unknown:  # as train.py refuses head.<key>=... for a key the head config lacks
        raise XperienceError(f"head '{name}' has no setting '{unknown[0]}'",
                             key=f"head.{unknown[0]}",
                             expected=f"one of conf/head/{name}.yaml's keys: {sorted(node)}")
    with open_dict(node):
        for key, value in settings.items():
            node[key] = value
    return node


def resolve_head(cfg: DictConfig) -> DictConfig:
    """``cfg`` with ``head=best`` replaced by its task's chosen head config (``choice: best`` and
    ``chosen`` record where it came from); any other head unchanged (the same object)."""
    head = cfg.get("head")
    if head is None or head.get("name") != BEST:
        return cfg
    task = str(cfg.task.name)
    features = str(cfg.get("features", {}).get("name"))
    tasks = {**(head.get("tasks") or {}), **((head.get("by_features") or {}).get(features) or {})}
    if task not in tasks:
        raise XperienceError(f"head=best has no entry for task '{task}'", key=f"head.tasks.{task}",
                             expected="a {head: ..., <setting>: ...} entry in conf/head/best.yaml "
                                      "(python -m xperience_suite.select_heads writes one)")
    chosen = OmegaConf.to_container(tasks[task], resolve=True)
    node = head_config(chosen)
    shared = {k: v for k, v in OmegaConf.to_container(head, resolve=True).items()
              if k not in CHOICE_KEYS and v is not None}
    with open_dict(node):
        for key, value in shared.items():
            node[key] = value
        node["choice"] = BEST
        node["chosen"] = candidate_label(chosen)
    out = copy.deepcopy(cfg)
    with open_dict(out):
        out.head = node
    return out


def stale_choice(summary: dict, cfg: DictConfig) -> str | None:
    """For a finished run of ``cfg`` (its metrics.json ``summary``): the head ``head=best`` now
    chooses for the run's task when the run was made with another one (its ``head_chosen``),
    so its numbers are not the shipped head's; else None. A run of a named head never goes
    stale: its head is its config."""
    if summary.get("head") != BEST:
        return None
    now = str(resolve_head(cfg).head.get("chosen"))
    return None if summary.get("head_chosen") == now else now


def head_record(head: DictConfig) -> dict:
    """What a run's metrics.json says about its head: ``head`` (the config chosen, ``best`` for
    ``head=best``) and, for ``head=best``, ``head_family`` and ``head_chosen`` (the candidate)."""
    if head.get("choice"):
        return {"head": str(head.choice), "head_family": str(head.name),
                "head_chosen": str(head.get("chosen"))}
    return {"head": str(head.name)}
