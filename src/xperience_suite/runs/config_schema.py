"""The typed schema of the config groups, checked before any work.

Each group (``task``, ``head``, ``data``, ``windows``, ``split``, ``extract``, ``executor``) is a
dataclass: its fields' types are enforced by OmegaConf's structured configs (the typing Hydra's
own structured configs use), a field's ``rule`` bounds its value. Keys the schema does not name
pass unchecked (a head's or task's own settings); Hydra already refuses keys the composed config
lacks. ``check_config`` turns the first violation into one ``XperienceError`` line naming the key,
the value and what is allowed; ``ConfigCheckCallback`` checks every job of a multirun before the
first one starts. The resolvers the configs use are registered here too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from typing import (Any, Callable, Dict, List, Optional, Union, get_args, get_origin,
                    get_type_hints)

from hydra.experimental.callback import Callback
import torch
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..errors import XperienceError
from ..heads.contrastive import QUERY_TOWERS
from ..heads.label_text import ENCODERS
from ..heads.registry import LABEL_SPACES
from ..sample.options import PRESETS
from ..store.executors import EXECUTORS
from ..data.sources import SOURCES
from .epoch_progress import MODES, in_multirun

SPLITS = ("chronological", "episodes", "all")
DATA_SOURCES = (*SOURCES, "episodes")
ROOTED_SOURCES = ("episode", "windows", "episodes")  # data.root is required


def rule(test: Callable[[Any], bool], expected: str, default: Any = None):
    """A schema field whose (non-null) value must pass ``test``; ``expected`` says what is allowed."""
    return field(default=default, metadata={"test": test, "expected": expected})


def at_least(lo, kind: str = "an integer", default: Any = None):
    return rule(lambda v: v >= lo, f"{kind} >= {lo}", default)


def above(lo, kind: str = "a number"):
    return rule(lambda v: v > lo, f"{kind} > {lo}")


def one_of(choices, default: Any = None):
    return rule(lambda v: v in choices, "one of " + ", ".join(map(str, choices)), default)


def auto_or(test: Callable[[Any], bool], expected: str):
    """``auto`` or a number passing ``test``."""
    return rule(lambda v: v == "auto" or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                           and test(v)), f"auto or {expected}")


@dataclass
class TaskSchema:
    name: str = MISSING
    label_fraction: float = rule(lambda v: 0 < v <= 1, "a fraction in (0, 1]", MISSING)
    test_fraction: float = rule(lambda v: 0 < v < 1, "a fraction in (0, 1)", MISSING)
    horizon: Optional[int] = at_least(1)
    offset: Optional[int] = at_least(0)
    shift: Optional[int] = at_least(1)
    tolerance: Optional[int] = at_least(0)
    primary_metric: Optional[str] = None


@dataclass
class HeadSchema:
    name: str = MISSING
    max_epochs: Optional[int] = at_least(1)
    batch_size: Optional[int] = at_least(1)
    lr: Optional[float] = above(0)
    weight_decay: Optional[float] = at_least(0, "a number")
    hidden: Optional[int] = at_least(1)
    layers: Optional[int] = at_least(0)
    dropout: Optional[float] = rule(lambda v: 0 <= v < 1, "a fraction in [0, 1)")
    gd_steps: Optional[int] = at_least(1)
    l2: Optional[float] = at_least(0, "a number")
    ridge_l2: Optional[float] = at_least(0, "a number")
    pos_weight_min: Optional[float] = above(0)
    pos_weight_max: Optional[float] = above(0)
    decision_threshold: Optional[float] = rule(lambda v: 0 < v < 1, "a probability in (0, 1)")
    label_space: Optional[str] = one_of(tuple(LABEL_SPACES))
    text_encoder: Optional[str] = one_of(ENCODERS)
    embedding_dim: Optional[int] = at_least(1)
    ngram_range: Optional[List[int]] = rule(lambda v: len(v) == 2 and 1 <= v[0] <= v[1],
                                            "[lo, hi] with 1 <= lo <= hi")
    temperature: Optional[float] = above(0)
    embedding_loss: Optional[str] = one_of(("cosine", "ce"))
    embedding_base: Optional[str] = one_of(("ridge", "none"))
    unseen_margin: Optional[Any] = auto_or(lambda v: v >= 0, "a number >= 0")
    rank: Optional[int] = at_least(1)  # head=siamese (heads/siamese.py)
    encoder_hidden: Optional[int] = at_least(0)
    mix_hidden: Optional[int] = at_least(0)
    gate_init: Optional[float] = above(0)
    order_gate_l1: Optional[float] = at_least(0, "a number")
    align_gate_l1: Optional[float] = at_least(0, "a number")
    query_tower: Optional[str] = one_of(QUERY_TOWERS)
    balance: Optional[float] = rule(lambda v: 0 <= v <= 1, "a number in [0, 1]")  # head=balanced
    context: Optional[int] = at_least(1)  # head=temporal: windows before the sample
    kernel_size: Optional[int] = at_least(1)  # head=temporal
    linear_weight: Optional[float] = rule(lambda v: 0 <= v <= 1, "a number in [0, 1]")  # blend
    linear_gd_steps: Optional[int] = at_least(1)  # head=blend's linear member
    linear_lr: Optional[float] = above(0)
    linear_l2: Optional[float] = at_least(0, "a number")


@dataclass
class DataSchema:
    source: str = one_of(DATA_SOURCES, MISSING)
    root: Optional[str] = None
    preset: Optional[str] = one_of(tuple(PRESETS))
    seed: Optional[int] = None
    cache_dir: Optional[str] = None
    manifest: Optional[str] = None
    store: Optional[str] = None


@dataclass
class WindowsSchema:
    length: int = at_least(1, default=MISSING)
    stride: int = at_least(1, default=MISSING)


@dataclass
class SplitSchema:
    name: str = one_of(SPLITS, MISSING)
    fractions: Optional[Dict[str, float]] = rule(
        lambda v: set(v) <= {"train", "val", "test"} and all(0 <= f <= 1 for f in v.values())
        and v.get("train", 0) > 0 and v.get("test", 0) > 0 and abs(sum(v.values()) - 1) < 1e-6,
        "train/val/test fractions in [0, 1], train and test > 0, summing to 1")
    seed: Optional[int] = None
    purge: Optional[Any] = auto_or(lambda v: isinstance(v, int) and v >= 0, "an integer >= 0")
    val_fraction: Optional[float] = rule(lambda v: 0 < v < 1, "a fraction in (0, 1)")
    val_folds: Optional[int] = at_least(1)


@dataclass
class ExtractSchema:
    raw_logmel: bool = True
    video_size: Optional[int] = at_least(1)
    force: bool = False
    feature_cache: bool = False
    progress: bool = True
    video_resize: Optional[str] = one_of(("exact", "decoder"))


@dataclass
class ExecutorSchema:
    name: str = one_of(tuple(EXECUTORS), MISSING)
    workers: Optional[int] = at_least(1)
    threads_per_worker: Optional[int] = at_least(1)
    num_cpus: Optional[int] = at_least(1)
    start_method: Optional[str] = one_of(("forkserver", "spawn", "fork"))
    address: Optional[str] = None


@dataclass
class RootSchema:
    """Top-level keys (only those an entry point names are checked)."""
    seed: int = MISSING
    ckpt_path: str = field(default=MISSING, metadata={
        "expected": "ckpt_path=outputs/<run>/checkpoints/last.ckpt"})
    progress: str = one_of(MODES, "auto")
    imports: List[str] = field(default_factory=list)  # user modules (plugins.import_modules)


GROUPS: dict[str, type] = {"task": TaskSchema, "head": HeadSchema, "data": DataSchema,
                           "windows": WindowsSchema, "split": SplitSchema,
                           "extract": ExtractSchema, "executor": ExecutorSchema}

# what each entry point checks (groups, then top-level keys); optional groups may be null
ENTRIES: dict[str, dict] = {
    "train": {"groups": ("task", "head", "data", "windows", "split", "extract", "executor"),
              "keys": ("seed", "progress", "imports")},
    "evaluate": {"groups": ("data", "split"), "keys": ("ckpt_path", "imports")},
    "extract": {"groups": ("data", "windows", "extract", "executor"), "keys": ("imports",)},
}
OPTIONAL_GROUPS = {"train": ("extract", "executor"), "evaluate": ("data", "split")}


def _describe(tp) -> str:
    """``Optional[float]`` -> ``a number``."""
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) is Union and len(args) == 1:
        return _describe(args[0])
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    if get_origin(tp) in (list, List):
        return f"a list of {_describe(args[0]).split(' ', 1)[1]}s"
    return str(tp).replace("typing.", "")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def check_group(prefix: str, node, schema: type, only=None) -> dict:
    """Check one group's node against its schema dataclass (``only``: just these fields);
    return its values, or raise one ``XperienceError``."""
    where = (lambda key: f"{prefix}.{key}") if prefix else str
    try:
        values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) \
            else dict(node)
    except OmegaConfBaseException as err:
        raise XperienceError(f"cannot resolve the config: {_first_line(err)}",
                             key=where(err.key) if getattr(err, "key", None) else prefix) from None
    declared = {f.name: f for f in fields(schema) if only is None or f.name in only}
    types = get_type_hints(schema)
    for key, f in declared.items():
        if f.default == MISSING and values.get(key, MISSING) in (MISSING, None):
            raise XperienceError("missing mandatory value", key=where(key), expected=f.metadata.get(
                "expected", f"{where(key)}=<{_describe(types[key])}>"))
    known = {k: v for k, v in values.items() if k in declared}
    try:
        typed = OmegaConf.to_container(OmegaConf.merge(
            OmegaConf.structured(schema), known))
    except OmegaConfBaseException as err:
        key = str(err.key if err.key is not None else "").split("[")[0]
        key = key if key in declared else str(err.full_key).split("[")[0].split(".")[0]
        expected = _describe(types[key]) if key in declared else _first_line(err)
        raise XperienceError(f"invalid value {known.get(key)!r}", key=where(key),
                             expected=expected) from None
    for key in known:
        test, expected = (declared[key].metadata.get(k) for k in ("test", "expected"))
        value = typed[key]
        if test is None or value is None or value == MISSING:
            continue
        try:
            ok = bool(test(value))
        except (TypeError, ValueError, AttributeError):
            ok = False
        if not ok:
            raise XperienceError(f"invalid value {values[key]!r}", key=where(key),
                                 expected=expected)
    return values


def _check_across(groups: dict[str, dict]) -> None:
    """Rules between two keys."""
    data = groups.get("data") or {}
    if data.get("source") in ROOTED_SOURCES and data.get("root") in (None, "", MISSING):
        raise XperienceError(f"data={data['source']} reads a folder, none given",
                             key="data.root", expected="data.root=/path/to/folder")
    head = groups.get("head") or {}
    lo, hi = head.get("pos_weight_min"), head.get("pos_weight_max")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        raise XperienceError(f"invalid value {lo!r}", key="head.pos_weight_min",
                             expected=f"a number <= head.pos_weight_max ({hi})")


def check_config(cfg, entry: str) -> None:
    """Check the composed config of entry point ``entry`` (``train``, ``evaluate``, ``extract``)
    against the schema; raise one ``XperienceError`` line at the first violation."""
    spec = ENTRIES[entry]
    top = {k: OmegaConf.select(cfg, k, throw_on_missing=False) for k in spec["keys"] if k in cfg}
    check_group("", top, RootSchema, only=spec["keys"])
    groups = {}
    for group in spec["groups"]:
        node = cfg.get(group)
        if node is None:
            if group in OPTIONAL_GROUPS.get(entry, ()):
                continue
            raise XperienceError("missing config group", key=group,
                                 expected=f"{group}=<one of conf/{group}/*.yaml>")
        groups[group] = check_group(group, node, GROUPS[group])
    _check_across(groups)
    check_accelerator(OmegaConf.select(cfg, "trainer.accelerator", default=None))


#: accelerator names that need a CUDA device (``trainer=gpu``)
CUDA_ACCELERATORS = ("gpu", "cuda")


def check_accelerator(accelerator) -> None:
    """Refuse ``trainer.accelerator=gpu`` on a machine without a CUDA device before any work (not
    after the features are extracted, when Lightning would refuse it)."""
    if str(accelerator) in CUDA_ACCELERATORS and not torch.cuda.is_available():
        raise XperienceError("no CUDA device is visible on this machine",
                             key="trainer.accelerator",
                             expected="trainer=cpu, or trainer.accelerator=auto (a GPU when one "
                                      "is visible), or a machine with a GPU")


class ConfigCheckCallback(Callback):
    """Checks a multirun's jobs before the first starts: every value of every swept key, the
    other keys at their first value (each job checks itself again when it starts). A bad value
    prints one line and exits with status 2."""

    def __init__(self, entry: str = "train"):
        self.entry = entry

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            for overrides in sweep_probes(config):
                try:
                    job = _load_job(config, overrides)
                    check_config(job, self.entry)
                except XperienceError as err:
                    raise XperienceError(f"{err} in the job with {' '.join(overrides)}") from None
        except XperienceError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)


def _load_job(config: DictConfig, overrides: list[str]) -> DictConfig:
    from hydra.core.global_hydra import GlobalHydra

    try:
        return GlobalHydra.instance().config_loader().load_sweep_config(config, overrides)
    except Exception as err:  # Hydra's own composition errors (unknown option or key)
        raise XperienceError(f"cannot compose: {_first_line(err)}") from None


def sweep_probes(config: DictConfig) -> list[list[str]]:
    """Override lists covering every value of every swept key (the basic sweeper's grid, one key
    varied at a time): 1 + sum(values - 1) compositions instead of the product."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    sweeper = config.hydra.get("sweeper") or {}
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return []  # other sweepers propose values as they go: each job checks its own
    try:  # the experiment files' task/family lists resolve here (runs/sweep_lists.py)
        params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    except OmegaConfBaseException as err:
        raise XperienceError(f"cannot resolve the sweep: {_first_line(err)}",
                             key="hydra.sweeper.params") from None
    args = params + list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    try:
        parsed = parser.parse_overrides(args)
    except Exception as err:
        raise XperienceError(f"cannot parse the overrides: {_first_line(err)}") from None
    per_key = {}  # a later value of a key replaces an earlier one, as in the basic sweeper
    for ov in parsed:
        per_key[ov.get_key_element()] = [job[0] for job in
                                         BasicSweeper.split_arguments([ov], None)[0]]
    choices = list(per_key.values())
    base = [c[0] for c in choices]
    probes = [base]
    for i, values in enumerate(choices):
        probes += [base[:i] + [v] + base[i + 1:] for v in values[1:]]
    return probes


def run_group(default: str) -> str:
    """``${xperience.run_group:<default>}``: a multirun job's sweep folder (one W&B group per
    sweep), else ``default`` (a single run's own folder)."""
    from hydra.core.hydra_config import HydraConfig

    return str(HydraConfig.get().sweep.dir) if in_multirun() else str(default)


OmegaConf.register_new_resolver("xperience.run_group", run_group, replace=True)


def config_groups(*groups: str) -> str:
    """``${xperience.config_groups:data,executor}`` in an entry point's ``hydra.help.template``:
    the options of the groups it uses (Hydra's own list holds every group under ``conf/``)."""
    from hydra.core.global_hydra import GlobalHydra

    loader = GlobalHydra.instance().config_loader()
    return "\n".join(f"{g}: {', '.join(sorted(loader.get_group_options(g)))}" for g in groups)


OmegaConf.register_new_resolver("xperience.config_groups", config_groups, replace=True)
