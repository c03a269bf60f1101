"""Merging chains of pass-through nodes: structure by hand, distances against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from circles.network.chains import merge_chains


def _straight(xy: np.ndarray, u: np.ndarray, v: np.ndarray):
    """Straight two-vertex geometries between node coordinates, and their lengths."""
    coords = np.column_stack([xy[u], xy[v]]).reshape(-1, 2)
    index = np.repeat(np.arange(len(u)), 2)
    return coords, index, np.hypot(*(xy[v] - xy[u]).T)


def test_walk_chain_keeps_its_vertices_in_order() -> None:
    # 0 - 1 - 2 - 3 (the second edge drawn from 2 to 1), then two edges leave the junction 3
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [30, 10], [40, 0]], dtype=float)
    u = np.array([0, 2, 2, 3, 3])
    v = np.array([1, 1, 3, 4, 5])
    coords, index, length = _straight(xy, u, v)
    m = merge_chains(len(xy), u, v, coords, index, length)
    assert sorted(zip(m.u.tolist(), m.v.tolist(), strict=True)) == [(0, 3), (3, 4), (3, 5)]
    chain = int(np.flatnonzero((m.u == 0) & (m.v == 3))[0])
    np.testing.assert_allclose(m.coords[m.index == chain], xy[[0, 1, 2, 3]])
    assert m.length_m[chain] == pytest.approx(30)


def test_ring_keeps_its_lowest_node() -> None:
    xy = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    u, v = np.array([1, 2, 3, 0]), np.array([2, 3, 0, 1])
    coords, index, length = _straight(xy, u, v)
    m = merge_chains(len(xy), u, v, coords, index, length)
    assert m.u.tolist() == [0] and m.v.tolist() == [0]
    assert m.length_m[0] == pytest.approx(40)
    assert len(m.coords) == 5  # four corners and back to the start


def test_drive_chains_break_where_edges_differ() -> None:
    # 0 → 1 → 2 one-way; 2 ← 3 one-way against (both enter 2); 3 - 4 two-way; 4 - 5 faster
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0], [50, 0], [60, 0]], dtype=float)
    u = np.array([0, 1, 3, 3, 4, 5])
    v = np.array([1, 2, 2, 4, 5, 6])
    backward = np.array([False, False, False, True, True, True])
    speed = np.array([10.0, 10.0, 10.0, 10.0, 20.0, 20.0])
    coords, index, length = _straight(xy, u, v)
    m = merge_chains(len(xy), u, v, coords, index, length, backward=backward, speed=speed)
    got = sorted(zip(m.u.tolist(), m.v.tolist(), backward[m.first].tolist(), strict=True))
    # 0→1→2 merges along its direction; 2 and 4 stay (head-to-head one-ways; speed change)
    assert got == [(0, 2, False), (3, 2, False), (3, 4, True), (4, 6, True)]


def _random_network(seed: int, *, directed: bool):
    """A grid-like street network with long chains, some one-way streets and two speeds."""
    rng = np.random.default_rng(seed)
    side = 12
    nodes = np.arange(side * side).reshape(side, side)
    pairs = [(nodes[i, j], nodes[i, j + 1]) for i in range(side) for j in range(side - 1)]
    pairs += [(nodes[i, j], nodes[i + 1, j]) for i in range(side - 1) for j in range(side)]
    pairs = np.array(pairs)
    keep = rng.random(len(pairs)) < 0.62  # thin the grid out: many nodes join just two edges
    u, v = pairs[keep, 0], pairs[keep, 1]
    flip = rng.random(len(u)) < 0.5
    u, v = np.where(flip, v, u), np.where(flip, u, v)
    xy = np.column_stack([nodes.ravel() % side, nodes.ravel() // side]) * 100.0
    xy += rng.normal(0, 10, xy.shape)
    coords, index, length = _straight(xy, u, v)
    backward = speed = None
    if directed:
        backward = rng.random(len(u)) < 0.7
        speed = np.where(rng.random(len(u)) < 0.8, 10.0, 15.0)
    return len(xy), u, v, coords, index, length, backward, speed


def _graph(u, v, cost, backward):
    graph = nx.DiGraph()
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        for x, y in [(a, b)] + ([(b, a)] if backward is None or backward[i] else []):
            if x != y and (not graph.has_edge(x, y) or graph[x][y]["w"] > cost[i]):
                graph.add_edge(x, y, w=float(cost[i]))
    return graph


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_distances_between_kept_nodes_do_not_change(seed: int, *, directed: bool) -> None:
    n, u, v, coords, index, length, backward, speed = _random_network(seed, directed=directed)
    cost = length if speed is None else length / speed
    m = merge_chains(n, u, v, coords, index, length, backward=backward, speed=speed)
    assert len(m.u) < len(u)  # the thinned grid has chains to merge
    m_back = None if backward is None else backward[m.first]
    m_cost = m.length_m if speed is None else m.length_m / speed[m.first]
    before = dict(nx.all_pairs_dijkstra_path_length(_graph(u, v, cost, backward), weight="w"))
    after = dict(nx.all_pairs_dijkstra_path_length(_graph(m.u, m.v, m_cost, m_back), weight="w"))
    kept = sorted(set(m.u.tolist()) | set(m.v.tolist()))
    for a in kept:
        expect = {b: d for b, d in before.get(a, {}).items() if b in kept}
        assert after.get(a, {a: 0.0}).keys() == expect.keys() | {a}
        for b, d in expect.items():
            assert after[a][b] == pytest.approx(d, abs=1e-9)
    # every vertex of the input survives, each merged geometry runs from its u to its v
    assert len(m.coords) == len(coords) - (len(u) - len(m.u))
    starts = np.flatnonzero(np.r_[True, m.index[1:] != m.index[:-1]])
    ends = np.r_[starts[1:], len(m.index)] - 1
    xy = np.zeros((n, 2))
    xy[u], xy[v] = coords[0::2], coords[1::2]
    np.testing.assert_allclose(m.coords[starts], xy[m.u])
    np.testing.assert_allclose(m.coords[ends], xy[m.v])
