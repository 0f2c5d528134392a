"""Hand trajectory forecast: both hands' joints for the frames after the window, root-relative."""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from .base import Task, TaskData, chronological_split, window_span
from .inputs import select_inputs
from .registry import register_task

#: Last frames of each window kept as ``extra["observed_joints"]`` (the constant-velocity
#: extrapolation of ``head=residual`` needs the last position and the last step).
OBSERVED_FRAMES = 2


@register_task
class HandTrajectoryForecast(Task):
    name = "hand_trajectory_forecast"
    display_name = "Hand trajectory forecast"
    study_rank = 5
    kind = "trajectory"
    primary_metric = "mpjpe"
    higher_is_better = False
    needs_frames = True

    def build(self, ws, variant, params):
        frames = self.require_frames(ws)
        horizon = int(params["horizon"])
        for side in ("hand_left", "hand_right"):
            if getattr(frames, side) is None:
                raise XperienceError(f"task '{self.name}' forecasts both hands but the episode has "
                                     f"no {side.replace('_', ' ')} joints", key=f"hand_mocap/{side}",
                                     expected="hand_mocap/left_joints_3d and right_joints_3d")
        keep = np.nonzero(ws.ends + horizon <= ws.num_frames)[0]
        if not len(keep):
            first_end = int(ws.ends.min()) if len(ws.ends) else ws.num_frames
            raise XperienceError(f"task '{self.name}' has no window with {horizon} frames after it: "
                                 f"the episode has {ws.num_frames} frames", key="task.horizon",
                                 expected=f"an episode of at least {first_end + horizon} frames, "
                                          f"or a smaller horizon")
        future = ws.ends[keep, None] + np.arange(horizon)[None, :]  # (n, H) frame ids
        hands = np.concatenate([frames.hand_left, frames.hand_right], axis=1)  # (N, 42, 3)
        warnings = []
        units = "the dataset's coordinate unit (the annotation states none), root-relative"
        if frames.body_root is not None:
            hands = hands - frames.body_root[:, None, :]
        else:
            warnings.append("no body keypoints: hand targets are not root-relative")
            units = "the dataset's coordinate unit (the annotation states none), camera frame"
        y = hands[future].reshape(len(keep), -1).astype(np.float32)  # (n, H*42*3)
        names = select_inputs(ws, None, variant, self.name)
        train, test = chronological_split(len(keep), params["test_fraction"], self.name)
        data = TaskData(task=self.name, kind=self.kind, x=ws.select(names)[keep], y=y,
                        train_idx=train, test_idx=test,
                        sample_ids=[f"{ws.episode_id}:w{int(i)}" for i in keep],
                        input_blocks=names, target_shape=(horizon, 42, 3),
                        info={"horizon": horizon, "units": units,
                              "dropped_windows": int(ws.num_windows - len(keep))},
                        warnings=warnings)
        data.extra["window_index"] = keep
        observed = np.maximum(ws.ends[keep, None] + np.arange(-OBSERVED_FRAMES, 0)[None, :],
                              ws.starts[keep, None])  # the window's last frames, never before it
        data.extra["observed_joints"] = hands[observed].astype(np.float32)  # (n, K, 42, 3)
        data.frame_span = self.frame_span(ws, keep, params)
        return data

    def join_episode_extras(self, data, test_parts):
        """Also records the test episodes' target ``units`` (metrics.json)."""
        super().join_episode_extras(data, test_parts)
        if test_parts:
            data.info["units"] = test_parts[0].info["units"]

    def frame_span(self, ws, windows, params):
        """The window and the ``horizon`` future frames its target reads."""
        return window_span(ws, windows, after=int(params["horizon"]))
