"""Travel costs from every resident to the nearest facilities of each group, on the network.

Facilities become nodes of a search graph: each splits the edge it snaps to and hangs from the
split point by a stub edge as long as its access leg. An engine then finds, for every node, the
``k`` nearest distinct facilities of a group within a horizon. A resident lies on one piece of a
split edge, so its ``k`` nearest facilities are the best of those of the piece's two end nodes,
each shifted by the distance along the piece, plus its own access leg. Costs are metres for the
walking network; NaN means "none within reach".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numba
import numpy as np
import pandas as pd

from circles.network.build import Network
from circles.network.snap import Snaps

SPLIT_EPS_M = 1e-3  # split points closer than this to an end node reuse that node


@dataclass
class SearchGraph:
    """The network with facilities inserted, as plain arrays an engine can search.

    Attributes
    ----------
    n_nodes
        Number of nodes (network nodes, split points, facility stubs).
    frm, to, cost
        Edges and their cost (metres walking, seconds driving): undirected when ``directed`` is
        false, else one arc per direction that may be travelled.
    directed
        Whether ``frm``/``to`` are arcs of a directed network.
    facility_node
        Stub node of each facility row (-1 for facilities not on the network).
    splits
        For edges holding split points: one row per piece start (``edge``, ``offset``, ``node``,
        ``next_offset``, ``next_node``), sorted by edge and offset.
    """

    n_nodes: int
    frm: np.ndarray
    to: np.ndarray
    cost: np.ndarray
    facility_node: np.ndarray
    splits: pd.DataFrame
    directed: bool = False


class Engine(Protocol):
    """Answers "the k nearest facilities of a group from every node, within a horizon".

    On a directed graph the cost runs from the node to the facility, or from the facility to
    the node when the engine was built with ``reverse=True``.
    """

    name: str

    def nearest(
        self, source_nodes: np.ndarray, source_ids: np.ndarray, k: int, max_cost: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost (``n_nodes × k``, inf where none) and facility id (-1 where none), best first."""
        ...

    def each(self, source_nodes: np.ndarray, max_cost: float) -> np.ndarray:
        """Cost from every node to each source (``n_nodes × len(source_nodes)``, inf beyond)."""
        ...

    def nearest_many(
        self, groups: list[tuple[np.ndarray, np.ndarray, int, float]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`nearest` of several ``(source_nodes, source_ids, k, max_cost)``."""
        ...


def build_search_graph(
    network: Network, facilities: Snaps, *, leg_cost_per_m: float = 1.0
) -> SearchGraph:
    """Insert the snapped facilities into the network as split points and stub nodes.

    ``leg_cost_per_m`` prices the facilities' access legs (1 walking: metres; seconds per metre
    driving).
    """
    n_net = network.n_nodes
    on = np.flatnonzero(facilities.on_network)
    fac_edge = facilities.edge[on]
    fac_off = facilities.offset_m[on]
    lengths = network.length_m[fac_edge]

    # one split point per distinct (edge, offset); points at an end reuse the end node
    at_start = fac_off <= SPLIT_EPS_M
    at_end = ~at_start & (fac_off >= lengths - SPLIT_EPS_M)
    inner = ~(at_start | at_end)
    split_node = np.empty(len(on), dtype=np.int64)
    split_node[at_start] = network.u[fac_edge[at_start]]
    split_node[at_end] = network.v[fac_edge[at_end]]
    key_edge, key_off = fac_edge[inner], np.round(fac_off[inner], 6)
    order = np.lexsort((key_off, key_edge))
    key_edge, key_off = key_edge[order], key_off[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (key_edge[1:] != key_edge[:-1]) | (key_off[1:] != key_off[:-1])
    inner_node = np.empty(len(order), dtype=np.int64)
    inner_node[order] = n_net + np.cumsum(new) - 1
    split_node[inner] = inner_node
    n_split = int(new.sum())
    uniq = pd.DataFrame(
        {"edge": key_edge[new], "offset": key_off[new], "node": n_net + np.arange(n_split)}
    )

    # pieces of split edges: start, split points, end
    split_edges = np.unique(uniq["edge"].to_numpy())
    ends = pd.DataFrame(
        {
            "edge": np.concatenate([split_edges, split_edges]),
            "offset": np.concatenate([np.zeros(len(split_edges)), network.length_m[split_edges]]),
            "node": np.concatenate([network.u[split_edges], network.v[split_edges]]),
        }
    )
    points = pd.concat([ends, uniq], ignore_index=True).sort_values(
        ["edge", "offset"], kind="stable"
    )
    points["next_offset"] = points.groupby("edge")["offset"].shift(-1)
    points["next_node"] = points.groupby("edge")["node"].shift(-1)
    splits = points.dropna(subset=["next_node"]).reset_index(drop=True)
    splits["next_node"] = splits["next_node"].astype(np.int64)

    whole = np.ones(network.n_edges, dtype=bool)
    whole[split_edges] = False
    stub_node = n_net + n_split + np.arange(len(on))
    cpm = network.cost_per_m
    piece_edge = splits["edge"].to_numpy()
    a = np.concatenate([network.u[whole], splits["node"].to_numpy()])
    b = np.concatenate([network.v[whole], splits["next_node"].to_numpy()])
    road_cost = np.concatenate(
        [
            network.length_m[whole] * cpm[whole],
            (splits["next_offset"] - splits["offset"]).to_numpy() * cpm[piece_edge],
        ]
    )
    leg_cost = facilities.snap_m[on] * leg_cost_per_m
    backward = network.backward
    directed = backward is not None
    if backward is not None:
        back = np.concatenate([backward[whole], backward[piece_edge]])
        frm = np.concatenate([a, b[back], split_node, stub_node])
        to = np.concatenate([b, a[back], stub_node, split_node])
        cost = np.concatenate([road_cost, road_cost[back], leg_cost, leg_cost])
    else:
        frm = np.concatenate([a, split_node])
        to = np.concatenate([b, stub_node])
        cost = np.concatenate([road_cost, leg_cost])
    facility_node = np.full(len(facilities.edge), -1, dtype=np.int64)
    facility_node[on] = stub_node
    return SearchGraph(
        n_nodes=n_net + n_split + len(on),
        frm=frm.astype(np.int64),
        to=to.astype(np.int64),
        cost=cost.astype(float),
        facility_node=facility_node,
        splits=splits,
        directed=directed,
    )


@dataclass
class Anchors:
    """The two search-graph nodes bracketing each resident and the costs between them.

    ``cost_p``/``cost_q`` are inf where a one-way piece cannot be travelled that way.
    """

    p: np.ndarray
    q: np.ndarray
    cost_p: np.ndarray
    cost_q: np.ndarray
    leg: np.ndarray
    on_network: np.ndarray


@numba.njit(cache=True, nogil=True)
def _piece_of(split_off, first, stop, offset):
    """Per point: the last split row in ``[first, stop)`` whose offset is at most the point's.

    -1 when the edge has no split rows or the point lies before the first.
    """
    out = np.full(len(offset), -1, np.int64)
    for i in range(len(offset)):
        lo, hi = first[i], stop[i]
        while lo < hi:  # first row whose offset exceeds the point's
            mid = (lo + hi) // 2
            if split_off[mid] <= offset[i]:
                lo = mid + 1
            else:
                hi = mid
        if lo > first[i]:
            out[i] = lo - 1
    return out


def anchor_residents(
    network: Network,
    graph: SearchGraph,
    residents: Snaps,
    *,
    direction: str = "to_facility",
    leg_cost_per_m: float = 1.0,
) -> Anchors:
    """Find the piece of the search graph each snapped resident lies on.

    On a directed network, ``direction`` says which way travel goes: ``to_facility`` (the
    resident leaves through a piece end it may drive towards) or ``from_facility`` (the
    facility arrives through a piece end it may drive from).
    """
    n = len(residents.edge)
    on = residents.on_network
    rows = np.flatnonzero(on)
    edge = residents.edge[rows]
    offset = residents.offset_m[rows]
    p = network.u[edge].copy()
    q = network.v[edge].copy()
    to_p = offset.copy()
    to_q = network.length_m[edge] - offset
    if len(graph.splits) and len(rows):
        split_edge = graph.splits["edge"].to_numpy(dtype=np.int64)
        split_off = graph.splits["offset"].to_numpy(dtype=np.float64, copy=True)  # writable
        # the pieces of the resident's edge, then the last piece starting at or before it
        rows_of_edge = np.searchsorted(split_edge, np.arange(network.n_edges + 1))
        piece = _piece_of(split_off, rows_of_edge[edge], rows_of_edge[edge + 1], offset)
        hit = np.flatnonzero(piece >= 0)
        found = graph.splits.iloc[piece[hit]]
        p[hit] = found["node"].to_numpy(dtype=np.int64)
        q[hit] = found["next_node"].to_numpy(dtype=np.int64)
        to_p[hit] = offset[hit] - found["offset"].to_numpy()
        to_q[hit] = found["next_offset"].to_numpy() - offset[hit]
    cpm = network.cost_per_m[edge]
    cost_p, cost_q = np.maximum(to_p, 0) * cpm, np.maximum(to_q, 0) * cpm
    # a piece may be travelled v-ward always, u-ward only if two-way; a resident standing on a
    # piece end needs no travel along the piece at all
    if network.backward is not None:
        one_way = ~network.backward[edge]
        if direction == "to_facility":
            cost_p[one_way & (to_p > SPLIT_EPS_M)] = np.inf
        else:
            cost_q[one_way & (to_q > SPLIT_EPS_M)] = np.inf
    ap, aq = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    cp, cq = np.full(n, np.nan), np.full(n, np.nan)
    ap[rows], aq[rows], cp[rows], cq[rows] = p, q, cost_p, cost_q
    leg = np.where(on, residents.snap_m * leg_cost_per_m, np.nan)
    return Anchors(p=ap, q=aq, cost_p=cp, cost_q=cq, leg=leg, on_network=on.copy())


def _best_distinct(cost: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` smallest costs over distinct ids (inf / -1 where fewer)."""
    order = np.argsort(cost, axis=1, kind="stable")
    cost = np.take_along_axis(cost, order, axis=1)
    ids = np.take_along_axis(ids, order, axis=1)
    if cost.shape[1] > 1:
        dup = np.zeros(ids.shape, dtype=bool)
        for j in range(1, ids.shape[1]):
            dup[:, j] = (ids[:, :j] == ids[:, j : j + 1]).any(axis=1) & (ids[:, j] >= 0)
        cost = np.where(dup, np.inf, cost)
        ids = np.where(dup, -1, ids)
        order = np.argsort(cost, axis=1, kind="stable")
        cost = np.take_along_axis(cost, order, axis=1)
        ids = np.take_along_axis(ids, order, axis=1)
    return cost[:, :k], ids[:, :k]


def resident_costs(
    anchors: Anchors,
    node_cost: np.ndarray,
    node_ids: np.ndarray,
    k: int,
    max_cost: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Cost from each resident to its ``k`` nearest facilities (NaN / -1 beyond ``max_cost``).

    The resident's access leg is included; off-network residents get NaN throughout.
    """
    n = len(anchors.p)
    out_cost = np.full((n, k), np.nan)
    out_ids = np.full((n, k), -1, dtype=np.int64)
    rows = np.flatnonzero(anchors.on_network)
    if len(rows) == 0:
        return out_cost, out_ids
    p, q = anchors.p[rows], anchors.q[rows]
    via_p = node_cost[p] + anchors.cost_p[rows, None]
    via_q = node_cost[q] + anchors.cost_q[rows, None]
    if k == 1:  # the better end; no sorting needed
        use_q = via_q[:, 0] < via_p[:, 0]
        cost = np.where(use_q, via_q[:, 0], via_p[:, 0])[:, None]
        ids = np.where(use_q, node_ids[q, 0], node_ids[p, 0])[:, None]
    else:
        cost, ids = _best_distinct(
            np.concatenate([via_p, via_q], axis=1),
            np.concatenate([node_ids[p], node_ids[q]], axis=1),
            k,
        )
    cost = cost + anchors.leg[rows, None]
    beyond = ~(cost <= max_cost)
    out_cost[rows] = np.where(beyond, np.nan, cost)
    out_ids[rows] = np.where(beyond, -1, ids)
    return out_cost, out_ids


@numba.njit(cache=True, nogil=True, inline="always")
def via_better_end(node_cost, column, p, q, cost_p, cost_q, leg):
    """A resident's cost to ``column``: through the cheaper end of its piece, plus its leg."""
    return min(node_cost[p, column] + cost_p, node_cost[q, column] + cost_q) + leg


@numba.njit(cache=True, nogil=True)
def _gather(p, q, cost_p, cost_q, leg, on, node_cost, max_cost):
    """``m × n``: cost from resident ``i`` to column ``j`` via the better end of its piece."""
    n, m = len(p), node_cost.shape[1]
    out = np.full((m, n), np.nan)
    for i in range(n):
        if not on[i]:
            continue
        a, b = p[i], q[i]
        for j in range(m):
            c = via_better_end(node_cost, j, a, b, cost_p[i], cost_q[i], leg[i])
            if c <= max_cost[j]:
                out[j, i] = c
    return out


def resident_costs_each(
    anchors: Anchors, node_cost: np.ndarray, max_cost: float | np.ndarray
) -> np.ndarray:
    """Cost from each resident to each column of ``node_cost`` (NaN beyond ``max_cost``).

    ``node_cost`` is ``n_nodes × m``: one column per facility (:meth:`Engine.each`), or the
    cost to the nearest facility of one group per column (``max_cost`` then one per column).
    The resident's access leg is included; off-network residents get NaN throughout. The
    ``n × m`` result is stored column by column (each column is contiguous).
    """
    m = node_cost.shape[1]
    limits = np.full(m, max_cost, dtype=np.float64)  # (a writable array: one kernel variant)
    return _gather(
        anchors.p,
        anchors.q,
        anchors.cost_p,
        anchors.cost_q,
        anchors.leg,
        anchors.on_network,
        np.ascontiguousarray(node_cost, dtype=np.float64),
        limits,
    ).T


def warm_up() -> None:
    """Load the compiled kernels (as the audit will call them) ahead of use."""
    index, one, flag = np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1, dtype=bool)
    _gather(index, index, one, one, one, flag, np.zeros((1, 1)), one)
    _piece_of(one, index, index, one)
