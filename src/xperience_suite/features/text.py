"""Caption text block: a signed hashed bag of words over each frame's objects and interaction.

Never the action or sub-task text (that is the target of several tasks). Tokens ``[a-z0-9_]+`` of
the lower-cased text (objects joined by spaces, then the interaction); per token
``d = blake2b(token, digest_size=8)``, bucket ``int.from_bytes(d[0:4], "little") % 128``, +1 when
``d[4]`` is odd else -1; L2-normalised when non-zero.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

from .context import BlockContext, fit_frames
from .registry import TEXT_BLOCK, block

TEXT_DIM = 128
TOKEN = re.compile(r"[a-z0-9_]+")


@lru_cache(maxsize=65536)
def token_bucket(token: str) -> tuple[int, float]:
    d = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(d[0:4], "little") % TEXT_DIM, (1.0 if d[4] % 2 else -1.0)


def frame_text(objects: list[str], interaction: str) -> str:
    return " ".join([" ".join(objects), interaction or ""]).strip()


def hashed_text(text: str) -> np.ndarray:
    """``(128,)`` float64 signed hashed bag of words of ``text``."""
    v = np.zeros(TEXT_DIM, dtype=np.float64)
    for tok in TOKEN.findall(text.lower()):
        bucket, sign = token_bucket(tok)
        v[bucket] += sign
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


@block(TEXT_BLOCK, 896, "frame", family="caption_text", role="text")
def caption_text(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 128)``; repeated texts are hashed once."""
    cap = ctx.episode.captions
    if cap is None:
        return None
    texts = [frame_text(o, i) for o, i in zip(cap.objects, cap.interaction)]
    unique = {t: i for i, t in enumerate(dict.fromkeys(texts))}
    table = np.stack([hashed_text(t) for t in unique]) if unique else np.zeros((0, TEXT_DIM))
    rows = table[[unique[t] for t in texts]] if texts else np.zeros((0, TEXT_DIM))
    return fit_frames(rows, ctx, "caption per-frame info")
