"""The experiment grids compose as documented; modality families drop only input blocks."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from xperience_suite.errors import XperienceError
from xperience_suite.features.variants import VARIANTS
from xperience_suite.features.registry import modality_families
from xperience_suite.runs import sweep_lists  # noqa: F401  (the experiments' list resolvers)
from xperience_suite.tasks import get_task, task_names
from xperience_suite.data.sources import load_window_set
from xperience_suite.tasks.inputs import feature_label, select_inputs, split_feature_label
from xperience_suite.tasks.registry import study_order

from .conftest import CONF


def _axes(overrides: list[str]) -> dict[str, list[str]]:
    """The swept values per key of an experiment, as the sweeper sees them (its task and family
    lists resolved from the registries)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
        params = dict(cfg.hydra.sweeper.params)
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return {o.key_or_group: list(o.sweep_string_iterator()) for o in parsed}


def _grid(overrides: list[str]) -> tuple[dict, int]:
    sizes = {k: len(v) for k, v in _axes(overrides).items()}
    total = 1
    for n in sizes.values():
        total *= n
    return sizes, total


def test_audio_ablation_is_every_task_by_6_variants_by_2_heads():
    sizes, total = _grid(["experiment=audio_ablation"])
    n = len(task_names())
    assert sizes == {"task": n, "features": 6, "head": 2} and total == n * 6 * 2


def test_experiment_task_axes_are_the_registry_tasks_in_the_study_order():
    for experiment in ("reference_suite", "audio_ablation", "modality_ablation"):
        assert _axes([f"experiment={experiment}"])["task"] == study_order(), experiment
    assert _axes(["experiment=modality_ablation"])["features.drop"] == \
        ["[]"] + [f"[{f}]" for f in modality_families()]


def test_audio_ablation_study_is_every_task_by_6_variants_with_ridge_and_study_metrics():
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=audio_ablation_study"],
                      return_hydra_config=True)
        params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()]
        parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
        axes = {o.key_or_group: list(o.sweep_string_iterator())
                for o in parser.parse_overrides(params)}  # the glob sweeps, as the sweeper sees them
        primary = {t: OmegaConf.to_container(compose(
            "train", overrides=["experiment=audio_ablation_study", f"task={t}"]).task,
            resolve=True)["primary_metric"] for t in axes["task"]}
    assert cfg.head.name == "ridge" and cfg.hydra.mode.name == "MULTIRUN"
    assert sorted(axes["task"]) == sorted(task_names())
    assert sorted(axes["features"]) == sorted(VARIANTS) and len(axes["features"]) == 6
    study = {"temporal_order": "macro_f1", "misalignment_detection": "macro_f1",
             "hand_trajectory_forecast": "mae", "modality_reconstruction": "mae",
             "cross_modal_retrieval": "mrr", "caption_grounding": "mrr"}
    for t, metric in primary.items():
        assert (metric or get_task(t).primary_metric) == study.get(t, get_task(t).primary_metric)


def test_modality_ablation_drops_each_family_once_plus_the_baseline():
    sizes, total = _grid(["experiment=modality_ablation"])
    n, families = len(task_names()), len(modality_families())
    assert sizes == {"task": n, "features.drop": families + 1, "head": 2}
    assert total == n * (families + 1) * 2


def test_launchers_and_callback_compose():
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                      return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2
    assert cfg.hydra.callbacks.sweep_report._target_.endswith("SweepReportCallback")
    assert list(cfg.features.drop) == []


def test_feature_labels_round_trip_and_reject_unknown_families():
    assert feature_label("all") == "all" and feature_label("all", ["hands", "video"]) == \
        "all-hands-video"
    assert split_feature_label("no_audio-camera_pose") == ("no_audio", ["camera_pose"])
    with pytest.raises(XperienceError, match="features.drop"):
        split_feature_label("all-hands-smell")


def test_dropping_a_family_removes_its_blocks_from_inputs_only(report_episode, report_cache):
    ws = load_window_set({"source": "episode", "root": str(report_episode)},
                         {"length": 20, "stride": 5})
    everything = select_inputs(ws, None, "all", "t")
    for family, blocks in modality_families().items():
        kept = select_inputs(ws, None, feature_label("all", [family]), "t")
        assert kept == [b for b in everything if b not in blocks], family
    assert "raw_logmel" not in select_inputs(ws, None, "raw_logmel_plus-audio", "t")
    with pytest.raises(XperienceError, match="without inputs"):
        select_inputs(ws, modality_families()["hands"], "all-hands", "t")
