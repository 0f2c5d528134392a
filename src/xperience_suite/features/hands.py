"""Hand joint blocks: each hand's 21 joints minus the body root joint of the same frame.

Choice: when the episode has body keypoints (the reader aligns them to every frame, so they cover
every window) the root ``keypoints[:, 0]`` is subtracted; without body data the raw camera-frame
joints are used for the whole episode. A frame whose root is non-finite gives non-finite values,
which become 0 before the statistics.
"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from .context import BlockContext
from .registry import block


def _frames(arr: np.ndarray | None, n: int, tail: tuple[int, ...], key: str) -> np.ndarray | None:
    """``arr`` as float64 ``(n, *tail)``; shape errors name the array."""
    if arr is None:
        return None
    a = np.asarray(arr, dtype=np.float64)
    if a.shape != (n, *tail):
        raise XperienceError("per-frame array has the wrong shape", key=key,
                             expected=f"{(n, *tail)}, got {a.shape}")
    return a


def hand_signal(joints: np.ndarray | None, body_keypoints: np.ndarray | None,
                n: int, key: str) -> np.ndarray | None:
    """``joints (N, 21, 3)`` (minus ``body_keypoints[:, 0]`` when given) -> ``(N, 63)``."""
    j = _frames(joints, n, (21, 3), key)
    if j is None:
        return None
    body = _frames(body_keypoints, n, (52, 3), "full_body_mocap/keypoints")
    if body is not None:
        j = j - body[:, None, 0, :]
    return j.reshape(n, 63)


@block("hand_left_joints", 441, "frame", family="hands", role="motion")
def hand_left(ctx: BlockContext) -> np.ndarray | None:
    ep = ctx.episode
    return hand_signal(ep.hand_left_joints, ep.body_keypoints, ep.num_frames,
                       "hand_mocap/left_joints_3d")


@block("hand_right_joints", 441, "frame", family="hands", role="motion")
def hand_right(ctx: BlockContext) -> np.ndarray | None:
    ep = ctx.episode
    return hand_signal(ep.hand_right_joints, ep.body_keypoints, ep.num_frames,
                       "hand_mocap/right_joints_3d")
