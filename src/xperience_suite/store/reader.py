"""Read a feature store: per-episode ``WindowSet``s backed by memory-mapped ``windows.npy``.

``open_store(store)`` reads only the small ``meta.json`` of each shard; an episode's ``X`` is
``np.load(..., mmap_mode="r")`` (a read-only ``np.memmap``) and its frame targets
(``labels.json``, ``hand_left.npy``, ...) load on first access, so memory does not grow with the
number of episodes. ``concat`` indexes many window sets as one row space without copying them.

Every file is checked against the size and checksum its ``meta.json`` recorded before it is used
(``windows.npy`` when the window set is made, the others on first access): a damaged shard, or
one replaced since the store was opened, raises a one-line ``XperienceError`` instead of being
read.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import XperienceError
from ..windows.window_set import BlockSpan, FrameTargets, WindowSet, find_block
from .discover import EpisodeRef
from .layout import CALIBRATION_SLOTS, CalibrationSlot, StoreLayout
from .names import LAYOUT
from .shard import LABELS, META, WINDOWS, check_file, read_shard_meta, shard_dir

log = logging.getLogger("xperience_suite.store")


def _damaged(folder: Path, problem: str) -> XperienceError:
    return XperienceError(f"damaged shard: {problem}", file=folder,
                          expected="the files meta.json lists; run python -m "
                          "xperience_suite.extract on its episodes to rebuild it")


def _verified(folder: Path, name: str, meta: dict) -> Path:
    problem = check_file(folder, name, meta)
    if problem:
        raise _damaged(folder, problem)
    return folder / name


class LazyFrameTargets(FrameTargets):
    """``FrameTargets`` of a shard, read on first access (labels from ``labels.json``, arrays
    memory-mapped from ``<name>.npy``; ``None`` when the episode lacks them), each checked against
    the shard's ``meta.json`` (checksum, one entry per frame)."""

    def __init__(self, folder: Path, meta: dict):  # noqa: D107 - no dataclass init
        self._folder = Path(folder)
        self._meta = meta
        self._targets = set(meta.get("targets", []))
        self._labels: dict | None = None
        self._arrays: dict[str, np.ndarray | None] = {}

    def _label(self, name: str) -> list:
        if self._labels is None:
            path = self._folder / LABELS
            try:
                data = path.read_bytes()
            except OSError as err:
                raise _damaged(self._folder, f"cannot read {LABELS} ({err})") from None
            want = self._meta.get("files", {}).get(LABELS, {})
            if hashlib.blake2b(data, digest_size=16).hexdigest() != want.get("blake2b"):
                raise _damaged(self._folder, f"{LABELS} does not match its checksum in {META}")
            labels = json.loads(data)
            N = int(self._meta["num_frames"])
            short = [k for k in ("action_label", "subtask_label", "objects")
                     if len(labels.get(k, ())) != N]
            if short:
                raise _damaged(self._folder, f"{LABELS} '{short[0]}' has "
                               f"{len(labels.get(short[0], ()))} entries for {N} frames")
            self._labels = labels
        return self._labels[name]

    def _array(self, name: str) -> np.ndarray | None:
        if name not in self._arrays:
            self._arrays[name] = np.load(_verified(self._folder, f"{name}.npy", self._meta),
                                         mmap_mode="r") if name in self._targets else None
        return self._arrays[name]

    action_label = property(lambda self: self._label("action_label"))
    subtask_label = property(lambda self: self._label("subtask_label"))
    objects = property(lambda self: self._label("objects"))
    hand_left = property(lambda self: self._array("hand_left"))
    hand_right = property(lambda self: self._array("hand_right"))
    body_root = property(lambda self: self._array("body_root"))
    contacts = property(lambda self: self._array("contacts"))

    def __repr__(self) -> str:
        return f"LazyFrameTargets({self._folder})"


@dataclass(frozen=True)
class StoreEpisode:
    """One shard as listed by ``open_store`` (from its ``meta.json``)."""

    episode_id: str
    shard: Path
    split: str
    session: str
    num_windows: int
    num_frames: int
    fits_layout: bool
    meta: dict


