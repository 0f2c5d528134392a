"""Extract many episodes into a feature store:
``python -m xperience_suite.extract data=episodes data.root=/data/xperience [executor=ray]``.

Config: ``conf/extract.yaml`` (``data/episodes.yaml``, ``executor/{local,ray}.yaml``). Shards that
are already current are skipped, so an interrupted run resumes; failed episodes and episodes that
do not fit the store layout are listed in ``<store>/extraction_report.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from .config_tree import config_dir
from .errors import XperienceError
from .features.context import ExtractSettings
from .features.extract import extract_settings
from .runs.cli import guarded
from .runs.config_schema import check_config
from .store import default_store_dir, discover_episodes, run_extraction

log = logging.getLogger("xperience_suite.store")


def settings_of(cfg: DictConfig) -> ExtractSettings:
    """``ExtractSettings`` from the ``windows`` and ``extract`` keys (``extract_settings``, the
    builder training uses too)."""
    return extract_settings(cfg.windows, cfg.get("extract"))


def run(cfg: DictConfig) -> dict:
    """Discover, extract, report; returns the report as a dict."""
    check_config(cfg, "extract")  # before any work
    data = cfg.data
    if data.get("source") != "episodes":
        raise XperienceError(f"data source '{data.get('source')}' cannot be extracted to a store",
                             key="data", expected="data=episodes")
    settings = settings_of(cfg)  # a bad setting fails before any episode is looked at
    refs = discover_episodes(data.root, data.get("manifest"))
    store = Path(str(data.store)).expanduser() if data.get("store") else \
        default_store_dir(data.get("cache_dir"), data.root, data.get("manifest"))
    options = OmegaConf.to_container(cfg.executor, resolve=True)
    name = options.pop("name", "local")
    ext = cfg.get("extract") or {}
    log.info("extracting %d episodes into %s with executor=%s", len(refs), store, name)
    report = run_extraction(refs, store, settings, executor=name,
                            executor_options=options, force=bool(ext.get("force", False)),
                            cache_dir=data.get("cache_dir"),
                            use_cache=bool(ext.get("feature_cache", False)),
                            progress=bool(ext.get("progress", True)), data_root=data.root)
    summary = report.to_dict()
    c = summary["counts"]
    print(f"store {store}: {c['done']} extracted, {c['skipped']} already current, "
          f"{c['failed']} failed, {len(summary['repaired'])} damaged shards rebuilt, "
          f"{len(summary['not_fitting_layout'])} not fitting the layout "
          f"in {summary['seconds']:.1f}s (report: {store / 'extraction_report.json'})")
    for f in summary["failed"]:
        print(f"  failed {f['episode_id']}: {f['error']}")
    for r in summary["repaired"]:
        print(f"  rebuilt {r['episode_id']}: {r['problem']}")
    return summary


@hydra.main(config_path=config_dir(), config_name="extract", version_base="1.3")
def main(cfg: DictConfig):
    guarded(run, cfg)


if __name__ == "__main__":
    main()
