"""Retrieval MRR / top-k against hand-computed ranks."""

from __future__ import annotations

import math

import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.metrics import RetrievalAtGallery, gallery_ranks

# gallery 0, 1, 2; query i's positive is gallery i
GALLERY = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
# q0 = g0: rank 1. q1 is closer to g0 (0.894) than to g1 (0.447): rank 2.
# q2 = (0, 1) ties g0 and g2 at 0 and prefers g1 (1): pessimistic rank 3.
QUERY = torch.tensor([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])


def retrieve(query, gallery, group=None, **kw) -> dict[str, float]:
    metric = RetrievalAtGallery(**kw)
    metric.update(query, gallery, group)
    return {name: float(value) for name, value in metric.compute().items()}


def test_ranks_are_pessimistic_on_ties():
    assert gallery_ranks(QUERY, GALLERY).tolist() == [1, 2, 3]


def test_mrr_and_top_k():
    result = retrieve(QUERY, GALLERY)
    assert result == pytest.approx({"mrr": (1 + 1 / 2 + 1 / 3) / 3, "top1": 1 / 3,
                                    "top5": 1.0, "top10": 1.0})
    assert retrieve(QUERY, GALLERY, top_k=(2,)) == pytest.approx({"mrr": 11 / 18, "top2": 2 / 3})


def test_cosine_ignores_vector_length():
    assert retrieve(7.0 * QUERY, 0.1 * GALLERY) == pytest.approx(retrieve(QUERY, GALLERY))


def test_groups_rank_within_their_own_gallery():
    # groups {0, 1} and {2}: q2 meets only g2 (rank 1); q0, q1 keep ranks 1, 2
    result = retrieve(QUERY, GALLERY, torch.tensor([0, 0, 1]))
    assert result["mrr"] == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert result["top1"] == pytest.approx(2 / 3)


def test_constant_output_gets_the_worst_rank():
    result = retrieve(torch.ones(4, 3), torch.ones(4, 3))
    assert result["mrr"] == pytest.approx(1 / 4)
    assert result["top1"] == 0.0


def test_nan_query_ranks_last_instead_of_nan():
    query = QUERY.clone()
    query[0, 0] = float("nan")
    assert gallery_ranks(query, GALLERY).tolist() == [3, 2, 3]
    assert retrieve(query, GALLERY)["mrr"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 3) / 3)


def test_two_updates_equal_one_update():
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(30, 6, generator=generator)
    gallery = torch.randn(30, 6, generator=generator)
    group = torch.arange(30) // 10
    split = RetrievalAtGallery()
    split.update(query[:11], gallery[:11], group[:11])
    split.update(query[11:], gallery[11:], group[11:])
    whole = retrieve(query, gallery, group)
    assert {k: float(v) for k, v in split.compute().items()} == pytest.approx(whole)


def test_empty_gives_nan_and_bad_shapes_raise():
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert all(math.isnan(float(v)) for v in RetrievalAtGallery().compute().values())
    with pytest.raises(XperienceError, match="query"):
        RetrievalAtGallery().update(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(XperienceError, match="group"):
        RetrievalAtGallery().update(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(2))