def window_set_of(episode: StoreEpisode) -> WindowSet:
    """The shard's ``WindowSet``: ``X`` memory-mapped ``(W, D)`` float32, lazy frames."""
    meta = episode.meta
    path = _verified(episode.shard, WINDOWS, meta)
    try:
        X = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as err:
        raise XperienceError(f"cannot map shard windows ({err})", file=path,
                             expected="a (W, D) float32 .npy") from None
    blocks = [BlockSpan(b["name"], int(b["start"]), int(b["end"]), bool(b["available"]))
              for b in meta["blocks"]]
    if X.ndim != 2 or X.shape != (episode.num_windows, blocks[-1].end if blocks else 0):
        raise XperienceError("shard windows do not match its meta.json", file=path,
                             expected=f"({episode.num_windows}, {blocks[-1].end if blocks else 0}),"
                             f" got {X.shape}")
    return WindowSet(episode_id=episode.episode_id, X=X, blocks=blocks,
                     starts=np.asarray(meta["starts"], dtype=np.int64),
                     ends=np.asarray(meta["ends"], dtype=np.int64),
                     num_frames=episode.num_frames,
                     frames=LazyFrameTargets(episode.shard, meta),
                     available_modalities={str(k): bool(v) for k, v in
                                           meta.get("available_modalities", {}).items()})


class WindowConcat:
    """Many window sets (same layout) as one row space of ``num_windows`` rows, without copying:
    ``episode_of[i]``/``local_of[i]`` locate global row ``i``; ``rows(idx)`` gathers
    ``(len(idx), D)`` from the memory maps."""

    def __init__(self, window_sets: list[WindowSet]):
        if not window_sets:
            raise XperienceError("nothing to concatenate", key="window_sets",
                                 expected="at least one window set")
        layout = [(b.name, b.start, b.end) for b in window_sets[0].blocks]
        for ws in window_sets[1:]:
            if [(b.name, b.start, b.end) for b in ws.blocks] != layout:
                raise XperienceError("window sets have different block layouts",
                                     key=ws.episode_id,
                                     expected=f"the layout of {window_sets[0].episode_id}")
        self.window_sets = list(window_sets)
        counts = np.array([ws.num_windows for ws in window_sets], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])  # (E + 1,)
        self.episode_of = np.repeat(np.arange(len(counts)), counts)  # (num_windows,)
        self.local_of = np.arange(int(self.offsets[-1])) - self.offsets[self.episode_of]
        # a block is available when any episode has it; per episode see window_sets[i].blocks
        avail = {b.name: any(ws.block(b.name).available for ws in window_sets)
                 for b in window_sets[0].blocks}
        self.blocks = [BlockSpan(b.name, b.start, b.end, avail[b.name])
                       for b in window_sets[0].blocks]

    @property
    def num_windows(self) -> int:
        return int(self.offsets[-1])

    @property
    def dim(self) -> int:
        return self.blocks[-1].end if self.blocks else 0

    @property
    def block_names(self) -> list[str]:
        return [b.name for b in self.blocks]

    def block(self, name: str) -> BlockSpan:
        return find_block(self.blocks, name)

    def columns(self, names: list[str]) -> np.ndarray:
        return self.window_sets[0].columns(names)

    def rows(self, idx=None, names: list[str] | None = None) -> np.ndarray:
        """``(len(idx), D)`` float32 (``idx`` None = all rows), only the named blocks when
        ``names`` is given (in that order)."""
        idx = np.arange(self.num_windows) if idx is None else np.asarray(idx, dtype=np.int64)
        cols = self.columns(names) if names is not None else np.arange(self.dim)
        out = np.empty((len(idx), len(cols)), dtype=np.float32)
        eps = self.episode_of[idx]
        for e in np.unique(eps):
            where = np.flatnonzero(eps == e)
            X = self.window_sets[e].X
            out[where] = X[self.local_of[idx[where]]][:, cols]
        return out

    def __len__(self) -> int:
        return self.num_windows


def concat(window_sets: list[WindowSet]) -> WindowConcat:
    """One row space over ``window_sets`` (see ``WindowConcat``)."""
    return WindowConcat(window_sets)


