"""The six audio variants as operations on block lists."""

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.features.registry import AUDIO_BLOCK, all_blocks, get_block, load_contract
from xperience_suite.features.variants import VARIANTS, apply_variant

from tests.conftest import CONTRACT_DIM, LOGMEL_DIM

AUDIO_DIM = get_block(AUDIO_BLOCK).dim
EXPECTED_DIMS = {"all": CONTRACT_DIM, "no_audio": CONTRACT_DIM - AUDIO_DIM,
                 "audio_only": AUDIO_DIM, "raw_logmel_only": LOGMEL_DIM,
                 "raw_logmel_replace": CONTRACT_DIM - AUDIO_DIM + LOGMEL_DIM,
                 "raw_logmel_plus": CONTRACT_DIM + LOGMEL_DIM}


def test_variant_dims_on_the_full_block_list():
    dims = {b.name: b.dim for b in all_blocks()}
    names = [b.name for b in all_blocks()]
    assert set(VARIANTS) == set(EXPECTED_DIMS)
    for variant, want in EXPECTED_DIMS.items():
        assert sum(dims[n] for n in apply_variant(names, variant)) == want, variant


def test_variant_positions():
    contract = [e["name"] for e in load_contract()]
    names = contract + ["raw_logmel"]
    audio = contract.index("audio_fisheye_cam0_aac")
    assert apply_variant(names, "all") == contract
    replaced = apply_variant(names, "raw_logmel_replace")
    assert replaced[audio] == "raw_logmel" and "audio_fisheye_cam0_aac" not in replaced
    plus = apply_variant(names, "raw_logmel_plus")
    assert plus[audio:audio + 2] == ["audio_fisheye_cam0_aac", "raw_logmel"]
    assert len(plus) == len(contract) + 1


def test_variants_on_a_task_selection():
    motion = ["hand_left_joints", "imu_accel_gyro"]
    assert apply_variant(motion + ["audio_fisheye_cam0_aac"], "raw_logmel_replace") == \
        motion + ["raw_logmel"]
    assert apply_variant(motion, "raw_logmel_plus") == motion
    assert apply_variant(motion, "audio_only") == []


def test_unknown_variant_is_an_error():
    with pytest.raises(XperienceError, match="features"):
        apply_variant(["calibration"], "everything")
