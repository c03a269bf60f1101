"""Reach sets: which residents each source (a facility, a candidate site) reaches in time.

One bounded search per source over the search graph, compiled with numba; as it settles a node
it looks at the residents anchored there (each resident hangs from the two ends of its piece,
with the cost along the piece and its access leg, exactly as
:func:`circles.traveltime.graph.resident_costs` prices it) and keeps those within their own
limit (a zoned threshold differs by resident). The result is sparse: per source, the residents
it reaches and the cost, so memory grows with the sum of the reach sets, never with
sources × residents. Sources are searched on two threads (the kernel releases the GIL).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from circles.traveltime.dijkstra import new_heap, pop_label, push_label
from circles.traveltime.graph import Anchors

THREADS = 2
CHUNK = 256  # sources per task


@dataclass
class ReachSets:
    """Per source ``s``: ``residents[indptr[s]:indptr[s + 1]]`` reached, at ``cost`` (sorted)."""

    indptr: np.ndarray
    residents: np.ndarray
    cost: np.ndarray

    def of(self, source: int) -> np.ndarray:
        """The residents source ``source`` reaches."""
        return self.residents[self.indptr[source] : self.indptr[source + 1]]

    @property
    def sizes(self) -> np.ndarray:
        """How many residents each source reaches."""
        return np.diff(self.indptr)

    def counts(self, n_residents: int) -> np.ndarray:
        """Per resident: how many of the sources reach it."""
        return np.bincount(self.residents, minlength=n_residents)


@numba.njit(cache=True, nogil=True)
def _grow(a, need):
    if need <= len(a):
        return a
    b = np.empty(max(need, 2 * len(a)), a.dtype)
    b[: len(a)] = a
    return b


@numba.njit(cache=True, nogil=True)
def _reach(indptr, indices, weights, sources, max_cost, at_ptr, at_res, at_extra, limit, n_res):  # noqa: C901, PLR0917 (one compiled loop: arrays in)
    """CSR of the residents each source reaches within its limit, and their costs."""
    n_nodes = len(indptr) - 1
    dist = np.full(n_nodes, np.inf)
    touched = np.empty(1024, np.int64)
    best = np.full(n_res, np.inf)
    seen = np.full(n_res, -1, np.int64)
    found = np.empty(1024, np.int64)
    out_ptr = np.zeros(len(sources) + 1, np.int64)
    out_res = np.empty(1024, np.int64)
    out_cost = np.empty(1024)
    n_out = 0
    heap = new_heap(1024)
    for s in range(len(sources)):
        src = sources[s]
        n_touched, n_found, size = 0, 0, 0
        if src >= 0:
            dist[src] = 0.0
            touched[0] = src
            n_touched = 1
            heap, size = push_label(heap, size, 0.0, src)
        while size > 0:
            d, u, size = pop_label(heap, size)
            if d > dist[u]:
                continue
            for e in range(at_ptr[u], at_ptr[u + 1]):
                i = at_res[e]
                c = d + at_extra[e]
                if c > limit[i]:
                    continue
                if seen[i] != s:
                    seen[i] = s
                    best[i] = c
                    found = _grow(found, n_found + 1)
                    found[n_found] = i
                    n_found += 1
                elif c < best[i]:
                    best[i] = c
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = d + weights[e]
                if nd > max_cost or nd >= dist[v]:
                    continue
                if dist[v] == np.inf:
                    touched = _grow(touched, n_touched + 1)
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                heap, size = push_label(heap, size, nd, v)
        for t in range(n_touched):
            dist[touched[t]] = np.inf
        out_res = _grow(out_res, n_out + n_found)
        out_cost = _grow(out_cost, n_out + n_found)
        keep = np.sort(found[:n_found])
        for j in range(n_found):
            out_res[n_out + j] = keep[j]
            out_cost[n_out + j] = best[keep[j]]
        n_out += n_found
        out_ptr[s + 1] = n_out
    return out_ptr, out_res[:n_out].copy(), out_cost[:n_out].copy()


def resident_entries(
    anchors: Anchors, rows: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The residents ``rows`` filed by node: each at both ends of its piece.

    Each entry carries the cost from that end (along the piece, plus the access leg); an end a
    one-way piece does not allow is left out.
    """
    rows = rows[anchors.on_network[rows]]
    node = np.concatenate([anchors.p[rows], anchors.q[rows]])
    extra = np.concatenate(
        [anchors.cost_p[rows] + anchors.leg[rows], anchors.cost_q[rows] + anchors.leg[rows]]
    )
    res = np.concatenate([rows, rows])
    ok = np.isfinite(extra)
    node, extra, res = node[ok], extra[ok], res[ok]
    order = np.argsort(node, kind="stable")
    ptr = np.searchsorted(node[order], np.arange(n_nodes + 1)).astype(np.int64)
    return ptr, res[order].astype(np.int64), extra[order].astype(np.float64)


def reach_sets(
    csr: tuple[np.ndarray, np.ndarray, np.ndarray],
    sources: np.ndarray,
    anchors: Anchors,
    rows: np.ndarray,
    limit: np.ndarray,
) -> ReachSets:
    """The residents ``rows`` each source node reaches within ``limit`` (per resident).

    ``csr`` is the search graph's arcs oriented for the search (``indptr, indices, weights``,
    as :class:`circles.traveltime.engine.BuiltinEngine` holds them); ``sources`` are search-graph
    nodes (-1: a source off the network, which reaches nobody); ``limit`` the largest cost each
    resident may be from a source (same unit as the graph), for every resident.
    """
    indptr, indices, weights = csr
    n_nodes = len(indptr) - 1
    at_ptr, at_res, at_extra = resident_entries(anchors, np.asarray(rows, np.int64), n_nodes)
    limit = np.ascontiguousarray(limit, dtype=np.float64)
    finite = limit[np.isfinite(limit)]
    max_cost = float(finite.max()) if len(finite) else 0.0
    sources = np.ascontiguousarray(sources, dtype=np.int64)
    n_res = len(limit)

    def run(chunk: np.ndarray):
        return _reach(
            indptr, indices, weights, chunk, max_cost, at_ptr, at_res, at_extra, limit, n_res
        )

    chunks = [sources[i : i + CHUNK] for i in range(0, len(sources), CHUNK)] or [sources]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parts = list(pool.map(run, chunks))
    sizes = np.concatenate([np.diff(p[0]) for p in parts])
    return ReachSets(
        indptr=np.r_[0, np.cumsum(sizes)].astype(np.int64),
        residents=np.concatenate([p[1] for p in parts]),
        cost=np.concatenate([p[2] for p in parts]),
    )


def warm_up() -> None:
    """Load the compiled kernel (as the callers call it) ahead of use."""
    one = np.zeros(1, np.int64)
    _reach(
        np.zeros(2, np.int64),
        one[:0],
        np.zeros(0),
        one - 1,
        0.0,
        np.zeros(2, np.int64),
        one[:0],
        np.zeros(0),
        np.zeros(1),
        1,
    )
