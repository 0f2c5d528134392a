"""PNG figures of one run, written beside ``metrics.json`` (matplotlib, no display needed).

``FIGURES`` maps a figure name to its drawing function; which figures a run gets comes from its
task (``Task.figures``) or else its head kind (``KIND_FIGURES``), plus the learning curves of a
training run. A figure that cannot be drawn is skipped with a warning: plotting never fails a run.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..io import atomic_write
from ..metrics.retrieval import gallery_ranks

log = logging.getLogger("xperience_suite")

DPI = 100
LABEL_CHARS = 32  # class names longer than this are shortened on the axes
MAX_TRAJECTORY_SAMPLES = 3
WRIST_JOINTS = {"left wrist": 0, "right wrist": 21}  # MANO joint 0 of each hand in (42, 3)
HAND_COLORS = {"left wrist": "#1f77b4", "right wrist": "#d62728"}


class SkipFigure(Exception):
    """A figure whose inputs are missing (no epochs, no test samples): skipped, not an error."""


@dataclass
class FigureInputs:
    """What a run knows when it writes its folder.

    ``preds``: ``pred``, ``confidence``, ``target`` of the scored samples (``data.test_idx``);
    ``history``: per-epoch rows (``None`` for an evaluation, which has no training);
    ``ws``: the run's window set (window start frames, block widths) when there is one."""

    summary: dict
    data: Any  # TaskData
    preds: dict[str, np.ndarray]
    task: Any = None  # Task
    module: Any = None  # HeadModule
    ws: Any = None  # WindowSet
    history: list[dict] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        s = self.summary
        return f"{s.get('task_display_name') or s['task']} [{s.get('head')}, {s.get('features')}]"


