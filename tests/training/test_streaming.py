"""Many episodes stream from a scratch matrix: row reads, chunked scalers, per-rank batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xperience_suite.heads.datamodule import TaskDataModule, TensorBatches
from xperience_suite.heads.module import ClassificationHead
from xperience_suite.heads.streaming import EpisodeBatches, column_moments, episode_runs
from xperience_suite.tasks.base import TaskData
from xperience_suite.tasks.row_file import RowFile

from .conftest import TINY, compose_train

SIZES = [7, 30, 3, 12, 18, 9, 25]  # samples per episode


def _matrix(n: int, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * rng.uniform(0.1, 50, size=d) + rng.normal(size=d) * 100
            ).astype(np.float32)


def _row_file(x: np.ndarray, tmp_path, pieces: int = 3) -> RowFile:
    rows = RowFile(x.shape[1], tmp_path)
    for part in np.array_split(x, pieces):
        rows.append(part)
    return rows


def test_row_file_reads_what_was_appended(tmp_path):
    x = _matrix(50)
    rows = _row_file(x, tmp_path)
    assert rows.shape == (50, 6) and len(rows) == 50
    assert list(tmp_path.iterdir()) == []  # the scratch file is unlinked from the start
    np.testing.assert_array_equal(rows[10:23], x[10:23])
    np.testing.assert_array_equal(rows[-1], x[-1])
    idx = np.array([40, 3, 3, 4, 5, 49, 0])
    np.testing.assert_array_equal(rows[idx], x[idx])
    mask = np.arange(50) % 3 == 0
    np.testing.assert_array_equal(rows[mask], x[mask])
    np.testing.assert_array_equal(np.asarray(rows), x)
    with pytest.raises(IndexError):
        rows[np.array([50])]


def test_chunked_scalers_equal_whole_matrix_scalers():
    x = torch.from_numpy(_matrix(300, d=9))
    x[:, 4] = 3.25  # a constant column gets std 1
    y = torch.arange(300) % 3
    head = {"name": "mlp", "hidden": 8, "layers": 1, "dropout": 0.0}
    task = {"primary_metric": "macro_f1", "higher_is_better": True}
    whole = ClassificationHead(9, 3, head, task)
    chunked = ClassificationHead(9, 3, head, task)
    whole.fit_scalers(x, y)
    chunked.fit_scalers(iter(x.split(37)), y)
    torch.testing.assert_close(chunked.x_mean, whole.x_mean, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(chunked.x_std, whole.x_std, rtol=1e-6, atol=1e-6)
    assert chunked.x_std[4] == 1.0
    torch.testing.assert_close(chunked.class_weight, whole.class_weight)
    mean, std = column_moments([x[:1], x[1:]])
    torch.testing.assert_close(std, x.double().std(0, unbiased=False), rtol=1e-9, atol=1e-9)


def _episode_batches(x, rows, world, batch_size=8):
    group = np.repeat(np.arange(len(SIZES)), SIZES)
    y = torch.arange(len(x))  # a sample's target is its own index
    train = np.flatnonzero(group != 2)  # episode 2 is not trained on
    runs = episode_runs(train, group)
    return [EpisodeBatches(rows, y, group, runs, batch_size, seed=3, rank=r, world=world,
                           read_rows=16) for r in range(world)], group, train


@pytest.mark.parametrize("world", [1, 2, 3])
def test_episode_batches_cover_disjoint_shares_with_equal_batch_counts(tmp_path, world):
    x = _matrix(sum(SIZES))
    loaders, group, train = _episode_batches(x, _row_file(x, tmp_path), world)
    seen_by_rank = []
    for loader in loaders:
        batches = list(loader)
        assert len(batches) == len(loaders[0]) == len(loader)  # no rank waits for another
        for xb, yb, gb in batches:
            np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])  # rows match their targets
            np.testing.assert_array_equal(gb.numpy(), group[yb.numpy()])
        seen_by_rank.append(torch.cat([b[1] for b in batches]).numpy())
    episodes = [set(group[s]) for s in seen_by_rank]
    for a in range(world):
        for b in range(a + 1, world):
            assert not episodes[a] & episodes[b]  # whole episodes per rank
    everything = np.concatenate(seen_by_rank)
    assert set(everything) == set(train)  # every train sample, nothing else
    assert len(everything) == world * max(len(s) for s in seen_by_rank)
    if world == 1:
        assert sorted(everything) == sorted(train)  # one process: no repeats


def test_episode_batches_reshuffle_each_epoch_and_mix_episodes(tmp_path):
    x = _matrix(sum(SIZES))
    (loader,), group, _ = _episode_batches(x, _row_file(x, tmp_path), 1)
    first = torch.cat([b[1] for b in loader]).numpy()
    second = torch.cat([b[1] for b in loader]).numpy()
    assert sorted(first) == sorted(second) and not np.array_equal(first, second)
    assert any(len(set(group[b[1].numpy()])) > 1 for b in loader)  # buffers mix episodes


def test_tensor_batches_shard_by_index_with_equal_counts():
    x = torch.from_numpy(_matrix(23))
    y = torch.arange(23)
    ranks = [list(TensorBatches(x, y, 4, shuffle=True, seed=1, rank=r, world=2))
             for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) == 3
    seen = [torch.cat([b[1] for b in batches]) for batches in ranks]
    assert len(seen[0]) == len(seen[1]) == 12
    assert set(torch.cat(seen).tolist()) == set(range(23))
    assert all((b[2] == 0).all() for batches in ranks for b in batches)  # one episode: group 0


def test_data_module_streams_a_row_file(tmp_path):
    x = _matrix(sum(SIZES))
    group = np.repeat(np.arange(len(SIZES)), SIZES)
    bounds = np.cumsum([0] + SIZES)
    data = TaskData(task="t", kind="classification", x=_row_file(x, tmp_path),
                    y=(np.arange(len(x)) % 3).astype(np.int64), train_idx=np.arange(bounds[5]),
                    test_idx=np.arange(bounds[6], bounds[7]), sample_ids=[], input_blocks=[],
                    class_names=["a", "b", "c"])
    data.extra.update(episode_index=group, val_idx=np.arange(bounds[5], bounds[6]))
    dm = TaskDataModule(data, batch_size=8, full_batch=False, eval_rows=10)
    assert dm.streaming
    chunks = list(dm.train_x())
    assert max(len(c) for c in chunks) <= 256
    np.testing.assert_array_equal(torch.cat(chunks).numpy(), x[:bounds[5]])
    test = list(dm.test_dataloader())
    assert [len(b[0]) for b in test] == [10, 10, 5]
    np.testing.assert_array_equal(torch.cat([b[0] for b in test]).numpy(), x[bounds[6]:])
    assert set(torch.cat([b[2] for b in test]).tolist()) == {6}
    val = list(dm.val_dataloader())
    np.testing.assert_array_equal(torch.cat([b[1] for b in val]).numpy(),
                                  data.y[bounds[5]:bounds[6]])
    data.extra["val_idx"] = np.arange(0)
    assert dm.val_dataloader() == []
    full = TaskDataModule(data, batch_size=8, full_batch=True)  # minimal heads: one whole batch
    (xb, yb, gb), = list(full.train_dataloader())
    np.testing.assert_array_equal(xb.numpy(), x[:bounds[5]])


def test_training_over_episodes_streams_the_task_matrix(tmp_path, episode_set):
    from xperience_suite.runs.training import build_task_data, run_training

    cfg = compose_train(tmp_path, ["data=episodes", f"data.root={episode_set}", "split=episodes",
                                   "task=timeline_action", "head=mlp", "head.batch_size=16", *TINY])
    ws, task, data = build_task_data(cfg)
    assert isinstance(data.x, RowFile)
    first = data.extra["episode_index"] == 0
    eid = data.sample_ids[int(np.flatnonzero(first)[0])].split(":")[0]
    alone = task.build(dict(_episode_sets(cfg))[eid], "all", {**dict(cfg.task), "test_fraction": 0.0})
    np.testing.assert_array_equal(data.x[np.flatnonzero(first)], alone.x)  # rows in place
    summary = run_training(cfg)
    assert summary["status"] == "ok" and summary["num_test"] == len(data.test_idx) > 0
    assert list(tmp_path.glob("task_rows_*")) == []


def _episode_sets(cfg):
    from xperience_suite.runs.training import plain
    from xperience_suite.data.sources import load_episode_window_sets

    return load_episode_window_sets(plain(cfg.data), plain(cfg.windows))[1]


def test_released_shard_pages_read_back_unchanged(tmp_path):
    from xperience_suite.tasks.across_episodes import release_pages

    x = _matrix(40)
    np.save(tmp_path / "windows.npy", x)
    mapped = np.load(tmp_path / "windows.npy", mmap_mode="r")
    assert float(mapped.sum()) == pytest.approx(float(x.sum()), rel=1e-5)  # pages touched
    release_pages(mapped[5:])  # a view finds its map
    release_pages(x)  # an in-memory array: nothing to release
    np.testing.assert_array_equal(mapped, x)
