"""Hilbert node order: near nodes get near numbers, and searches give the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from circles.network.build import build_network
from circles.network.order import hilbert_keys, hilbert_numbers, in_hilbert_order
from circles.network.snap import snap_points
from circles.traveltime.engine import BuiltinEngine
from circles.traveltime.graph import anchor_residents, build_search_graph, resident_costs
from tests.conftest import shared


def test_hilbert_keys_walk_the_grid_cell_by_cell() -> None:
    """On a 4 × 4 grid the curve visits every cell once, each step to a neighbouring cell."""
    x, y = np.meshgrid(np.arange(4.0), np.arange(4.0))
    keys = hilbert_keys(x.ravel(), y.ravel(), bits=2)
    assert sorted(keys.tolist()) == list(range(16))
    path = np.argsort(keys)
    steps = np.abs(np.diff(x.ravel()[path])) + np.abs(np.diff(y.ravel()[path]))
    assert (steps == 1).all()


def test_hilbert_keys_of_odd_points() -> None:
    """NaN coordinates go last; a single point or all points at one place get key 0."""
    keys = hilbert_keys(np.array([0.0, np.nan, 5.0]), np.array([0.0, 1.0, 5.0]))
    assert keys[1] == keys.max() and keys[0] < keys[1] and keys[2] < keys[1]
    assert hilbert_keys(np.array([3.0, 3.0]), np.array([1.0, 1.0])).tolist() == [0, 0]
    numbers = hilbert_numbers(np.array([2.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0]))
    assert sorted(numbers.tolist()) == [0, 1, 2]


def test_renumbered_network_gives_the_same_searches() -> None:
    """Only node numbers change: edges, lengths and every resident's cost and facility stay."""
    pbf = shared("osm_engine_testdata/porto_portugal_r5.osm.pbf")
    net = build_network(Path(pbf), min_component_nodes=20)
    ordered = in_hilbert_order(net)
    assert np.array_equal(ordered.length_m, net.length_m)
    assert np.array_equal(ordered.node_x[ordered.u], net.node_x[net.u])
    assert np.array_equal(ordered.node_y[ordered.v], net.node_y[net.v])
    gap = np.median(np.abs(ordered.u - ordered.v))
    assert gap < np.median(np.abs(net.u - net.v))  # near nodes, near numbers

    rng = np.random.default_rng(7)
    box = np.array([net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max()])
    pick = rng.choice(net.n_nodes, 400, replace=False)
    fac = shapely.points(net.node_x[pick], net.node_y[pick])  # on nodes: exact ties happen
    res = shapely.points(rng.uniform(box[0], box[2], 3000), rng.uniform(box[1], box[3], 3000))
    answers = []
    for network in (net, ordered):
        fac_snaps = snap_points(network, fac, 250.0)
        graph = build_search_graph(network, fac_snaps)
        engine = BuiltinEngine(graph)
        rows = np.flatnonzero(fac_snaps.on_network)
        anchors = anchor_residents(network, graph, snap_points(network, res, 250.0))
        for k in (1, 3):
            cost, ids = engine.nearest(graph.facility_node[rows], rows, k, 2000.0)
            answers.append(resident_costs(anchors, cost, ids, k, 2000.0))
    for (cost_a, ids_a), (cost_b, ids_b) in zip(answers[:2], answers[2:], strict=True):
        np.testing.assert_array_equal(cost_a, cost_b)
        np.testing.assert_array_equal(ids_a, ids_b)


def test_numbers_as_built_survive_the_cache(tmp_path: Path, monkeypatch) -> None:
    """A cached network keeps each node's number as built, for the names users see."""
    import pyrosm

    from circles.network.cache import load_network

    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path))
    pbf = Path(pyrosm.get_data("test_pbf"))
    built = build_network(pbf)
    for _ in range(2):  # a miss, then a hit
        net = load_network(pbf)
        number = net.node_numbers_as_built()
        assert sorted(number.tolist()) == list(range(built.n_nodes))
        np.testing.assert_array_equal(built.node_x[number], net.node_x)
        np.testing.assert_array_equal(number[net.u], built.u)
    assert net.stats["cache"] == "hit"
    assert built.node_numbers_as_built().tolist() == list(range(built.n_nodes))
