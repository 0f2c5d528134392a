"""The fast paths of extraction give the same numbers as the plain ones."""

from __future__ import annotations

import platform
import subprocess
import sys

import numpy as np
import pytest
import torch

from xperience_suite.features.kernel_threads import blas_threads, kernel_threads
from xperience_suite.features.context import ExtractSettings
from xperience_suite.features.extract import extract_window_set
from xperience_suite.features.logmel import _quantiles
from xperience_suite.features.resize import area_matrix, area_resize


def test_video_worker_processes_match_one_thread(complete_episode):
    """Six videos in worker processes and the rest in threads == everything in one thread."""
    serial = extract_window_set(complete_episode, ExtractSettings(workers=1), progress=False,
                                use_cache=False)
    parallel = extract_window_set(complete_episode, ExtractSettings(workers=3), progress=False,
                                  use_cache=False)
    assert [b.name for b in serial.blocks] == [b.name for b in parallel.blocks]
    np.testing.assert_array_equal(serial.X, parallel.X)
    assert serial.select(["video_stereo_right"]).any()


def test_quantiles_from_one_sort_equal_torch_quantile():
    gen = torch.Generator().manual_seed(0)
    q = torch.tensor([0.1, 0.5, 0.9])
    for frames in (1, 2, 7, 13, 50, 101, 102):
        x = torch.randn(3, 64, frames, generator=gen)
        want = torch.quantile(x, q, dim=2)
        for i, got in enumerate(_quantiles(x.sort(dim=2).values)):
            assert torch.equal(got, want[i]), (frames, i)


def test_area_resize_is_the_weighted_box_mean():
    rng = np.random.default_rng(0)
    images = rng.random((5, 48, 64))
    got = area_resize(images, (8, 8))
    np.testing.assert_allclose(got, images.reshape(5, 8, 6, 8, 8).mean(axis=(2, 4)), rtol=1e-12)
    odd = rng.random((2, 7, 5))  # partial pixels: the einsum of the two weight matrices
    want = np.einsum("ih,nhw,jw->nij", area_matrix(7, 3), odd, area_matrix(5, 2))
    np.testing.assert_allclose(area_resize(odd, (3, 2)), want, rtol=1e-12)


def test_kernel_threads_limits_and_restores():
    before = blas_threads()
    torch_before = torch.get_num_threads()
    with kernel_threads(1):
        assert all(n == 1 for n in blas_threads())
        assert torch.get_num_threads() == 1
        with kernel_threads(1):
            pass
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
    assert torch.get_num_threads() == torch_before


_FAULTS_SCRIPT = """
import resource
import numpy as np
from xperience_suite.features.allocator import keep_freed_memory

def faults():  # page faults of 5 rounds of four live 3 MB temporaries
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        temps = [np.ones(400_000) for _ in range(4)]
        del temps
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults()
default = faults()
applied = keep_freed_memory()
faults()
print(applied, default, faults(), keep_freed_memory())
"""


def test_keep_freed_memory_stops_refaulting_temporaries():
    """After ``keep_freed_memory`` (which extraction calls before forking its video workers),
    freed temporaries are reused: no new page faults where glibc's defaults fault every page
    of every round again. Run in a fresh interpreter so both settings are seen."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt thresholds are glibc's")
    run = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], capture_output=True, text=True,
                         check=True)
    applied, default, kept, again = run.stdout.split()
    assert applied == again == "True"
    assert int(default) > 4 * 700  # 5 rounds x 4 x 733 pages under glibc's own thresholds
    assert int(kept) < int(default) // 20, run.stdout
