"""Merging chains of edges through pass-through nodes into single edges, in plain numpy.

An OSM extract splits every way at every node, so four in five nodes of a city's walking
network join exactly two edges and decide nothing: a shortest path that reaches one goes on to
the other. Merging each chain of such edges into one edge (its geometry the chain's, its length
the sum) leaves the distances between the remaining nodes unchanged and makes every search
several times smaller. Points snap to the merged geometry as they did to its parts.

A node passes through when it joins exactly two edges that behave alike: on a directed network
both have the same speed and the same two-way flag, and a one-way pair enters and leaves it.
A closed ring of pass-through nodes keeps its lowest node as an end.

Chains are ordered without a loop over nodes: every edge has two half-edges (one per way of
walking it); a half-edge's successor is the next half-edge through the node it arrives at, and
pointer jumping finds, for each half-edge, the last half-edge of its chain and the steps to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Merged:
    """The merged edges: ends, vertex coordinates, and the first original edge of each.

    ``coords``/``index`` list every vertex of every merged edge in order from ``u`` to ``v``
    (``index`` says which merged edge a vertex belongs to); ``first`` is an original edge of
    each chain (for the attributes all its edges share); ``length_m`` sums the chain.
    """

    u: np.ndarray
    v: np.ndarray
    coords: np.ndarray
    index: np.ndarray
    length_m: np.ndarray
    first: np.ndarray


def _pass_through(
    n_nodes: int,
    u: np.ndarray,
    v: np.ndarray,
    backward: np.ndarray | None,
    speed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass-through nodes (mask) and, for each node, its two incident edges (``a``, ``b``)."""
    ends_node = np.concatenate([u, v])
    ends_edge = np.concatenate([np.arange(len(u)), np.arange(len(u))])
    order = np.argsort(ends_node, kind="stable")
    degree = np.bincount(ends_node, minlength=n_nodes)
    start = np.concatenate([[0], np.cumsum(degree)[:-1]])
    two = degree == 2
    a = np.full(n_nodes, -1, dtype=np.int64)
    b = np.full(n_nodes, -1, dtype=np.int64)
    a[two] = ends_edge[order[start[two]]]
    b[two] = ends_edge[order[start[two] + 1]]
    through = two & (a != b)
    if backward is not None and speed is not None:
        nodes = np.flatnonzero(through)
        ea, eb = a[nodes], b[nodes]
        alike = (backward[ea] == backward[eb]) & (speed[ea] == speed[eb])
        # a one-way pair must enter the node by one edge and leave it by the other
        flows = backward[ea] | ((v[ea] == nodes) != (v[eb] == nodes))
        through[nodes] = alike & flows
    return through, a, b


def _break_rings(through: np.ndarray, a: np.ndarray, b: np.ndarray, n_edges: int) -> None:
    """Keep one node of every closed ring of pass-through nodes as an end (in place)."""
    from scipy import sparse  # only a fresh network build gets here
    from scipy.sparse.csgraph import connected_components

    nodes = np.flatnonzero(through)
    if len(nodes) == 0:
        return
    links = sparse.coo_matrix((np.ones(len(nodes)), (a[nodes], b[nodes])), shape=(n_edges, n_edges))
    n_comp, label = connected_components(links, directed=False)
    edges_in = np.bincount(label, minlength=n_comp)
    links_in = np.bincount(label[a[nodes]], minlength=n_comp)
    ring = links_in == edges_in  # a path of m edges has m - 1 links; a ring has m
    if ring.any():
        ring_nodes = nodes[ring[label[a[nodes]]]]
        ring_label = label[a[ring_nodes]]
        lowest = np.full(n_comp, np.iinfo(np.int64).max)
        np.minimum.at(lowest, ring_label, ring_nodes)
        through[lowest[ring]] = False