def _figure(width: float, height: float, left: float = 0.8, right: float = 0.25,
            bottom: float = 0.6, top: float = 0.75, wspace: float = 0.3, hspace: float = 0.3):
    """A ``width`` x ``height`` inch figure with fixed margins in inches (an automatic layout
    engine costs several extra draws per figure)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace, hspace=hspace)
    return fig


def _text_width(labels, size: float = 9) -> float:
    """Rough width in inches of the longest of ``labels`` at font ``size`` points."""
    return 0.55 * size / 72 * max((len(str(t)) for t in labels), default=0)


def _short(name: str) -> str:
    name = str(name)
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


def _class_names(inp: FigureInputs) -> list[str]:
    names = list(inp.data.class_names or [])
    top = int(max(np.max(inp.preds["target"], initial=-1), np.max(inp.preds["pred"], initial=-1)))
    return names + [f"<unseen:{k}>" for k in range(len(names), top + 1)]


def _require_test(inp: FigureInputs) -> None:
    if not len(inp.preds["target"]):
        raise SkipFigure("no test samples")


# -- every training run ------------------------------------------------------------------------
def training_curves(inp: FigureInputs):
    """Train loss by epoch, and the primary metric by epoch on the validation samples when the
    split has them (with the test score of the scored checkpoint)."""
    rows = [r for r in inp.history or [] if "train_loss" in r]
    if not rows:
        raise SkipFigure("no training epochs recorded")
    s = inp.summary
    primary, test = s["primary_metric"], s.get("primary_value")
    epochs = np.array([r["epoch"] + 1 for r in rows])
    val = [(e, r[f"val/{primary}"]) for e, r in zip(epochs, rows) if f"val/{primary}" in r]
    style = "o-" if len(rows) < 30 else "-"
    fig = _figure(10.0 if val else 6.0, 3.6, top=0.8)
    axes = fig.subplots(1, 2 if val else 1, squeeze=False)[0]
    axes[0].plot(epochs, [r["train_loss"] for r in rows], style, color="#4C72B0")
    axes[0].set(title="training loss", xlabel="epoch",
                ylabel="train loss" + (f" ({inp.module.loss_name})"
                                       if hasattr(inp.module, "loss_name") else ""))
    better = "higher" if s["higher_is_better"] else "lower"
    for ax in axes:
        ax.xaxis.get_major_locator().set_params(integer=True)
    if val:
        ax = axes[1]
        ax.plot(*zip(*val), style, color="#DD8452", label="validation")
        if test is not None and np.isfinite(test):
            ax.axhline(test, color="#55A868", ls="--", label=f"test = {test:.4g}")
        ax.set(title=f"{primary} by epoch ({better} is better)", xlabel="epoch", ylabel=primary)
        ax.legend(loc="best")
        fig.suptitle(inp.title)
    else:
        fig.suptitle(f"{inp.title}\nno validation split; test {primary} = {test:.4g} "
                     f"({better} is better)")
    return fig


# -- classification ------------------------------------------------------------------------
def confusion_matrix(inp: FigureInputs):
    """Test confusion matrix over the classes in the test truth or predictions, each row
    normalised by its true class's count (rows of classes with no test support are grey)."""
    _require_test(inp)
    names = _class_names(inp)
    truth = inp.preds["target"].astype(int)
    pred = inp.preds["pred"].astype(int)
    shown = np.union1d(truth, pred)
    pos = {k: i for i, k in enumerate(shown)}
    counts = np.zeros((len(shown), len(shown)))
    np.add.at(counts, ([pos[k] for k in truth], [pos[k] for k in pred]), 1)
    support = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, support, out=np.full_like(counts, np.nan), where=support > 0)
    n = len(shown)
    labels = [_short(names[k]) for k in shown]
    rows = [f"{lab} ({int(c)})" for lab, c in zip(labels, support[:, 0])]
    size = 9 if n <= 20 else 7
    cell = 0.42 if n <= 15 else 0.3
    area = max(3.0, cell * n)
    left, bottom = 0.7 + _text_width(rows, size), 0.6 + 0.72 * _text_width(labels, size)
    fig = _figure(left + area + 1.6, bottom + area + 0.8, left=left, right=1.6, bottom=bottom,
                  top=0.8)
    ax = fig.subplots()
    im = ax.imshow(np.ma.masked_invalid(share), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_facecolor("#dddddd")
    ax.set_xticks(range(n), labels, rotation=45, ha="right", rotation_mode="anchor",
                  fontsize=size)
    ax.set_yticks(range(n), rows, fontsize=size)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                if np.isfinite(share[i, j]) and counts[i, j]:
                    ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if share[i, j] > 0.6 else "black")
    ax.set(xlabel="predicted class", ylabel="true class (test samples)")
    box = ax.get_position()
    cax = fig.add_axes((box.x1 + 0.25 / fig.get_figwidth(), box.y0, 0.18 / fig.get_figwidth(),
                        box.height))
    fig.colorbar(im, cax=cax, label="share of the true class's test samples")
    s = inp.summary
    ax.set_title(f"{inp.title}\nconfusion matrix, {len(truth)} test samples, "
                 f"{s['primary_metric']} = {s['primary_value']:.4g}")
    return fig


def _test_positions(inp: FigureInputs) -> tuple[np.ndarray, str]:
    """x position of each test sample: its window's start frame on one episode, else its index."""
    data = inp.data
    window = data.extra.get("window_index")
    groups = data.extra.get("episode_index")
    if inp.ws is not None and window is not None and (groups is None or
                                                       len(np.unique(groups)) <= 1):
        return np.asarray(inp.ws.starts)[np.asarray(window)[data.test_idx]], "frame (window start)"
    return np.arange(len(data.test_idx)), "test sample (time order; episodes one after another)"


def label_strips(inp: FigureInputs):
    """True and predicted labels of the test samples over time, one colour per class."""
    _require_test(inp)
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    names = _class_names(inp)
    truth = inp.preds["target"].astype(int)
    pred = inp.preds["pred"].astype(int)
    shown = list(np.union1d(truth, pred))
    palette = _palette(len(shown))
    code = {k: i for i, k in enumerate(shown)}
    strips = np.array([[code[k] for k in truth], [code[k] for k in pred]])
    x, xlabel = _test_positions(inp)
    step = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    ncol = min(5, len(shown))
    rows = -(-len(shown) // ncol)
    legend = 0.1 + 0.2 * rows
    fig = _figure(11.0, 2.3 + legend, left=1.0, bottom=0.6 + legend, top=0.75)
    ax = fig.subplots()
    ax.imshow(strips, aspect="auto", interpolation="nearest", cmap=ListedColormap(palette),
              vmin=-0.5, vmax=len(shown) - 0.5,
              extent=(x[0] - step / 2, x[-1] + step / 2, 1.5, -0.5))
    ax.set_yticks([0, 1], ["true", "predicted"])
    groups = inp.data.extra.get("episode_index")
    if groups is not None:  # white lines between test episodes
        groups = np.asarray(groups)[inp.data.test_idx]
        for cut in np.flatnonzero(np.diff(groups) != 0):
            ax.axvline((x[cut] + x[cut + 1]) / 2, color="white", lw=2)
    agree = float(np.mean(truth == pred))
    ax.set(xlabel=xlabel, title=f"{inp.title}\ntest labels over time "
                                f"({len(truth)} samples, {agree:.0%} agree)")
    handles = [Patch(color=palette[i], label=_short(names[k])) for i, k in enumerate(shown)]
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    return fig


def _palette(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](i / max(n - 1, 1)) for i in range(n)]


