"""The pandana engine: contraction-hierarchy range queries (the only module importing pandana).

pandana snaps points to the nearest node by coordinates and returns the search radius where
fewer than ``k`` facilities are in reach; both are hidden here. Nodes are given synthetic
coordinates (x = node index) so that facilities map to exactly the stub node circles chose, and
missing results come back as ``inf`` / ``-1``, never as a sentinel distance. pandana writes
progress to the process's standard output from C++; it is silenced at the file-descriptor level.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd

from circles.traveltime.graph import SearchGraph


@contextlib.contextmanager
def _silence_stdout() -> Iterator[None]:
    """Redirect file descriptor 1 to /dev/null (C++ code prints there directly)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. captured by a test runner): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _simple_edges(
    frm: np.ndarray, to: np.ndarray, cost: np.ndarray, *, directed: bool
) -> pd.DataFrame:
    """The edges pandana is given: loops left out, the cheapest of parallel edges kept.

    Neither changes a distance between nodes (points on a loop or on the dearer of two
    parallel lines reach their end nodes through their own edge, outside the engine); pandana's
    contraction hierarchy is not documented to accept either.
    """
    keep = frm != to
    frm, to, cost = frm[keep], to[keep], cost[keep]
    a, b = (frm, to) if directed else (np.minimum(frm, to), np.maximum(frm, to))
    order = np.lexsort((cost, b, a))
    a, b = a[order], b[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    pick = order[first]
    return pd.DataFrame({"from": frm[pick], "to": to[pick], "cost": cost[pick]})


class PandanaEngine:
    """k-nearest facilities per node with pandana.

    Parameters
    ----------
    graph
        The search graph (undirected, or arcs of a directed network).
    reverse
        On a directed graph, measure from the facility to each node (pandana measures from the
        node to the facility), by searching the graph with every arc turned round.
    """

    name = "pandana"

    def __init__(self, graph: SearchGraph, *, reverse: bool = False):
        import pandana  # heavy import, only when this engine is used

        self.graph = graph
        nodes = pd.DataFrame(
            {"x": np.arange(graph.n_nodes, dtype=float), "y": np.zeros(graph.n_nodes)}
        )
        frm, to = (graph.to, graph.frm) if reverse else (graph.frm, graph.to)
        edges = _simple_edges(frm, to, graph.cost, directed=graph.directed)
        with _silence_stdout():
            self.net = pandana.Network(
                nodes["x"],
                nodes["y"],
                edges["from"],
                edges["to"],
                edges[["cost"]],
                twoway=not graph.directed,
            )
        self._categories = 0

    def each(self, source_nodes: np.ndarray, max_cost: float) -> np.ndarray:
        """Cost from every node to each source (``n_nodes × len(source_nodes)``, inf beyond)."""
        n_src = len(source_nodes)
        out = np.full((self.graph.n_nodes, n_src), np.inf)
        if n_src == 0:
            return out
        cost, ids = self.nearest(source_nodes, np.arange(n_src), n_src, max_cost)
        rows, cols = np.nonzero(ids >= 0)
        out[rows, ids[rows, cols]] = cost[rows, cols]
        return out

    def nearest_many(
        self, groups: list[tuple[np.ndarray, np.ndarray, int, float]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`nearest` of several ``(source_nodes, source_ids, k, max_cost)``, in turn."""
        return [self.nearest(*group) for group in groups]

    def nearest(
        self, source_nodes: np.ndarray, source_ids: np.ndarray, k: int, max_cost: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost (``n_nodes × k``, inf where none) and facility id (-1 where none), best first."""
        n = self.graph.n_nodes
        cost = np.full((n, k), np.inf)
        ids = np.full((n, k), -1, dtype=np.int64)
        if len(source_nodes) == 0:
            return cost, ids
        self._categories += 1
        category = f"group{self._categories}"
        index = pd.Index(np.asarray(source_ids, dtype=np.int64))
        x = pd.Series(np.asarray(source_nodes, dtype=float), index=index)
        y = pd.Series(np.zeros(len(source_nodes)), index=index)
        with _silence_stdout():
            self.net.set_pois(category, float(max_cost), int(k), x, y)
            result = self.net.nearest_pois(
                float(max_cost), category, num_pois=int(k), include_poi_ids=True
            )
        for j in range(k):
            poi = result[f"poi{j + 1}"].to_numpy(dtype=float)
            found = np.isfinite(poi)
            ids[found, j] = poi[found].astype(np.int64)
            cost[found, j] = result[j + 1].to_numpy(dtype=float)[found]
        return cost, ids
