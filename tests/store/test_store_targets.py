"""Across episodes, a projection task's target columns are one layout: an episode lacking a
target modality is left out with its reason (it used to crash the join with a ValueError)."""

from __future__ import annotations

import pytest

from xperience_suite.store import open_store
from xperience_suite.tasks import get_task
from xperience_suite.tasks.across_episodes import build_across_episodes


@pytest.mark.parametrize("task", ["modality_reconstruction", "cross_modal_retrieval"])
def test_episode_lacking_a_target_modality_is_left_out(store_run, task):
    view = open_store(store_run[0])
    episodes = [(eid, view.window_set(eid)) for eid in ("ep_a", "ep_missing", "ep_b")]
    assert not episodes[1][1].block("video_stereo_right").available  # the missing video
    data = build_across_episodes(get_task(task), episodes,
                                 {"ep_a": "train", "ep_missing": "train", "ep_b": "test"},
                                 "all", {"label_fraction": 0.6, "test_fraction": 0.3})
    dropped = data.extra["dropped_episodes"]
    assert list(dropped) == ["ep_missing"] and "video_stereo_right" in dropped["ep_missing"]
    assert data.y.shape[1] == sum(episodes[0][1].block(b).dim for b in data.target_blocks)
    assert {s.split(":")[0] for s in data.sample_ids} == {"ep_a", "ep_b"}