def boundary_timeline(inp: FigureInputs):
    """Transition detection on the test span: true action changes (with the tolerance band) and
    the centres of windows predicted as transitions (hits within tolerance green, misses red)."""
    _require_test(inp)
    extra = inp.data.extra
    if "test_centres" not in extra or "test_boundaries" not in extra:
        raise SkipFigure("no test boundaries recorded by the task")
    centres = np.asarray(extra["test_centres"])
    truth = np.asarray(extra["test_boundaries"])
    groups = np.asarray(extra.get("test_groups", np.zeros(len(centres), dtype=int)))
    true_groups = np.asarray(extra.get("boundary_groups", np.zeros(len(truth), dtype=int)))
    first = groups[0] if len(groups) else 0
    centres, hit = centres[groups == first], (inp.preds["pred"] == 1)[groups == first]
    truth = truth[true_groups == first]
    tol = int(extra.get("tolerance", 0))
    picked = centres[hit]
    near = (np.abs(picked[:, None] - truth[None, :]).min(axis=1) <= tol) if len(truth) \
        else np.zeros(len(picked), dtype=bool)
    fig = _figure(11.0, 3.2, left=1.0, bottom=1.0, top=0.75)
    ax = fig.subplots()
    for k, b in enumerate(truth):
        ax.axvspan(b - tol, b + tol, ymin=0.5, ymax=1.0, color="#bbbbbb", lw=0,
                   label=f"true change ± {tol} frames" if k == 0 else None)
        ax.axvline(b, ymin=0.5, ymax=1.0, color="black", lw=1.2,
                   label="true action change" if k == 0 else None)
    ax.scatter(picked[near], np.full(near.sum(), 0.25), marker="|", s=300, color="#2ca02c",
               label="predicted transition (within tolerance)")
    ax.scatter(picked[~near], np.full((~near).sum(), 0.25), marker="|", s=300, color="#d62728",
               label="predicted transition (false alarm)")
    ax.set_xlim(centres.min() - tol, centres.max() + tol) if len(centres) else None
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.75], ["predicted", "true"])
    m = inp.summary["metrics"]
    scores = ", ".join(f"{k} {m[f'boundary_{k}']:.2f}" for k in ("precision", "recall", "f1")
                       if f"boundary_{k}" in m)
    episodes = len(np.unique(groups))
    ax.set(xlabel="frame (window centre)",
           title=f"{inp.title}\ntest timeline: {len(truth)} true changes, {len(picked)} predicted"
                 + (f" (first of {episodes} test episodes)" if episodes > 1 else "")
                 + (f"; boundary {scores}" if scores else ""))
    fig.legend(loc="lower center", ncol=4, fontsize=8, frameon=False)
    return fig


