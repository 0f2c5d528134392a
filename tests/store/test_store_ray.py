"""``executor=ray`` runs the same per-episode function: same shards as ``executor=local``."""

from __future__ import annotations

import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.store import open_store, run_extraction

pytestmark = pytest.mark.extras
ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray>=2.9')")


def test_ray_executor_matches_local(store_run, tmp_path):
    _, refs, _ = store_run
    chosen = [r for r in refs if r.episode_id in ("ep_a", "ep_corrupt")]
    try:
        report = run_extraction(chosen, tmp_path / "ray_store", executor="ray",
                                executor_options={"num_cpus": 2}, progress=False)
    except XperienceError as err:
        pytest.skip(f"ray cannot start in this sandbox: {err}")
    assert not ray.is_initialized()  # shut down after the run
    assert {r.episode_id: r.status for r in report.results} == {"ep_a": "done",
                                                                "ep_corrupt": "failed"}
    assert report.executor["name"] == "ray"
    ray_ws = open_store(tmp_path / "ray_store").window_set("ep_a")
    local_ws = open_store(store_run[0]).window_set("ep_a")
    np.testing.assert_allclose(ray_ws.X, local_ws.X, rtol=1e-5, atol=1e-6)
