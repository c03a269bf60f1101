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
def new_heap(capacity):
    """An empty heap for :func:`push_label` and :func:`pop_label`, room for ``capacity`` labels."""
    return np.empty(2 * max(capacity, 1))


@numba.njit(cache=True, nogil=True)
def push_label(heap, size, d, n):
    """Push label ``n`` at cost ``d`` on the binary heap ``heap`` (grown when full).

    The heap is one array of (cost, label) pairs, a label beside its cost: a sift touches one
    place in memory per level, not two. Labels are stored as floats, exact below 2**53.
    """
    if 2 * size == len(heap):
        grown = np.empty(2 * len(heap))
        grown[: len(heap)] = heap
        heap = grown
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        parent_d = heap[2 * parent]
        if parent_d <= d:
            break
        heap[2 * i], heap[2 * i + 1] = parent_d, heap[2 * parent + 1]
        i = parent
    heap[2 * i], heap[2 * i + 1] = d, n
    return heap, size + 1


@numba.njit(cache=True, nogil=True)
def pop_label(heap, size):
    """Pop the cheapest label: its cost, the label and the new heap size."""
    d, n = heap[0], np.int64(heap[1])
    size -= 1
    if size > 0:
        last_d, last_n = heap[2 * size], heap[2 * size + 1]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            child_d = heap[2 * child]
            if child + 1 < size:
                other_d = heap[2 * child + 2]
                if other_d < child_d:
                    child += 1
                    child_d = other_d
            if child_d >= last_d:
                break
            heap[2 * i], heap[2 * i + 1] = child_d, heap[2 * child + 1]
            i = child
        heap[2 * i], heap[2 * i + 1] = last_d, last_n
    return d, n, size


@numba.njit(cache=True, nogil=True)
def nearest_source(indptr, indices, weights, n_nodes, sources, max_cost):
    """Cost to the nearest source from every node and which source (its index) it is.

    inf and -1 beyond ``max_cost``. Ties go to the source whose label settles first.
    """
    dist = np.full(n_nodes, np.inf)
    winner = np.full(n_nodes, -1, np.int64)
    heap = new_heap(max(1024, 2 * len(sources)))
    size = 0
    for i in range(len(sources)):
        s = sources[i]
        if dist[s] <= 0.0:
            continue
        dist[s], winner[s] = 0.0, i
        heap, size = push_label(heap, size, 0.0, s)
    while size > 0:
        d, u, size = pop_label(heap, size)
        # a node's labels are pushed at ever lower costs: all but its last are stale, and the
        # last leaves the heap once (so no "settled" flags are needed)
        if d > dist[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v] and nd <= max_cost:
                dist[v], winner[v] = nd, winner[u]
                heap, size = push_label(heap, size, nd, v)
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
    heap = new_heap(cap)
    size = 0
    for i in range(len(sources)):
        if k == 1:
            if tentative[sources[i]] <= 0.0:
                continue
            tentative[sources[i]] = 0.0
        heap, size = push_label(heap, size, 0.0, i * n_nodes + sources[i])
    while size > 0:
        d, label, size = pop_label(heap, size)
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
            heap, size = push_label(heap, size, nd, origin * n_nodes + v)
    return cost, ids


def warm_up() -> None:
    """Load the nearest-source kernel (as the engine will call it) ahead of use."""
    index = np.zeros(1, dtype=np.int64)
    nearest_source(np.zeros(2, dtype=np.int64), index[:0], np.zeros(0), 1, index, 1.0)
