"""Tests for circles.runtime: the paused collector and handing freed memory back."""

from __future__ import annotations

import gc

import numpy as np

from circles.runtime import collector_paused, map_large_blocks, release_memory


def test_collector_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_release_memory_keeps_what_is_alive() -> None:
    kept = np.arange(1_000_000, dtype=np.float64)
    freed = [np.ones(10_000) for _ in range(100)]
    del freed
    release_memory()
    release_memory()  # again: nothing left to trim
    assert kept.sum() == 499999500000.0


def test_map_large_blocks_once_and_arrays_still_work() -> None:
    map_large_blocks()
    map_large_blocks()  # once a process: the second call does nothing
    big = np.full(1_000_000, 2.0)
    assert float(big.sum()) == 2_000_000.0
