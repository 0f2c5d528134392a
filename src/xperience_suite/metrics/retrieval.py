"""Cross-modal retrieval over the test gallery: MRR and top-k accuracy by cosine similarity.

Each ``update(query, gallery)`` adds B pairs: query i's one positive is gallery item i (row i of
the same call). ``compute`` ranks every query against every gallery item collected so far (all
batches, all DDP ranks), or only against the items of its own ``group`` when group ids are given
(per-episode galleries; the ids must be unique across ranks).

Ranks are pessimistic: a query's rank is the number of gallery items of its group whose
similarity is >= the positive's, the positive included, so a tie never helps (a model that
outputs one constant vector gets the worst rank, not rank 1). A non-finite similarity counts as
-inf: a NaN query ranks its positive last; a NaN gallery item never outranks anything.

Views: the study ranks in the raw target space; a head may also score another space (the
z-scored one) by passing ``views={"zscored": (query, gallery)}`` to ``update``. A metric built
with ``view="zscored"`` ranks that pair instead and suffixes its keys (``mrr_zscored``); the
plain metric (``view=None``) ignores ``views``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from xperience_suite.errors import XperienceError

QUERY_CHUNK = 2048


def gallery_ranks(query: Tensor, gallery: Tensor, group: Tensor | None = None) -> Tensor:
    """Pessimistic 1-based rank of gallery item i for query i; ``(N, d), (N, d), (N,) -> (N,)``."""
    query = F.normalize(query.to(torch.float32), dim=-1)
    gallery = F.normalize(gallery.to(torch.float32), dim=-1)
    count = query.shape[0]
    ranks = torch.empty(count, dtype=torch.long, device=query.device)
    for start in range(0, count, QUERY_CHUNK):
        rows = torch.arange(start, min(start + QUERY_CHUNK, count), device=query.device)
        sim = query[rows] @ gallery.T
        sim = torch.where(torch.isfinite(sim), sim, torch.full_like(sim, float("-inf")))
        positive = sim[torch.arange(len(rows), device=sim.device), rows]
        beats = sim >= positive[:, None]
        if group is not None:
            beats &= group[rows, None] == group[None, :]
        ranks[rows] = beats.sum(dim=1)
    return ranks


class RetrievalAtGallery(Metric):
    """MRR and top-k accuracy of query-to-gallery retrieval; ``compute`` returns
    ``{"mrr", "top1", "top5", "top10"}`` (one ``top{k}`` per entry of ``top_k``)."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, top_k: Sequence[int] = (1, 5, 10), view: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.view = view
        self.suffix = f"_{view}" if view else ""
        if not top_k or any(int(k) < 1 for k in top_k):
            raise XperienceError("bad top-k list for retrieval", key="top_k",
                                 expected=f"positive integers, got {list(top_k)}")
        self.top_k = tuple(int(k) for k in top_k)
        self.add_state("query", default=[], dist_reduce_fx="cat")
        self.add_state("gallery", default=[], dist_reduce_fx="cat")
        self.add_state("group", default=[], dist_reduce_fx="cat")

    def update(self, query: Tensor, gallery: Tensor, group: Tensor | None = None,
               views: dict[str, tuple[Tensor, Tensor]] | None = None) -> None:
        """Add B pairs: ``query (B, d)``, its positive ``gallery (B, d)``, ``group (B,)`` ids
        (or this metric's ``view`` pair from ``views``; nothing when ``views`` lacks it)."""
        if self.view is not None:
            if not views or self.view not in views:
                return
            query, gallery = views[self.view]
        if query.ndim != 2 or query.shape != gallery.shape:
            raise XperienceError("query and gallery vectors must pair up row by row", key="query",
                                 expected=f"two (B, d) tensors of one shape, got "
                                          f"{tuple(query.shape)} and {tuple(gallery.shape)}")
        if group is None:
            group = torch.zeros(query.shape[0], dtype=torch.long, device=query.device)
        elif group.shape != (query.shape[0],):
            raise XperienceError("group ids must give one id per query", key="group",
                                 expected=f"shape ({query.shape[0]},), got {tuple(group.shape)}")
        self.query.append(query.detach())
        self.gallery.append(gallery.detach())
        self.group.append(group.detach().to(torch.long))

    def compute(self) -> dict[str, Tensor]:
        collected = not isinstance(self.query, list) or bool(self.query)
        query = dim_zero_cat(self.query) if collected else None
        if query is None or query.shape[0] == 0:
            if self.view is not None:  # the head never passed this view
                return {}
            nan = torch.tensor(float("nan"), dtype=torch.float64, device=self.device)
            return {f"mrr{self.suffix}": nan,
                    **{f"top{k}{self.suffix}": nan.clone() for k in self.top_k}}
        group = dim_zero_cat(self.group)
        grouped = bool((group != group[0]).any())
        ranks = gallery_ranks(query, dim_zero_cat(self.gallery), group if grouped else None)
        ranks = ranks.to(torch.float64)
        result = {f"mrr{self.suffix}": (1.0 / ranks).mean()}
        for k in self.top_k:
            result[f"top{k}{self.suffix}"] = (ranks <= k).to(torch.float64).mean()
        return result
