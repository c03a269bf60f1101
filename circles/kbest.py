"""The k-best search kernel, compiled with numba (imported only when a rule needs k > 1).

Like every numba kernel of circles it is compiled on first use and cached by numba beside the
installed module (or, where that folder is read-only, in numba's per-user cache folder), so
later runs load it instead of compiling.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _push(hd, hn, hs, size, d, n, s):
    if size == len(hd):
        grow = len(hd) * 2
        nd, nn, ns = np.empty(grow), np.empty(grow, np.int64), np.empty(grow, np.int64)
        nd[:size], nn[:size], ns[:size] = hd[:size], hn[:size], hs[:size]
        hd, hn, hs = nd, nn, ns
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hd[parent] <= d:
            break
        hd[i], hn[i], hs[i] = hd[parent], hn[parent], hs[parent]
        i = parent
    hd[i], hn[i], hs[i] = d, n, s
    return hd, hn, hs, size + 1


@numba.njit(cache=True, nogil=True)
def _pop(hd, hn, hs, size):
    d, n, s = hd[0], hn[0], hs[0]
    size -= 1
    if size > 0:
        ld, ln, ls = hd[size], hn[size], hs[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and hd[child + 1] < hd[child]:
                child += 1
            if hd[child] >= ld:
                break
            hd[i], hn[i], hs[i] = hd[child], hn[child], hs[child]
            i = child
        hd[i], hn[i], hs[i] = ld, ln, ls
    return d, n, s, size


@numba.njit(cache=True, nogil=True)
def k_nearest(indptr, indices, weights, n_nodes, sources, source_ids, k, max_cost):
    """Cost and id of the ``k`` nearest distinct sources of every node (inf / -1 beyond)."""
    cost = np.full((n_nodes, k), np.inf)
    ids = np.full((n_nodes, k), -1, np.int64)
    count = np.zeros(n_nodes, np.int64)
    tentative = np.full(n_nodes, np.inf)  # used when k == 1 to skip labels that cannot win
    cap = max(1024, 4 * len(sources))
    hd, hn, hs = np.empty(cap), np.empty(cap, np.int64), np.empty(cap, np.int64)
    size = 0
    for i in range(len(sources)):
        if k == 1:
            if tentative[sources[i]] <= 0.0:
                continue
            tentative[sources[i]] = 0.0
        hd, hn, hs, size = _push(hd, hn, hs, size, 0.0, sources[i], source_ids[i])
    while size > 0:
        d, u, s, size = _pop(hd, hn, hs, size)
        c = count[u]
        if c >= k:
            continue
        duplicate = False
        for j in range(c):
            if ids[u, j] == s:
                duplicate = True
                break
        if duplicate:
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
            hd, hn, hs, size = _push(hd, hn, hs, size, nd, v, s)
    return cost, ids
