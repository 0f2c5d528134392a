"""Named block groups and the input selection of a task under a feature variant."""

from __future__ import annotations

from ..errors import XperienceError
from ..features.variants import apply_variant
from ..windows.window_set import WindowSet

AUDIO_BLOCK = "audio_fisheye_cam0_aac"
LOGMEL_BLOCK = "raw_logmel"
TEXT_BLOCK = "caption_objects_interaction_text"
CONTACT_BLOCK = "body_contacts"
MOTION_BLOCKS = ["hand_left_joints", "hand_right_joints", "body_joints", "body_contacts",
                 "camera_translation", "camera_rotation_matrix", "imu_accel_gyro"]
VISUAL_BLOCKS = ["depth_confidence", "video_fisheye_cam0", "video_fisheye_cam1",
                 "video_fisheye_cam2", "video_fisheye_cam3", "video_stereo_left",
                 "video_stereo_right"]
#: Modality families dropped one at a time by ``features.drop`` (the modality ablation).
MODALITY_FAMILIES: dict[str, list[str]] = {
    "hands": ["hand_left_joints", "hand_right_joints"],
    "body": ["body_joints"],
    "contacts": [CONTACT_BLOCK],
    "camera_pose": ["camera_translation", "camera_rotation_matrix"],
    "imu": ["imu_accel_gyro"],
    "depth": ["depth_confidence"],
    "video": VISUAL_BLOCKS[1:],
    "audio": [AUDIO_BLOCK, LOGMEL_BLOCK],
    "caption_text": [TEXT_BLOCK],
    "static": ["slam_point_cloud", "calibration"],
}
DROP_SEP = "-"  # "all-hands-video": variant "all" without the hands and video families


def feature_label(variant: str, drop: list[str] | tuple[str, ...] = ()) -> str:
    """The name a run's features go by: the variant, then each dropped family after a ``-``."""
    return DROP_SEP.join([variant, *drop])


def split_feature_label(label: str) -> tuple[str, list[str]]:
    """``"all-hands"`` -> ``("all", ["hands"])``; unknown families raise ``XperienceError``."""
    variant, *drop = label.split(DROP_SEP)
    unknown = [f for f in drop if f not in MODALITY_FAMILIES]
    if unknown:
        raise XperienceError(f"unknown modality families {unknown} in features.drop",
                             key="features.drop", expected=f"names among {list(MODALITY_FAMILIES)}")
    return variant, drop


def base_blocks(ws: WindowSet) -> list[str]:
    """The window vector's blocks as extracted/published (the variant adds raw log-mel itself)."""
    return [n for n in ws.block_names if n != LOGMEL_BLOCK] or list(ws.block_names)


def select_inputs(ws: WindowSet, wanted: list[str] | None, variant: str, task: str,
                  side: str = "inputs") -> list[str]:
    """Blocks a task reads: ``wanted`` (None = the whole window vector) that the feature set has,
    with the feature variant applied inside that selection, then the dropped modality families
    (``variant`` may be a ``feature_label`` such as ``"all-hands"``)."""
    present = base_blocks(ws)
    chosen = present if wanted is None else [b for b in wanted if b in present]
    base_variant, drop = split_feature_label(variant)
    dropped = {b for f in drop for b in MODALITY_FAMILIES[f]}
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
