"""Process settings for city-sized runs: pausing Python's cyclic garbage collector.

An audit makes hundreds of thousands of objects (geometries, ids, workbook cells) that live
until its end. The cyclic collector, triggered by every few hundred allocations, would rescan
them again and again (half a second on a city of 300,000 residents) and find nothing to free:
they are freed by reference counting. It is paused while an audit runs or writes its report,
and restored after.
"""

from __future__ import annotations

import gc
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
