"""Lists derived from the registries hold what the hand-written lists held before them."""

from __future__ import annotations

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.features import registry
from xperience_suite.features.registry import (ROLES, BlockDef, all_blocks, contract_names,
                                               feature_modules, load_contract,
                                               modality_families, role_blocks)
from xperience_suite.runs.sweep_lists import drop_one_family, sweep_tasks
from xperience_suite.store.executors import _preload
from xperience_suite.tasks.registry import study_order, task_names

# the lists as tasks/inputs.py, report/ablation.py, store/executors.py and the experiment files
# wrote them out before they were derived
MOTION_BLOCKS = ["hand_left_joints", "hand_right_joints", "body_joints", "body_contacts",
                 "camera_translation", "camera_rotation_matrix", "imu_accel_gyro"]
VISUAL_BLOCKS = ["depth_confidence", "video_fisheye_cam0", "video_fisheye_cam1",
                 "video_fisheye_cam2", "video_fisheye_cam3", "video_stereo_left",
                 "video_stereo_right"]
MODALITY_FAMILIES = {
    "hands": ["hand_left_joints", "hand_right_joints"],
    "body": ["body_joints"],
    "contacts": ["body_contacts"],
    "camera_pose": ["camera_translation", "camera_rotation_matrix"],
    "imu": ["imu_accel_gyro"],
    "depth": ["depth_confidence"],
    "video": VISUAL_BLOCKS[1:],
    "audio": ["audio_fisheye_cam0_aac", "raw_logmel"],
    "caption_text": ["caption_objects_interaction_text"],
    "static": ["slam_point_cloud", "calibration"],
}
STUDY_ORDER = ["timeline_action", "timeline_subtask", "transition_detection", "next_action",
               "hand_trajectory_forecast", "contact_prediction", "object_relevance",
               "caption_grounding", "cross_modal_retrieval", "modality_reconstruction",
               "temporal_order", "misalignment_detection"]
DROPS = "[],[hands],[body],[contacts],[camera_pose],[imu],[depth],[video],[audio],[caption_text]," \
    "[static]"
FEATURE_MODULES = {"audio", "body", "camera", "depth", "hands", "imu", "logmel", "static", "text",
                   "video"}


def test_roles_and_families_are_the_former_lists():
    assert role_blocks("motion") == MOTION_BLOCKS and role_blocks("visual") == VISUAL_BLOCKS
    assert modality_families() == MODALITY_FAMILIES
    assert list(modality_families()) == list(MODALITY_FAMILIES)  # the same order
    assert drop_one_family() == DROPS.split(",")
    assert {b.role for b in all_blocks()} == set(ROLES)


def test_feature_modules_are_the_former_preload_list():
    assert {m.rsplit(".", 1)[1] for m in feature_modules()} == FEATURE_MODULES
    assert _preload()[2:] == feature_modules()


def test_study_order_and_the_suite_task_axis():
    assert study_order() == STUDY_ORDER
    assert sweep_tasks(task_names() + ["hand_forecast", "my_task"]) == STUDY_ORDER + ["my_task"]


def test_blocks_follow_the_contract_then_the_package_extras():
    contract = load_contract()
    assert [b.name for b in all_blocks()] == contract_names() + ["raw_logmel"]
    assert [b.dim for b in all_blocks()][:len(contract)] == [e["dim"] for e in contract]
    assert contract[-1]["end"] == sum(e["dim"] for e in contract)  # contiguous


def test_a_block_outside_the_contract_is_an_extra_after_the_package_ones(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    mine = BlockDef("my_block", 7, "frame", compute=lambda ctx: None, family="mine",
                    role="motion")
    registry.register(mine)
    assert [b.name for b in all_blocks()][-2:] == ["raw_logmel", "my_block"]
    assert modality_families()["mine"] == ["my_block"] and list(modality_families())[-1] == "mine"
    assert role_blocks("motion") == MOTION_BLOCKS + ["my_block"]
    assert mine.module not in feature_modules()


@pytest.mark.parametrize("options, expected", [({"family": "x", "role": "smell"}, "role"),
                                               ({"family": "", "role": "motion"}, "family"),
                                               ({"family": "a-b", "role": "motion"}, "family")])
def test_a_block_must_declare_its_family_and_role(monkeypatch, options, expected):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    with pytest.raises(XperienceError, match=expected):
        registry.register(BlockDef("bad", 7, "frame", compute=lambda ctx: None, **options))
