"""Camera pose blocks: translation relative to the window's first frame, rotation matrix."""

from __future__ import annotations

import numpy as np

from .context import BlockContext
from .hands import _frames
from .registry import block


@block("camera_translation", 21, "frame", family="camera_pose", role="motion",
       relative_to_window_start=True)
def camera_translation(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 3)`` ``t_c2w``; the window statistics subtract the window's first ``t_c2w``."""
    return _frames(ctx.episode.t_c2w_all, ctx.num_frames, (3,), "t_c2w_all")


@block("camera_rotation_matrix", 63, "frame", family="camera_pose", role="motion")
def camera_rotation(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 9)`` ``R_c2w`` flattened row by row."""
    R = _frames(ctx.episode.R_c2w_all, ctx.num_frames, (3, 3), "R_c2w_all")
    return None if R is None else R.reshape(ctx.num_frames, 9)
