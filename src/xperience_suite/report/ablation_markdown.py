"""``ABLATION.md``: the ablation summary as tables a reader can scan (minimal vs MLP side by side)."""

from __future__ import annotations

from .ablation import compared_variants, find_cell


def render_markdown(summary: dict, sweep_dir: str, plots: list[str]) -> str:
    heads, base = summary["heads"], summary["baseline"]
    seeds = summary["seeds"]
    lines = [f"# Ablation report: `{sweep_dir}`", "",
             f"{summary['total_jobs']} jobs, {summary['failed_jobs']} failed; "
             f"seeds {seeds} ({summary['n_seeds']}); baseline variant `{base}`.",
             "Deltas are against the baseline and signed so that positive is always better "
             "(lower-is-better metrics flip sign).", ""]
    lines += _significance_lines(summary)
    lines += _study_lines(summary)
    lines += ["## Primary metric per task and variant", "",
              "Cells: mean over seeds (± std) [95% interval from the test data] and delta vs "
              f"`{base}` [95% paired interval] with its p-value and corrected q-value"
              f"{' (* = significant)' if summary['significance_tested'] else ''}.", ""]
    header = ["Task", "Metric", "Variant"]
    for h in heads:
        header += [f"{h}", f"{h} delta"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for t in summary["tasks"]:
        info = summary["task_info"][t]
        metric = _metric_label(info)
        for v in summary["variants"]:
            cells = [find_cell(summary, t, v, h) for h in heads]
            if not any(cells):
                continue
            row = [info["display_name"], metric, f"`{v}`"]
            for c in cells:
                row += [_value(c), _delta(c)]
            lines.append("| " + " | ".join(row) + " |")
    lines += [""] + _failure_lines(summary)
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(lines)


def _metric_label(info: dict) -> str:
    m = info.get("primary_metric") or "?"
    return f"{m} ({'higher' if info.get('higher_is_better') else 'lower'} is better)"


def _value(c: dict | None) -> str:
    if c is None:
        return ""
    if c["mean"] is None:
        return "failed"
    text = f"{c['mean']:.4f}" + (f" ± {c['std']:.4f}" if c["n"] > 1 else "")
    if c.get("ci_low") is not None:
        text += f" [{c['ci_low']:.4f}, {c['ci_high']:.4f}]"
    return text


def _delta(c: dict | None) -> str:
    if c is None or not c.get("delta"):
        return ""
    d = c["delta"]
    if d.get("p_value") is None:
        return f"{d['delta']:+.4f} (not tested)"
    mark = "*" if d["significant"] else ""
    return (f"{d['delta']:+.4f}{mark} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}] "
            f"p={d['p_value']:.3g} q={d['q_value']:.3g}")


def _significance_lines(summary: dict) -> list[str]:
    if summary["baseline"] not in summary["variants"]:
        return [f"No delta: the sweep ran no `{summary['baseline']}` variant to take deltas "
                f"against (`python -m xperience_suite.report DIR --baseline <variant>` picks "
                f"one of {', '.join(summary['variants'])}).", ""]
    if not compared_variants(summary):
        return [f"No delta: the sweep ran no feature variant besides the baseline "
                f"`{summary['baseline']}`.", ""]
    if not any(c.get("delta") for c in summary["cells"]):
        return [f"No delta: no task and head has a result for both the baseline "
                f"`{summary['baseline']}` and another variant (their runs failed or are "
                f"missing).", ""]
    if not summary["significance_tested"]:
        return ["No delta is significance-tested: the runs carry no bootstrap replicates of "
                "their test samples (`bootstrap.npz`), or the variants were scored on different "
                "test samples.", ""]
    sig = summary["significance"]
    out = ["## Significant deltas", "",
           f"Test: {sig['test']}; two-sided p-values, {sig['correction']} correction over the "
           f"{sig['tested']} tested deltas of this sweep, significant when q < {sig['alpha']}. "
           "Seed-only intervals are not used as tests.", ""]
    for h, s in summary["significant_deltas"].items():
        out.append(f"- `{h}`: {s['significant']} of {s['tested']} deltas significant "
                   f"({s['significant_better']} better, {s['significant_worse']} worse).")
    return out + [""]


def _study_lines(summary: dict) -> list[str]:
    study = summary.get("study") or {}
    if not study:
        return []
    out = ["## Audio: the study's aggregates", "", "| Question | " +
           " | ".join(study) + " |", "|---|" + "---|" * len(study)]
    questions = [("audio_helps", "Tasks where audio helps (`all` vs `no_audio`)"),
                 ("raw_logmel_beats_handcrafted",
                  "Tasks where raw log-mel replacement beats handcrafted (`raw_logmel_replace` vs "
                  "`all`)")]
    for key, label in questions:
        if not any(key in e for e in study.values()):
            continue
        row = [label]
        for e in study.values():
            q = e.get(key)
            if q is None:
                row.append("")
                continue
            sig = ("" if q["tasks_improved_significant"] is None
                   else f", {q['tasks_improved_significant']} significant")
            row.append(f"{q['tasks_improved']} of {q['tasks_compared']}{sig}; "
                       f"mean delta {q['mean_delta']:+.4f}")
        out.append("| " + " | ".join(row) + " |")
    return out + [""]


def _failure_lines(summary: dict) -> list[str]:
    bad = [c for c in summary["cells"] if c["n_failed"]]
    if not bad:
        return []
    out = ["## Failed cells", "", "| Task | Variant | Head | Failed jobs | Error |",
           "|---|---|---|---|---|"]
    for c in bad:
        err = "; ".join(c["errors"]).replace("|", "\\|").replace("\n", " ")
        out.append(f"| {c['task']} | `{c['features']}` | {c['head']} | {c['n_failed']} | {err} |")
    return out + [""]
