"""Process settings for city-sized runs: pausing Python's cyclic garbage collector.

An audit makes hundreds of thousands of objects (geometries, ids, workbook cells) that live
until its end. The cyclic collector, triggered by every few hundred allocations, would rescan
them again and again (half a second on a city of 300,000 residents) and find nothing to free:
they are freed by reference counting. It is paused while an audit runs or writes its report,
and restored after. Large blocks are mapped on their own (:func:`map_large_blocks`) and what
the stages free is handed back to the system as they go (:func:`release_memory`).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import sys
from collections.abc import Iterator
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


#: glibc's ``mallopt`` parameter for the size from which a block is mapped on its own
M_MMAP_THRESHOLD = -3
#: blocks from this size up are mapped on their own, for good: a city's largest arrays (a
#: raster of 4 million cells, a column of 2 million numbers). Smaller blocks come from the
#: heap, reused without page faults: on Porto a 1 MiB threshold cost 0.5 s of page faults
#: more than 16 MiB, 128 KiB another 0.4 s, for 20-30 MiB less peak
MMAP_THRESHOLD_BYTES = 16 * 1024 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (``malloc_trim`` and ``mallopt``), else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    except (AttributeError, OSError, TypeError):  # macOS, Windows, musl
        return None
    return libc


@functools.cache
def map_large_blocks() -> None:
    """Have glibc map every block of 16 MiB or more on its own, for good (once a process).

    glibc maps from 128 KiB at first, but raises the size each time such a block is freed, up
    to 32 MiB: the largest arrays of a city then come from the heap, and once freed stay there
    as holes the process still counts. Mapped, a freed array goes back to the
    system at once. Left alone when ``MALLOC_MMAP_THRESHOLD_`` sets the size; a no-op elsewhere
    than glibc.
    """
    libc = _glibc()
    if libc is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_memory() -> None:
    """Hand the memory freed so far back to the system (glibc and Arrow keep it otherwise).

    Small blocks freed stay in glibc's heap as holes the process still counts; trimming after
    a stage has dropped what it no longer needs returns those pages: the peak of the next
    stage starts lower. A no-op where the C library cannot trim.
    """
    arrow = sys.modules.get("pyarrow")  # its own allocator keeps what it freed, too
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
