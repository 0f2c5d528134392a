"""PNG plots of an ablation summary: a task x variant heatmap of signed deltas per head, and a
per-task bar chart of each head's primary metric per variant (task display names on the axes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import atomic_write
from .ablation import compared_variants, find_cell

HEATMAP = "delta_heatmap.png"
BARS = "head_comparison.png"
HEAD_COLORS = {"minimal": "#4C72B0", "mlp": "#DD8452"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def delta_matrix(summary: dict, head: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(tasks, variants)`` signed deltas (NaN where missing/failed), significance marks, and
    the variant columns (every variant except the baseline)."""
    variants = compared_variants(summary)
    d = np.full((len(summary["tasks"]), len(variants)), np.nan)
    sig = np.zeros(d.shape, dtype=bool)
    for i, t in enumerate(summary["tasks"]):
        for j, v in enumerate(variants):
            c = find_cell(summary, t, v, head)
            if c and c.get("delta"):
                d[i, j] = c["delta"]["delta"]
                sig[i, j] = bool(c["delta"]["significant"])
    return d, sig, variants


def plot_delta_heatmap(summary: dict, path: Path) -> Path | None:
    """None (nothing drawn) when the sweep has no variant besides the baseline: no deltas."""
    if not compared_variants(summary):
        return None
    plt = _pyplot()
    heads = summary["heads"]
    names = [summary["task_info"][t]["display_name"] for t in summary["tasks"]]
    mats = [delta_matrix(summary, h) for h in heads]
    n_var = max((len(m[2]) for m in mats), default=1)
    scale = max([np.nanmax(np.abs(m[0])) for m in mats if np.isfinite(m[0]).any()] or [1.0])
    scale = scale or 1.0
    fig, axes = plt.subplots(1, len(heads), squeeze=False,
                             figsize=(2.2 + 1.3 * n_var * len(heads),
                                      max(3.0, 1.6 + 0.45 * len(names))))
    for ax, h, (d, sig, variants) in zip(axes[0], heads, mats):
        im = ax.imshow(np.ma.masked_invalid(d), cmap="RdBu", vmin=-scale, vmax=scale,
                       aspect="auto")
        ax.set_facecolor("#dddddd")
        ax.set_xticks(range(len(variants)), variants, rotation=35, ha="right")
        ax.set_yticks(range(len(names)), names if ax is axes[0][0] else [""] * len(names))
        ax.set_title(f"{h}: delta vs {summary['baseline']} (+ = better)")
        for i in range(d.shape[0]):
            for j in range(d.shape[1]):
                text = "n/a" if np.isnan(d[i, j]) else f"{d[i, j]:+.3f}{'*' if sig[i, j] else ''}"
                dark = np.isfinite(d[i, j]) and abs(d[i, j]) > 0.6 * scale
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)
    return path


def plot_head_bars(summary: dict, path: Path) -> Path:
    plt = _pyplot()
    tasks, heads, variants = summary["tasks"], summary["heads"], summary["variants"]
    cols = min(4, max(1, len(tasks)))
    rows = int(np.ceil(len(tasks) / cols))
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(3.4 * cols, 2.2 + 0.12 * len(variants) + 2.4 * (rows - 1)))
    width = 0.8 / max(1, len(heads))
    x = np.arange(len(variants))
    for ax, t in zip(axes.flat, tasks):
        info = summary["task_info"][t]
        for k, h in enumerate(heads):
            cs = [find_cell(summary, t, v, h) for v in variants]
            mean = np.array([c["mean"] if c and c["mean"] is not None else np.nan for c in cs])
            low = np.array([c["ci_low"] if c and c.get("ci_low") is not None else np.nan
                            for c in cs], dtype=float)
            high = np.array([c["ci_high"] if c and c.get("ci_high") is not None else np.nan
                             for c in cs], dtype=float)
            xs = x + (k - (len(heads) - 1) / 2) * width
            ax.bar(xs, np.nan_to_num(mean), width, label=h, color=HEAD_COLORS.get(h))
            # the interval as drawn from its ends: a percentile interval need not hold the mean
            # (a skewed metric on few seeds), which ``yerr`` around the mean cannot show
            ax.vlines(xs, low, high, color="black", linewidth=1)
            for xm in xs[np.isnan(mean)]:
                ax.text(xm, 0, "n/a", ha="center", va="bottom", fontsize=6, rotation=90)
        arrow = "↑" if info.get("higher_is_better") else "↓"
        ax.set_title(info["display_name"], fontsize=9)
        ax.set_ylabel(f"{info.get('primary_metric')} {arrow}", fontsize=8)
        ax.set_xticks(x, variants, rotation=40, ha="right", fontsize=7)
        ax.axhline(0, color="black", linewidth=0.5)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(heads))
    fig.suptitle("Primary metric per task: " + " vs ".join(heads) + " (95% bootstrap intervals)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)
    return path


#: the report's plots by file name, drawn in this order
PLOTS = {HEATMAP: plot_delta_heatmap, BARS: plot_head_bars}
