"""Geometry transforms shared by the report writers of one scenario, made once per geometry.

The planned audit's service areas of every requirement without a planned type are the status
quo's own geometry objects (see :mod:`circles.reuse`). Inside a :func:`shared_transforms`
block, an element-wise transform (projection to the output CRS, simplification for map.html)
of such an object is computed for the first report and taken as it is by the second. Each
geometry's result depends on that geometry alone, so the files are the same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar

import numpy as np

_MEMO: ContextVar[dict[Hashable, dict[int, tuple[object, object]]] | None] = ContextVar(
    "circles_shared_transforms", default=None
)


@contextlib.contextmanager
def shared_transforms() -> Iterator[None]:
    """Within the block, :func:`each` remembers the results of each transform it runs."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def each(
    geoms: np.ndarray, key: Hashable, transform: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``transform(geoms)`` for an element-wise ``transform`` named ``key``.

    Inside a :func:`shared_transforms` block, geometry objects transformed before under the
    same ``key`` get their earlier result; only the others are transformed.
    """
    memo_of_all = _MEMO.get()
    geoms = np.asarray(geoms, dtype=object)
    if memo_of_all is None or not len(geoms):
        return transform(geoms)
    memo = memo_of_all.setdefault(key, {})
    out = np.empty(len(geoms), dtype=object)
    todo = []
    for i, geom in enumerate(geoms):
        known = memo.get(id(geom))
        if known is not None and known[0] is geom:
            out[i] = known[1]
        else:
            todo.append(i)
    if todo:
        rows = np.array(todo, dtype=np.int64)
        done = np.asarray(transform(geoms[rows]), dtype=object)
        out[rows] = done
        for geom, result in zip(geoms[rows], done, strict=True):
            memo[id(geom)] = (geom, result)  # the geometry is kept: its id stays its own
    return out
