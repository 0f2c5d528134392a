"""What sharing fits saves the head selection: candidates that differ only in a setting read when a
fitted head is scored (``HeadModule.scoring_settings``: the object decision threshold) are fit
once per fold and seed and scored under each setting.

    python benchmarks/bench_selection_fits.py                       # the real log-mel windows' objects
    python benchmarks/bench_selection_fits.py --data sample -- data.preset=full

Runs the real selection (``runs.selection.run_selection``) on ``object_relevance`` with the
object candidates of ``conf/select.yaml`` (every ``minimal``, ``balanced`` and ``blend``
candidate, thresholds included) twice: once as ``select_heads`` runs them (shared fits), once
with each candidate in a selection of its own (a fit per candidate, as before sharing). Prints
both wall times, their ratio, the number of fits each made, whether every validation score
is the same bit for bit, and the share of the shared run spent resampling the validation
samples for the margins (``bootstrap.primary_replicates``). Writes ``bench_selection_fits.json``
into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf, open_dict

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from bench_common import compose  # noqa: E402  (benchmarks/ on the path)

from xperience_suite.runs import selection  # noqa: E402
from xperience_suite.runs.head_choice import candidate_label  # noqa: E402

DATA = {"windows": ["data=windows", f"data.root={REPO.parent / 'shared/real/sample_logmel_train'}",
                    "features=raw_logmel_only"],
        "sample": ["data=sample"]}
FAMILIES = ("minimal", "balanced", "blend")  # the heads conf/select.yaml lists with thresholds
BOOTSTRAP_SECONDS: list[float] = []  # the margins' resampling, per scored fit (shared run)


def run(out_dir: Path, base: list[str], candidates: list, seeds: list[int]) -> tuple[dict, float,
                                                                                         int]:
    """One selection over ``candidates``: its result, wall seconds and number of fits."""
    cfg = compose(out_dir, [*base, "select.tasks=[object_relevance]", f"select.seeds={seeds}",
                            "trainer=cpu", "progress=none"], config="select")
    with open_dict(cfg):
        cfg.select.candidates = candidates
    fits = []
    real_fit, real_boot = selection.fit_head, selection.primary_replicates

    def counted(*args):
        fits.append(1)
        return real_fit(*args)

    def timed(*args):
        t0 = time.perf_counter()
        try:
            return real_boot(*args)
        finally:
            BOOTSTRAP_SECONDS.append(time.perf_counter() - t0)

    selection.fit_head, selection.primary_replicates = counted, timed
    try:
        t0 = time.perf_counter()
        result = selection.run_selection(cfg, base)
        return result, time.perf_counter() - t0, len(fits)
    finally:
        selection.fit_head, selection.primary_replicates = real_fit, real_boot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", choices=sorted(DATA), default="windows")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("outputs/bench_selection_fits"))
    ap.add_argument("overrides", nargs="*", help="Hydra overrides after --")
    args = ap.parse_args()
    base = [*DATA[args.data], *args.overrides]
    listed = OmegaConf.load(REPO / "conf" / "select.yaml").select.candidates
    candidates = [OmegaConf.to_container(c) for c in listed if c.head in FAMILIES]
    shared, t_shared, n_shared = run(args.out / "shared", base, candidates, args.seeds)
    t_boot = sum(BOOTSTRAP_SECONDS)
    alone, t_alone, n_alone = {}, 0.0, 0
    for k, cand in enumerate(candidates):
        result, seconds, fits = run(args.out / f"alone_{k}", base, [cand], args.seeds)
        alone.update({(r["candidate"], r["fold"], r["seed"]): r["val_score"]
                      for r in result["trials"]})
        t_alone += seconds
        n_alone += fits
    same = all(alone[(r["candidate"], r["fold"], r["seed"])] == r["val_score"]
               for r in shared["trials"])
    report = {"data": args.data, "overrides": base, "seeds": args.seeds,
              "candidates": [candidate_label(c) for c in candidates],
              "shared_seconds": t_shared, "alone_seconds": t_alone,
              "ratio_shared_to_alone": t_shared / t_alone, "fits_shared": n_shared,
              "fits_alone": n_alone, "scores_identical": same,
              "bootstrap_seconds_shared": t_boot, "bootstrap_share": t_boot / t_shared,
              "winner": shared["chosen"].get("object_relevance", {}).get("candidate")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_selection_fits.json").write_text(json.dumps(report, indent=2))
    print(f"object_relevance on {args.data}: {len(candidates)} candidates, seeds {args.seeds}")
    print(f"shared fits: {n_shared} fits, {t_shared:.1f} s; one selection per candidate: "
          f"{n_alone} fits, {t_alone:.1f} s; ratio {t_shared / t_alone:.2f}x")
    print(f"validation scores identical: {same}; winner {report['winner']}")
    print(f"the margins' bootstrap in the shared run: {t_boot:.1f} s, "
          f"{t_boot / t_shared:.2f} of its wall time")


if __name__ == "__main__":
    main()