class StoreView:
    """An opened store: ``episodes`` (in ``refs`` order, else by id), ``layout``, the ids it
    could not serve (``missing``: no complete shard; ``stale``: built with another layout)."""

    def __init__(self, root: Path, layout: StoreLayout, episodes: list[StoreEpisode],
                 missing: list[str], stale: list[str]):
        self.root = root
        self.layout = layout
        self.episodes = episodes
        self.missing = missing
        self.stale = stale
        self._by_id = {e.episode_id: e for e in episodes}

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def episode_ids(self) -> list[str]:
        return [e.episode_id for e in self.episodes]

    def splits(self) -> dict[str, list[str]]:
        """``{split: [episode ids]}`` (``""`` = no split given)."""
        out: dict[str, list[str]] = {}
        for e in self.episodes:
            out.setdefault(e.split, []).append(e.episode_id)
        return out

    def window_set(self, episode_id: str) -> WindowSet:
        if episode_id not in self._by_id:
            raise XperienceError(f"episode '{episode_id}' is not in the store", file=self.root,
                                 key=episode_id, expected="an id of StoreView.episode_ids")
        return window_set_of(self._by_id[episode_id])

    def window_sets(self, split: str | None = None) -> list[WindowSet]:
        """Memory-mapped window sets of every episode (of ``split`` when given)."""
        return [window_set_of(e) for e in self.episodes if split is None or e.split == split]

    def concat(self, split: str | None = None) -> WindowConcat:
        return concat(self.window_sets(split))


def read_layout(root: Path) -> tuple[StoreLayout, str]:
    """The store layout of ``root/layout.json`` and its digest; ``XperienceError`` when that file
    is not a feature store's."""
    path = root / LAYOUT
    try:
        data = json.loads(path.read_text())
        blocks = tuple(BlockSpan(b["name"], int(b["start"]), int(b["end"]), True)
                       for b in data["blocks"])
        slots = tuple(CalibrationSlot(s["camera"], s["key"], int(s["size"]))
                      for s in data.get("calibration_slots", [])) or CALIBRATION_SLOTS
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise XperienceError(f"not a feature store ({err})", file=path,
                             expected="layout.json written by python -m xperience_suite.extract")\
            from None
    layout = StoreLayout(blocks, slots)
    return layout, layout.digest()


def _episode(folder: Path, meta: dict, ref: EpisodeRef | None) -> StoreEpisode:
    return StoreEpisode(str(meta["episode_id"]), folder,
                        ref.split if ref is not None else str(meta.get("split", "")),
                        ref.session if ref is not None else str(meta.get("session", "")),
                        int(meta["num_windows"]), int(meta["num_frames"]),
                        bool(meta.get("fits_layout", True)), meta)


def open_store(store_dir: str | Path, refs: list[EpisodeRef] | None = None) -> StoreView:
    """Open ``store_dir``: every complete shard (``refs=None``, sorted by id) or those of ``refs``
    (in that order; ``split``/``session`` taken from the refs). Raises ``XperienceError`` when no
    episode can be served; ids without a current-layout shard are in ``missing``/``stale``."""
    root = Path(store_dir).expanduser()
    layout, digest = read_layout(root)
    if refs is None:
        candidates = [(p, None) for p in sorted(root.iterdir())
                      if p.is_dir() and not p.name.startswith(".")]
    else:
        candidates = [(shard_dir(root, r.episode_id), r) for r in refs]
    episodes, missing, stale = [], [], []
    for folder, ref in candidates:
        meta = read_shard_meta(folder)
        if meta is None or (ref is not None and meta.get("episode_id") != ref.episode_id):
            missing.append(ref.episode_id if ref is not None else folder.name)
        elif meta.get("layout_digest") != digest:
            stale.append(str(meta.get("episode_id", folder.name)))
        else:
            episodes.append(_episode(folder, meta, ref))
    if missing or stale:
        log.warning("store %s: %d episodes without a shard (%s), %d built with another layout "
                    "(%s)", root, len(missing), ", ".join(missing[:10]), len(stale),
                    ", ".join(stale[:10]))
    if not episodes:
        raise XperienceError("the store holds no usable shard", file=root,
                             expected="shards written by python -m xperience_suite.extract "
                             "with the store's layout")
    return StoreView(root, layout, episodes, missing, stale)
