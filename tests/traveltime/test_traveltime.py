"""Hand-checked travel distances on the toy network drawn in conftest.toy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from circles.network.build import build_network
from circles.network.snap import snap_points
from circles.traveltime.engine_pandana import PandanaEngine
from circles.traveltime.graph import anchor_residents, build_search_graph, resident_costs
from tests.conftest import X0, Y0, toy_options


def _pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array([shapely.Point(X0 + x, Y0 + y) for x, y in xy], dtype=object)


@pytest.fixture
def toy_net(toy: dict[str, Path]):
    return build_network(toy["network"], crs="EPSG:32650")


def test_network_cleaning(toy_net) -> None:
    stats = toy_net.stats
    assert stats["edges_read"] == 7
    assert stats["parallel_lines"] == 1  # the bowed B-C line is kept beside the straight one
    assert stats["closed_lines"] == 0
    assert stats["fragments"] == 1 and stats["fragment_nodes"] == 2
    assert stats["nodes"] == 7 and stats["edges"] == 7
    # B and C join three lines each; the chain C-D-E-A-B through pass-through nodes is one edge
    assert toy_net.n_nodes == 4 and toy_net.n_edges == 4
    assert stats["graph_nodes"] == 4 and stats["graph_edges"] == 4
    assert toy_net.fragment.sum() == 1
    # geometry length, not the straight distance between end points
    main = toy_net.length_m[~toy_net.fragment]
    assert sorted(np.round(main, 3).tolist()) == [100.0, 141.421, 523.607]


def test_snap_offsets_and_legs(toy_net) -> None:
    snaps = snap_points(
        toy_net, _pts((50, 10), (205, 60), (150, -20), (1000, 1000), (510, 505)), 250
    )
    # (510, 505) is 5 m from the F-G fragment: nearest edge on a fragment -> off the network
    assert snaps.on_network.tolist() == [True, True, True, False, False]
    assert snaps.snap_m[4] == pytest.approx(5)
    np.testing.assert_allclose(snaps.snap_m[:3], [10, 5, 20])
    assert snaps.snap_m[3] > 250  # reported even when off the network
    # the offset along the edge's geometry lands on the foot of the perpendicular
    feet = shapely.line_interpolate_point(toy_net.geometry[snaps.edge[:3]], snaps.offset_m[:3])
    np.testing.assert_allclose(
        shapely.get_coordinates(feet) - [X0, Y0], [[50, 0], [200, 60], [150, 0]], atol=1e-6
    )


def test_k_nearest_distinct_facilities(toy_net) -> None:
    fac = snap_points(toy_net, _pts((50, 10), (205, 60), (0, 100)), 250)
    res = snap_points(toy_net, _pts((150, -20), (60, 0), (0, 50)), 250)
    graph = build_search_graph(toy_net, fac)
    anchors = anchor_residents(toy_net, graph, res)
    engine = PandanaEngine(graph)
    kinder = np.array([0, 1])
    node_cost, node_ids = engine.nearest(graph.facility_node[kinder], kinder, 2, 1000.0)
    cost, ids = resident_costs(anchors, node_cost, node_ids, 2, 1000.0)
    # R1: K1 130, K2 135.  R2 (same edge as K1): K1 20, K2 205.  (0,50) on A-E: K1 50+50+10
    np.testing.assert_allclose(
        cost, [[130, 135], [20, 205], [110, 50 + 100 + 100 + 60 + 5]], atol=1e-2
    )
    assert ids.tolist() == [[0, 1], [0, 1], [0, 1]]
    # a horizon cuts results to NaN / -1, never a sentinel distance
    cost, ids = resident_costs(
        anchors, *engine.nearest(graph.facility_node[kinder], kinder, 2, 150.0), 2, 150.0
    )
    assert np.isnan(cost[1, 1]) and ids[1, 1] == -1
    np.testing.assert_allclose(cost[0], [130, 135], atol=1e-2)


def test_audit_times_on_toy(toy: dict[str, Path]) -> None:
    result = run_audit(toy_options(toy))
    rows = result.residents.set_index("resident_id")
    np.testing.assert_allclose(
        rows.loc[["R1", "R2"], "kindergarten_min"], [130 / 60, 20 / 60], atol=1e-3
    )
    np.testing.assert_allclose(
        rows.loc[["R1", "R2"], "fresh_market_min"], [270 / 60, 160 / 60], atol=1e-3
    )
    assert rows["status"].tolist() == ["ok", "ok", "off_network", "off_network"]
    assert rows["community_id"].tolist() == ["east", "west", "unassigned", "unassigned"]
    # two kindergartens within 3 min (180 m): R1 yes (130, 135), R2 no (20, 205);
    # market within 200 m: R1 no (270), R2 yes (160) -> nobody meets the whole circle
    assert rows["toy"].tolist() == [0, 0, 0, 0]
    cov = result.coverage.set_index(["requirement_id", "scope", "community_id"])
    assert cov.loc[("two_kindergartens", "overall", ""), "population_met"] == 100
    assert cov.loc[("market", "overall", ""), "population_met"] == 300
    assert cov.loc[("market", "overall", ""), "population_total"] == 475
    assert cov.loc[("two_kindergartens", "community", "empty"), "residents_total"] == 0
    assert np.isnan(cov.loc[("two_kindergartens", "community", "empty"), "coverage_ratio"])


def test_walk_speed_override_changes_the_answer(toy: dict[str, Path]) -> None:
    base = dict(
        network=toy["network"],
        facilities=toy["facilities"],
        residents=toy["residents"],
        rules=[toy["rules"]],
    )
    slow = run_audit(AuditOptions(**base, walk_speed_m_s=0.5))  # 30 m/min
    rows = slow.residents.set_index("resident_id")
    np.testing.assert_allclose(rows.loc["R1", "kindergarten_min"], 130 / 30, atol=1e-3)
    cov = slow.coverage.set_index(["requirement_id", "scope"])
    assert cov.loc[("two_kindergartens", "overall"), "population_met"] == 0  # 135 m > 90 m
    # a distance threshold does not depend on the speed
    assert cov.loc[("market", "overall"), "population_met"] == 300
