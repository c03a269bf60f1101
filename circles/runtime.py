"""Process settings for city-sized runs: pausing Python's cyclic garbage collector.

An audit makes hundreds of thousands of objects (geometries, ids, workbook cells) that live
until its end. The cyclic collector, triggered by every few hundred allocations, would rescan
them again and again (half a second on a city of 300,000 residents) and find nothing to free:
they are freed by reference counting. It is paused while an audit runs or writes its report,
and restored after. What the stages free is handed back to the system as they go
(:func:`release_memory`).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (as it was, after)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The malloc_trim of glibc; None where the C library has none (macOS, Windows, musl)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> None:
    """Hand the memory freed so far back to the system (glibc and Arrow keep it otherwise).

    The arrays of a city (a few megabytes each, below the size glibc maps on its own) are
    carved from the heap; freed, they stay there as holes the process still counts. Trimming
    after a stage has dropped what it no longer needs returns those pages: the peak of the next
    stage starts lower. A no-op where the C library cannot trim.
    """
    arrow = sys.modules.get("pyarrow")  # its own allocator keeps what it freed, too
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
