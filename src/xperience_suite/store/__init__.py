"""Feature store: one shard folder per episode in a fixed cross-episode layout.

``discover_episodes`` finds episodes (folder search or manifest), ``run_extraction`` writes the
shards with a local process pool or Ray, ``open_store`` reads them back memory-mapped.
"""

from .discover import EpisodeRef, discover_episodes, read_manifest_file
from .executors import EXECUTORS, ExtractionReport, make_executor, run_extraction
from .layout import CALIBRATION_SLOTS, StoreLayout, store_layout
from .location import check_store_location, default_store_dir
from .names import check_episode_ids
from .reader import StoreView, WindowConcat, concat, open_store
from .shard import ShardResult, check_shard, extract_one, is_current, read_shard_meta, shard_dir

__all__ = ["CALIBRATION_SLOTS", "EXECUTORS", "EpisodeRef", "ExtractionReport", "ShardResult",
           "StoreLayout", "StoreView", "WindowConcat", "check_episode_ids", "check_shard",
           "check_store_location", "concat", "default_store_dir", "discover_episodes",
           "extract_one", "is_current", "make_executor", "open_store", "read_manifest_file",
           "read_shard_meta", "run_extraction", "shard_dir", "store_layout"]
