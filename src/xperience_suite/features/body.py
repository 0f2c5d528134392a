"""Body blocks: SMPL-H keypoints relative to their root joint, and per-joint contacts."""

from __future__ import annotations

import numpy as np

from .context import BlockContext
from .hands import _frames
from .registry import CONTACT_BLOCK, block


@block("body_joints", 1092, "frame", family="body", role="motion")
def body_joints(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 156)``: keypoints ``(N, 52, 3)`` minus joint 0 of the same frame."""
    kp = _frames(ctx.episode.body_keypoints, ctx.num_frames, (52, 3), "full_body_mocap/keypoints")
    if kp is None:
        return None
    return (kp - kp[:, :1]).reshape(ctx.num_frames, 156)


@block(CONTACT_BLOCK, 147, "frame", family="contacts", role="motion")
def body_contacts(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 21)`` contact flags/probabilities."""
    return _frames(ctx.episode.body_contacts, ctx.num_frames, (21,), "full_body_mocap/contacts")
