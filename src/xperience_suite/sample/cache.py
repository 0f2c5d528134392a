"""A cached sample episode per (preset, seed, generator version), published atomically."""

from __future__ import annotations

from pathlib import Path

from ..cache_root import CACHE_ENV, cache_root  # noqa: F401  (re-exported)
from ..io import staged_folder
from ..progress import stage
from .generate import generate_episode
from .options import GENERATOR_VERSION, resolve_preset


def sample_name(preset: str, seed: int, frames: int | None = None) -> str:
    """Folder name of a cached sample, e.g. ``sample-small-seed0-v1``."""
    length = "" if frames is None else f"-n{int(frames)}"
    return f"sample-{preset}{length}-seed{int(seed)}-{GENERATOR_VERSION}"


def ensure_sample_episode(preset: str = "small", seed: int = 0, cache_dir: str | Path | None = None,
                          *, frames: int | None = None) -> Path:
    """The cached sample episode folder, generated on first use.

    Generation writes into a temporary sibling folder (``.sample-...tmp-*``) that is renamed into
    place only when complete, so an interrupted run never leaves a folder that looks complete.
    """
    resolve_preset(preset, frames)
    root = cache_root(cache_dir)
    final = root / sample_name(preset, seed, frames)
    if final.is_dir():
        return final
    # another process publishing the same sample first is harmless: same seed, same bytes
    with staged_folder(final) as tmp, stage(f"generating the sample episode ({preset}, seed "
                                            f"{seed}) into {final} on first use"):
        generate_episode(tmp, seed=seed, preset=preset, frames=frames)
    return final