# -- vectors -------------------------------------------------------------------------------
def _nan_mean(values: np.ndarray) -> float:
    """``np.nanmean``, quiet when every value is missing (all-NaN targets of a degenerate run:
    NaN, which the panel's title shows)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(values))


def wrist_trajectories(inp: FigureInputs):
    """A few test samples' true and predicted future wrist positions (x, y, z), root-relative."""
    _require_test(inp)
    shape = inp.data.target_shape
    if not shape or tuple(shape[1:]) != (42, 3):
        raise SkipFigure(f"targets are not (horizon, 42, 3) hand joints: {shape}")
    horizon = int(shape[0])
    truth = inp.preds["target"].reshape(-1, *shape)
    pred = inp.preds["pred"].reshape(-1, *shape)
    picks = np.unique(np.linspace(0, len(truth) - 1, MAX_TRAJECTORY_SAMPLES).round().astype(int))
    ids = [inp.data.sample_ids[i] for i in inp.data.test_idx]
    fig = _figure(11.0, 1.7 + 2.1 * len(picks), left=0.8, bottom=1.0, top=0.8, hspace=0.45)
    axes = fig.subplots(len(picks), 3, squeeze=False, sharex=True)
    steps = np.arange(1, horizon + 1)
    for row, i in enumerate(picks):
        err = {hand: _nan_mean(np.linalg.norm(pred[i, :, j] - truth[i, :, j], axis=-1))
               for hand, j in WRIST_JOINTS.items()}
        for c, axis in enumerate("xyz"):
            ax = axes[row, c]
            for hand, j in WRIST_JOINTS.items():
                ax.plot(steps, truth[i, :, j, c], "-", color=HAND_COLORS[hand],
                        label=f"{hand} true")
                ax.plot(steps, pred[i, :, j, c], "--", color=HAND_COLORS[hand],
                        label=f"{hand} predicted")
            ax.set_ylabel(f"{axis} (dataset units)")
            ax.locator_params(nbins=4)  # fewer ticks: most of the drawing time is tick labels
            if row == len(picks) - 1:
                ax.set_xlabel("frames after the window")
        axes[row, 0].set_title(f"{ids[i]}: wrist error L {err['left wrist']:.3f}, "
                               f"R {err['right wrist']:.3f}", loc="left", fontsize=9)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    s = inp.summary
    frame = "camera frame" if "camera frame" in str(s.get("units", "")) else "root-relative"
    fig.suptitle(f"{inp.title}: future wrist positions ({frame}, in the dataset's unit)\n"
                 f"{len(picks)} of {len(truth)} test samples; "
                 f"{s['primary_metric']} = {s['primary_value']:.4f}")
    return fig


def rank_histogram(inp: FigureInputs):
    """Rank of the true item among the test gallery per query (1 = best), as the metric ranks."""
    _require_test(inp)
    import torch

    module = inp.module
    if module is None or not hasattr(module, "ranking_pair"):
        raise SkipFigure("no retrieval head to rank with")
    device = module.y_mean.device
    pred = torch.as_tensor(inp.preds["pred"], dtype=torch.float32, device=device)
    target = torch.as_tensor(inp.preds["target"], dtype=torch.float32, device=device)
    groups = inp.data.extra.get("episode_index")
    group = None if groups is None else torch.as_tensor(np.asarray(groups)[inp.data.test_idx],
                                                        device=device)
    with torch.no_grad():
        query, gallery = module.ranking_pair(pred, target)
        ranks = gallery_ranks(query, gallery, group).cpu().numpy()
    n = len(ranks)
    fig = _figure(8.0, 4.0, top=0.75)
    ax = fig.subplots()
    top = int(ranks.max())
    bins = np.arange(0.5, top + 1.5) if top <= 60 else np.unique(
        np.geomspace(1, top + 1, 40).round()) - 0.5
    ax.hist(ranks, bins=bins, color="#4C72B0")
    if top > 60:
        ax.set_xscale("log")
    for k, style in ((1, ":"), (5, "--")):
        ax.axvline(k + 0.5, color="#DD8452", ls=style,
                   label=f"top-{k}: {np.mean(ranks <= k):.1%} of queries")
    ax.set(xlabel="rank of the true item (1 = best)", ylabel="test queries",
           title=f"{inp.title}\nranks of {n} queries among the test items "
                 f"(MRR {np.mean(1.0 / ranks):.3f}, chance {np.mean(1.0 / np.arange(1, n + 1)):.3f})")
    ax.legend(loc="upper right")
    return fig


