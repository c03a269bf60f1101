"""The default engine: one bounded multi-source search per facility group, k best per node.

No preprocessing, no Python loop over nodes: the searches are the numba kernels of
:mod:`circles.traveltime.dijkstra`. For the nearest facility (k = 1) one search is seeded from
all the group's facilities at once and says which facility won each node. For the k nearest
*distinct*
facilities (a requirement's ``min_count`` > 1, or the hubs of a hub circle), a group of at most
``FEW_SOURCES`` facilities gets one search per facility; larger groups get one label-setting
search from all of them that keeps the first ``k`` distinct facilities reaching each node.
The kernels run without Python's lock: the searches of :meth:`BuiltinEngine.each` and
:meth:`BuiltinEngine.nearest_many` use both cores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from circles.traveltime.dijkstra import k_nearest, nearest_source
from circles.traveltime.graph import SearchGraph

FEW_SOURCES = 16  # up to this many facilities, k > 1 runs one search per facility
THREADS = 2  # searches at once (the kernels release the GIL)


def csr(n_nodes: int, frm: np.ndarray, to: np.ndarray, cost: np.ndarray):
    """Adjacency arrays (indptr, indices, weights) keeping parallel arcs (never summed)."""
    order = np.argsort(frm, kind="stable")
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(frm, minlength=n_nodes), out=indptr[1:])
    return indptr, to[order].astype(np.int64), cost[order].astype(np.float64)


class BuiltinEngine:
    """k-nearest facilities per node with one compiled bounded search per group.

    Parameters
    ----------
    graph
        The search graph (undirected, or arcs of a directed network).
    reverse
        On a directed graph, measure from the facility to each node (the default measures from
        the node to the facility): the search then follows arcs forwards from the facilities.
    """

    name = "builtin"

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
        self.indptr, self.indices, self.weights = csr(graph.n_nodes, frm, to, cost)

    def _from(self, source_nodes: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray]:
        nodes = np.ascontiguousarray(source_nodes, dtype=np.int64)
        n = self.graph.n_nodes
        return nearest_source(self.indptr, self.indices, self.weights, n, nodes, float(max_cost))

    def each(self, source_nodes: np.ndarray, max_cost: float) -> np.ndarray:
        """Cost from every node to each source (``n_nodes × len(source_nodes)``, inf beyond)."""
        out = np.full((len(source_nodes), self.graph.n_nodes), np.inf)
        if len(source_nodes):
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                jobs = [
                    pool.submit(self._from, np.array([node]), max_cost) for node in source_nodes
                ]
                for row, job in zip(out, jobs, strict=True):
                    row[:] = job.result()[0]
        return out.T

    def nearest_many(
        self, groups: list[tuple[np.ndarray, np.ndarray, int, float]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`nearest` of several ``(source_nodes, source_ids, k, max_cost)`` at once."""
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            jobs = [pool.submit(self.nearest, *group) for group in groups]
            return [job.result() for job in jobs]

    def nearest(
        self, source_nodes: np.ndarray, source_ids: np.ndarray, k: int, max_cost: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost (``n_nodes × k``, inf where none) and facility id (-1 where none), best first."""
        n = self.graph.n_nodes
        if len(source_nodes) == 0:
            return np.full((n, k), np.inf), np.full((n, k), -1, dtype=np.int64)
        ids_in = np.asarray(source_ids, dtype=np.int64)
        if k == 1:
            dist, winner = self._from(source_nodes, max_cost)
            ids = np.where(winner >= 0, ids_in[np.maximum(winner, 0)], -1)
            return dist[:, None], ids[:, None]
        if len(source_nodes) <= FEW_SOURCES:
            # a few facilities (hubs, say): one bounded search each, then the k best per node
            dist = self.each(source_nodes, max_cost).T
            order = np.argsort(dist, axis=0, kind="stable")[:k]
            cost = np.take_along_axis(dist, order, axis=0).T
            ids = ids_in[order].T
            ids = np.where(np.isfinite(cost), ids, -1)
            if cost.shape[1] < k:  # fewer facilities than k
                pad = k - cost.shape[1]
                cost = np.pad(cost, ((0, 0), (0, pad)), constant_values=np.inf)
                ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            return cost, ids
        return k_nearest(
            self.indptr,
            self.indices,
            self.weights,
            n,
            np.asarray(source_nodes, dtype=np.int64),
            ids_in,
            int(k),
            float(max_cost),
        )
