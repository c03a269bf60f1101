"""Bounded multi-source Dijkstra searches, compiled with numba.

Two kernels over a graph in CSR arrays (``indptr``, ``indices``, ``weights``): the nearest
source of every node (labels leave a binary heap in cost order; each node keeps the first), and
the ``k`` nearest *distinct* sources of every node (labels carry their source; a node accepts
the first ``k`` labels of distinct sources). Both stop at a cost horizon and run without
Python's lock, so several searches can run on several cores at once.

Like every numba kernel of circles they are compiled on first use and cached by numba beside
the installed module (or, where that folder is read-only, in numba's per-user cache folder), so
later runs load them instead of compiling.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def push_label(hd, hn, size, d, n):
    """Push label ``n`` at cost ``d`` on the binary heap ``hd``/``hn`` (grown when full)."""
    if size == len(hd):
        grow_d, grow_n = np.empty(2 * size), np.empty(2 * size, np.int64)
        grow_d[:size], grow_n[:size] = hd, hn
        hd, hn = grow_d, grow_n
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hd[parent] <= d:
            break
        hd[i], hn[i] = hd[parent], hn[parent]
        i = parent
    hd[i], hn[i] = d, n
    return hd, hn, size + 1


@numba.njit(cache=True, nogil=True)
def pop_label(hd, hn, size):
    """Pop the cheapest label: its cost, the label and the new heap size."""
    d, n = hd[0], hn[0]
    size -= 1
    if size > 0:
        last_d, last_n = hd[size], hn[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and hd[child + 1] < hd[child]:
                child += 1
            if hd[child] >= last_d:
                break
            hd[i], hn[i] = hd[child], hn[child]
            i = child
        hd[i], hn[i] = last_d, last_n
    return d, n, size


@numba.njit(cache=True, nogil=True)
def nearest_source(indptr, indices, weights, n_nodes, sources, max_cost):
    """Cost to the nearest source from every node and which source (its index) it is.

    inf and -1 beyond ``max_cost``. Ties go to the source whose label settles first.
    """
    dist = np.full(n_nodes, np.inf)
    winner = np.full(n_nodes, -1, np.int64)
    settled = np.zeros(n_nodes, np.bool_)
    hd, hn = np.empty(max(1024, 2 * len(sources))), np.empty(max(1024, 2 * len(sources)), np.int64)
    size = 0
    for i in range(len(sources)):
        s = sources[i]
        if dist[s] <= 0.0:
            continue
        dist[s], winner[s] = 0.0, i
        hd, hn, size = push_label(hd, hn, size, 0.0, s)
    while size > 0:
        d, u, size = pop_label(hd, hn, size)
        if settled[u] or d > dist[u]:
            continue
        settled[u] = True
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v] and nd <= max_cost:
                dist[v], winner[v] = nd, winner[u]
                hd, hn, size = push_label(hd, hn, size, nd, v)
    return dist, winner


@numba.njit(cache=True, nogil=True, inline="always")
def _holds(ids, u, c, s):
    """Whether the first ``c`` sources found for node ``u`` include source ``s``."""
    j = 0
    while j < c and ids[u, j] != s:
        j += 1
    return j < c


@numba.njit(cache=True, nogil=True)
def k_nearest(indptr, indices, weights, n_nodes, sources, source_ids, k, max_cost):
    """Cost and id of the ``k`` nearest distinct sources of every node (inf / -1 beyond).

    A label is a node and the source it comes from, kept in the heap as one number:
    ``source index × n_nodes + node``.
    """
    cost = np.full((n_nodes, k), np.inf)
    ids = np.full((n_nodes, k), -1, np.int64)
    count = np.zeros(n_nodes, np.int64)
    tentative = np.full(n_nodes, np.inf)  # used when k == 1 to skip labels that cannot win
    cap = max(1024, 4 * len(sources))
    hd, hn = np.empty(cap), np.empty(cap, np.int64)
    size = 0
    for i in range(len(sources)):
        if k == 1:
            if tentative[sources[i]] <= 0.0:
                continue
            tentative[sources[i]] = 0.0
        hd, hn, size = push_label(hd, hn, size, 0.0, i * n_nodes + sources[i])
    while size > 0:
        d, label, size = pop_label(hd, hn, size)
        origin, u = label // n_nodes, label % n_nodes
        s = source_ids[origin]
        c = count[u]
        if c >= k or _holds(ids, u, c, s):
            continue
        cost[u, c] = d
        ids[u, c] = s
        count[u] = c + 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if count[v] >= k:
                continue
            nd = d + weights[e]
            if nd > max_cost:
                continue
            if k == 1:
                if nd >= tentative[v]:
                    continue
                tentative[v] = nd
            hd, hn, size = push_label(hd, hn, size, nd, origin * n_nodes + v)
    return cost, ids


def warm_up() -> None:
    """Load the nearest-source kernel (as the engine will call it) ahead of use."""
    index = np.zeros(1, dtype=np.int64)
    nearest_source(np.zeros(2, dtype=np.int64), index[:0], np.zeros(0), 1, index, 1.0)