def block_r2(inp: FigureInputs) -> tuple[dict[str, float], float | None]:
    """R^2 per target block and over all of them: ``r2/<block>`` and ``r2`` from the metrics
    when present, else the study's R^2 (pooled over the block's finite values, each column
    centred on its test mean) computed from the predictions."""
    blocks = list(inp.data.target_blocks or [])
    metrics = inp.summary.get("metrics", {})
    if blocks and all(f"r2/{b}" in metrics for b in blocks):
        return {b: float(metrics[f"r2/{b}"]) for b in blocks}, metrics.get("r2")
    if inp.ws is None:
        raise SkipFigure("no per-block R^2 in the metrics and no block widths to compute it")
    truth, pred = inp.preds["target"].astype(np.float64), inp.preds["pred"].astype(np.float64)
    sse, sst, start = {}, {}, 0
    for b in blocks:
        dim = inp.ws.block(b).dim
        y, yh = truth[:, start:start + dim], pred[:, start:start + dim]
        start += dim
        ok = np.isfinite(y)  # masked targets (non-finite) count nowhere, as in the metrics
        mean = np.nanmean(np.where(ok, y, np.nan), axis=0) if ok.any() else np.zeros(dim)
        sse[b] = float(np.sum(np.where(ok, y - yh, 0.0) ** 2))
        sst[b] = float(np.sum(np.where(ok, y - mean, 0.0) ** 2))
    r2 = {b: 1.0 - sse[b] / sst[b] if sst[b] > 0 else float("nan") for b in blocks}
    total = sum(sst.values())
    return r2, (1.0 - sum(sse.values()) / total if total > 0 else None)


def r2_per_block(inp: FigureInputs):
    """Test R^2 of each reconstructed target block, with the R^2 over all of them."""
    _require_test(inp)
    r2, overall = block_r2(inp)
    if not r2:
        raise SkipFigure("no target blocks")
    names = [f"{b} ({v:.3f})" for b, v in r2.items()]
    values = np.array(list(r2.values()))
    left = 0.4 + _text_width(names)
    fig = _figure(left + 6.0, 1.6 + 0.4 * len(names), left=left, right=0.4, top=0.75)
    ax = fig.subplots()
    colors = ["#55A868" if v >= 0 else "#C44E52" for v in np.nan_to_num(values)]
    ax.barh(range(len(names)), np.nan_to_num(values), color=colors)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", lw=0.8)
    if overall is not None and np.isfinite(overall):
        ax.axvline(overall, color="#4C72B0", ls="--", label=f"all blocks: {overall:.4f}")
        ax.legend(loc="best", fontsize=8)
    ax.set(xlabel="R² on the test windows (1 = exact, 0 = the test column means)",
           title=f"{inp.title}\nR² per reconstructed block")
    return fig


#: figure name -> drawing function ``(FigureInputs) -> matplotlib Figure`` (or ``SkipFigure``)
FIGURES: dict[str, Callable[[FigureInputs], Any]] = {
    "training_curves": training_curves,
    "confusion_matrix": confusion_matrix,
    "label_strips": label_strips,
    "boundary_timeline": boundary_timeline,
    "wrist_trajectories": wrist_trajectories,
    "rank_histogram": rank_histogram,
    "r2_per_block": r2_per_block,
}

#: a head kind's figures, for tasks that do not declare their own (``Task.figures``)
KIND_FIGURES: dict[str, tuple[str, ...]] = {
    "classification": ("confusion_matrix", "label_strips"),
    "binary": ("confusion_matrix",),
    "multilabel": (),
    "trajectory": ("wrist_trajectories",),
    "retrieval": ("rank_histogram",),
    "regression": ("r2_per_block",),
}


def figure_names(inp: FigureInputs) -> list[str]:
    """The figures of a run: learning curves (training runs), then its task's or kind's."""
    own = getattr(inp.task, "figures", None)
    names = list(own) if own is not None else list(KIND_FIGURES.get(inp.data.kind, ()))
    return (["training_curves"] if inp.history is not None else []) + names


def write_figures(out_dir: Path, inp: FigureInputs) -> tuple[list[str], float]:
    """Draw every figure of the run into ``out_dir/<name>.png``; returns the file names written
    and the seconds spent. A figure that cannot be drawn is skipped with a warning."""
    t0 = time.perf_counter()
    written = []
    for name in figure_names(inp):
        try:
            path = Path(out_dir) / f"{name}.png"
            fig = FIGURES[name](inp)
            atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI))
            written.append(path.name)
        except SkipFigure as why:
            log.warning("figure %s skipped: %s", name, why)
        except Exception as err:  # noqa: BLE001  (a figure must never fail the run)
            log.warning("figure %s not drawn: %s: %s", name, type(err).__name__, err)
    return written, time.perf_counter() - t0
