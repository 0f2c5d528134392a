"""The experiment grids compose as documented; modality families drop only input blocks."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from xperience_suite.errors import XperienceError
from xperience_suite.features.variants import VARIANTS
from xperience_suite.tasks import get_task, task_names
from xperience_suite.tasks.inputs import (MODALITY_FAMILIES, feature_label, select_inputs,
                                          split_feature_label)
from xperience_suite.data.sources import load_window_set

from .conftest import CONF


def _grid(overrides: list[str]) -> tuple[dict, int]:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    params = dict(cfg.hydra.sweeper.params)
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    sizes = {o.key_or_group: len(list(o.sweep_iterator())) for o in parsed}
    total = 1
    for n in sizes.values():
        total *= n
    return sizes, total


def test_audio_ablation_is_12_tasks_by_6_variants_by_2_heads():
    sizes, total = _grid(["experiment=audio_ablation"])
    assert sizes == {"task": 12, "features": 6, "head": 2} and total == 144


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
    assert sorted(axes["task"]) == sorted(task_names()) and len(axes["task"]) == 12
    assert sorted(axes["features"]) == sorted(VARIANTS) and len(axes["features"]) == 6
    study = {"temporal_order": "macro_f1", "misalignment_detection": "macro_f1",
             "hand_trajectory_forecast": "mae", "modality_reconstruction": "mae",
             "cross_modal_retrieval": "mrr", "caption_grounding": "mrr"}
    for t, metric in primary.items():
        assert (metric or get_task(t).primary_metric) == study.get(t, get_task(t).primary_metric)


def test_modality_ablation_drops_each_family_once_plus_the_baseline():
    sizes, total = _grid(["experiment=modality_ablation"])
    assert sizes == {"task": 12, "features.drop": len(MODALITY_FAMILIES) + 1, "head": 2}
    assert total == 12 * 11 * 2


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
    for family, blocks in MODALITY_FAMILIES.items():
        kept = select_inputs(ws, None, feature_label("all", [family]), "t")
        assert kept == [b for b in everything if b not in blocks], family
    assert "raw_logmel" not in select_inputs(ws, None, "raw_logmel_plus-audio", "t")
    with pytest.raises(XperienceError, match="without inputs"):
        select_inputs(ws, MODALITY_FAMILIES["hands"], "all-hands", "t")