def merge_chains(
    n_nodes: int,
    u: np.ndarray,
    v: np.ndarray,
    coords: np.ndarray,
    index: np.ndarray,
    length_m: np.ndarray,
    *,
    backward: np.ndarray | None = None,
    speed: np.ndarray | None = None,
) -> Merged:
    """Merge chains of edges through pass-through nodes (see the module docstring).

    Parameters
    ----------
    n_nodes, u, v
        The graph: edge ``i`` runs from node ``u[i]`` to ``v[i]``. Parallel edges and loops
        (``u[i] == v[i]``) may occur: a loop's node joins it twice and never passes through, and
        a chain may close into a loop (two parallel lines through a pass-through node).
    coords, index
        Every vertex of every edge's geometry, from ``u`` to ``v``, and the edge it belongs to
        (grouped by edge, in edge order).
    length_m
        Length of each edge.
    backward, speed
        On a directed network: whether each edge may also be travelled from ``v`` to ``u``,
        and its speed. One-way edges run from ``u`` to ``v`` and keep that direction merged.
    """
    n_edges = len(u)
    through, a, b = _pass_through(n_nodes, u, v, backward, speed)
    _break_rings(through, a, b, n_edges)

    # half-edge h = 2e walks edge e from u to v; h = 2e + 1 from v to u
    halves = np.arange(2 * n_edges)
    edge_of = halves >> 1
    head = np.where(halves & 1, u[edge_of], v[edge_of])
    succ = np.full(2 * n_edges, -1, dtype=np.int64)
    goes_on = through[head]
    h = halves[goes_on]
    node = head[goes_on]
    other = np.where(a[node] == edge_of[h], b[node], a[node])
    succ[h] = 2 * other + (u[other] != node)

    # pointer jumping: the last half-edge of each half-edge's chain and the steps to it
    nxt = succ.copy()
    steps = (succ >= 0).astype(np.int64)
    last = np.where(succ >= 0, succ, halves)
    live = np.flatnonzero(nxt >= 0)
    while len(live):
        j = nxt[live]
        steps[live] += steps[j]
        last[live] = last[j]
        nxt[live] = nxt[j]
        live = live[nxt[live] >= 0]

    # each chain is walked one way: along one-way edges, else from its lower first half-edge
    edges = np.arange(n_edges)
    first_fwd = last[2 * edges + 1] ^ 1  # first half-edge when walking e from u to v
    first_bwd = last[2 * edges] ^ 1
    forward = first_fwd < first_bwd
    if backward is not None:
        forward |= ~backward
    chosen = np.where(forward, 2 * edges, 2 * edges + 1)
    chain = np.where(forward, first_fwd, first_bwd)
    order = np.lexsort((-steps[chosen], chain))  # by chain, from its first edge to its last
    chain_sorted = chain[order]
    starts = np.flatnonzero(np.r_[True, chain_sorted[1:] != chain_sorted[:-1]])
    ends = np.r_[starts[1:], n_edges] - 1
    first_edge, last_edge = order[starts], order[ends]
    new_u = np.where(forward[first_edge], u[first_edge], v[first_edge])
    new_v = np.where(forward[last_edge], v[last_edge], u[last_edge])
    chain_no = np.repeat(np.arange(len(starts)), ends - starts + 1)
    length = np.bincount(chain_no, weights=length_m[order], minlength=len(starts))

    # vertices in chain order, each edge turned as it is walked, shared vertices once
    count = np.bincount(index, minlength=n_edges)
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    rep = np.repeat(order, count[order])
    within = np.arange(len(rep)) - np.repeat(np.cumsum(count[order]) - count[order], count[order])
    pick = offset[rep] + np.where(forward[rep], within, count[rep] - 1 - within)
    opens_chain = np.zeros(n_edges, dtype=bool)
    opens_chain[first_edge] = True
    keep = (within > 0) | opens_chain[rep]
    vertex_chain = np.repeat(chain_no, count[order])
    return Merged(
        u=new_u.astype(np.int64),
        v=new_v.astype(np.int64),
        coords=coords[pick[keep]],
        index=vertex_chain[keep],
        length_m=length,
        first=first_edge,
    )
