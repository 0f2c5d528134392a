"""Two gloo processes, each updating half the data, reach the single-process numbers."""

from __future__ import annotations

import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from xperience_suite.metrics import (MPJPE, BoundaryF1, RetrievalAtGallery, SegmentScores,
                                     build_metric_suite)

WORLD = 2
HANG_GUARD_S = 120


def shared_data() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    data = {
        "query": torch.randn(24, 5, generator=generator),
        "gallery": torch.randn(24, 5, generator=generator),
        "group": torch.arange(24) // 8,
        "joints_pred": torch.randn(6, 3, 4, 3, generator=generator),
        "joints_true": torch.randn(6, 3, 4, 3, generator=generator),
        "values_pred": torch.randn(10, 7, generator=generator),
        "values_true": torch.randn(10, 7, generator=generator),
        "class_scores": torch.randn(12, 9, generator=generator),
        "class_true": torch.tensor([0, 1, 1, 2, 3, 3, 3, 4, 5, 5, 6, 0]),
        "segment_pred": torch.tensor([[0, 0, 1, 1, 2, -1], [3, 3, 3, 1, 1, 1]]),
        "segment_true": torch.tensor([[0, 0, 0, 1, 2, -1], [3, 3, 1, 1, 1, 1]]),
    }
    data["joints_true"][4, 1, 2, 0] = float("nan")
    data["values_true"][8, 3] = float("nan")
    return data


def evaluate(rank: int, world: int) -> dict[str, float]:
    """Update every metric with shard ``rank`` of ``world`` and compute."""
    data = shared_data()
    shard = {name: value.chunk(world)[rank] for name, value in data.items()}
    retrieval, mpjpe, boundary = RetrievalAtGallery(), MPJPE(), BoundaryF1()
    retrieval.update(shard["query"], shard["gallery"], shard["group"])
    mpjpe.update(shard["joints_pred"], shard["joints_true"])
    regression = build_metric_suite("regression")
    regression.update(shard["values_pred"], shard["values_true"])
    boundaries = [(torch.tensor([12, 30]), torch.tensor([20]), 0),
                  (torch.tensor([]), torch.tensor([35, 90]), 0),
                  (torch.tensor([5, 61]), torch.tensor([60]), 1)]
    for pred, true, group in boundaries[rank::world]:
        boundary.update(pred.long(), true.long(), group=group)
    result = {f"retrieval_{k}": float(v) for k, v in retrieval.compute().items()}
    result.update({f"boundary_{k}": float(v) for k, v in boundary.compute().items()})
    result["mpjpe"] = float(mpjpe.compute())
    result.update(regression.compute())
    classification = build_metric_suite("classification", num_classes=9)
    classification.update(shard["class_scores"], shard["class_true"], scores=shard["class_scores"])
    result.update({f"class_{k}": v for k, v in classification.compute().items()})
    segments = SegmentScores()
    for pred, true in zip(shard["segment_pred"], shard["segment_true"]):
        segments.update(pred.numpy(), true.numpy())
    result.update({f"segment_{k}": float(v) for k, v in segments.compute().items()})
    return result


def _worker(rank: int, init_file: str, queue) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        result = evaluate(rank, WORLD)
        queue.put((rank, result))
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not built")
def test_two_ranks_match_one_process(tmp_path):
    context = mp.get_context("spawn")  # fork after torch has threads can deadlock
    queue = context.SimpleQueue()
    ranks = mp.start_processes(_worker, args=(str(tmp_path / "init"), queue), nprocs=WORLD,
                               start_method="spawn", join=False)
    deadline = time.monotonic() + HANG_GUARD_S  # a broken collective would otherwise hang forever
    while not ranks.join(timeout=max(0.0, deadline - time.monotonic())):
        if time.monotonic() >= deadline:
            for process in ranks.processes:
                process.kill()
            pytest.fail("the two metric ranks did not finish")
    results = dict(queue.get() for _ in range(WORLD))
    expected = evaluate(0, 1)
    for rank in range(WORLD):
        assert results[rank] == pytest.approx(expected, rel=1e-6)
    assert expected["masked_values"] == 1
