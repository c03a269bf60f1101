"""The default engine: one bounded multi-source search per facility group, k best per node.

No preprocessing, no Python loop over nodes. For the nearest facility (k = 1) the search is
scipy's compiled multi-source Dijkstra, bounded by the horizon, which also says which facility
won each node. For the k nearest *distinct* facilities (a requirement's ``min_count`` > 1, or
the hubs of a hub circle), a group of at most ``FEW_SOURCES`` facilities gets one bounded scipy
search per facility. Larger groups get one label-setting search seeded from all of them at
once, in numba: labels (cost, node, facility) leave a binary heap in cost order, and a node
accepts the first ``k`` labels of distinct facilities; numba is imported, and the search
compiled (then cached on disk), only then.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from circles.traveltime import SearchGraph

FEW_SOURCES = 16  # up to this many facilities, k > 1 runs one scipy search per facility
ZERO_COST = 1e-9  # scipy's graphs drop zero weights; a stub of length 0 costs this instead


def csr(n_nodes: int, frm: np.ndarray, to: np.ndarray, cost: np.ndarray):
    """Adjacency arrays (indptr, indices, weights) keeping parallel arcs (never summed)."""
    order = np.argsort(frm, kind="stable")
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(frm, minlength=n_nodes), out=indptr[1:])
    return indptr, to[order].astype(np.int64), cost[order].astype(np.float64)


class CsgraphEngine:
    """k-nearest facilities per node with one compiled bounded search per group.

    Parameters
    ----------
    graph
        The search graph (undirected, or arcs of a directed network).
    reverse
        On a directed graph, measure from the facility to each node (the default measures from
        the node to the facility): the search then follows arcs forwards from the facilities.
    """

    name = "csgraph"

    def __init__(self, graph: SearchGraph, *, reverse: bool = False):
        self.graph = graph
        frm, to = graph.frm, graph.to
        if not graph.directed:
            frm, to = np.concatenate([frm, to]), np.concatenate([to, frm])
            cost = np.concatenate([graph.cost, graph.cost])
        else:
            cost = graph.cost
            # searching from facilities outward measures facility → node; the default
            # node → facility cost needs the arcs turned round
            if not reverse:
                frm, to = to, frm
        cost = np.maximum(cost, ZERO_COST)
        self.indptr, self.indices, self.weights = csr(graph.n_nodes, frm, to, cost)
        self._matrix: sparse.csr_matrix | None = None

    def _csr_matrix(self) -> sparse.csr_matrix:
        """The graph as a scipy matrix: the cheapest of parallel arcs (never their sum)."""
        if self._matrix is None:
            n = self.graph.n_nodes
            rows = np.repeat(np.arange(n), np.diff(self.indptr))
            key = rows * n + self.indices
            order = np.lexsort((self.weights, key))
            first = np.ones(len(order), dtype=bool)
            first[1:] = key[order][1:] != key[order][:-1]
            keep = order[first]
            self._matrix = sparse.csr_matrix(
                (self.weights[keep], (rows[keep], self.indices[keep])), shape=(n, n)
            )
        return self._matrix

    def each(self, source_nodes: np.ndarray, max_cost: float) -> np.ndarray:
        """Cost from every node to each source (``n_nodes × len(source_nodes)``, inf beyond)."""
        if len(source_nodes) == 0:
            return np.full((self.graph.n_nodes, 0), np.inf)
        nodes = np.asarray(source_nodes, dtype=np.int64)
        dist = dijkstra(self._csr_matrix(), directed=True, indices=nodes, limit=float(max_cost))
        return np.atleast_2d(dist).T

    def nearest(
        self, source_nodes: np.ndarray, source_ids: np.ndarray, k: int, max_cost: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost (``n_nodes × k``, inf where none) and facility id (-1 where none), best first."""
        n = self.graph.n_nodes
        if len(source_nodes) == 0:
            return np.full((n, k), np.inf), np.full((n, k), -1, dtype=np.int64)
        if k == 1:
            nodes = np.asarray(source_nodes, dtype=np.int64)
            dist, _, winner = dijkstra(
                self._csr_matrix(),
                directed=True,
                indices=nodes,
                min_only=True,
                limit=float(max_cost),
                return_predecessors=True,
            )
            id_of = np.full(n, -1, dtype=np.int64)
            id_of[nodes] = np.asarray(source_ids, dtype=np.int64)
            ids = np.where(winner >= 0, id_of[np.maximum(winner, 0)], -1)
            dist = np.where(ids >= 0, dist, np.inf)
            return dist[:, None], ids[:, None]
        if len(source_nodes) <= FEW_SOURCES:
            # a few facilities (hubs, say): one bounded search each, then the k best per node
            dist = self.each(source_nodes, max_cost).T
            order = np.argsort(dist, axis=0, kind="stable")[:k]
            cost = np.take_along_axis(dist, order, axis=0).T
            ids = np.asarray(source_ids, dtype=np.int64)[order].T
            ids = np.where(np.isfinite(cost), ids, -1)
            if cost.shape[1] < k:  # fewer facilities than k
                pad = k - cost.shape[1]
                cost = np.pad(cost, ((0, 0), (0, pad)), constant_values=np.inf)
                ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            return cost, ids
        from circles.kbest import k_nearest

        return k_nearest(
            self.indptr,
            self.indices,
            self.weights,
            n,
            np.asarray(source_nodes, dtype=np.int64),
            np.asarray(source_ids, dtype=np.int64),
            int(k),
            float(max_cost),
        )
