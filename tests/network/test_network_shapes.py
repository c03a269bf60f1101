r"""Parallel and closed lines of a centre-line layer: every line stays walkable and snappable.

::

                 P(50,80)                         the loop B → (150,40) → (200,0) → (150,-40) → B
               /          \    bowed A-B, 188.680   runs 2 × (64.031 + 64.031) = 256.125 m round
        A(0,0) ---- 100 ---- B(100,0) <loop>
          |
         100
          |
        C(0,-100)

K (kindergarten) stands at C. Hand-computed walking distances (m):
- R1 (50, 85), 5 m above the bowed line's apex: 5 + 94.340 (half the bowed line) + 100 = 199.340
  (snapping to the straight A-B line instead would give 85 + 50 + 100 = 235).
- R2 (205, 0), 5 m beyond the loop's far point: 5 + 128.062 (half the loop, either way round)
  + 100 + 100 = 333.062.
- R3 (150, 35), 3.1 m off the loop's first leg: its foot on the leg, then round to B, + 200.
- R4 (60, -5), on the straight A-B line: 5 + 60 + 100 = 165 (the straight line stays).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from circles.audit import run_audit
from circles.network.build import build_network
from circles.network.snap import snap_points
from circles.traveltime.engine import BuiltinEngine
from circles.traveltime.engine_pandana import PandanaEngine
from circles.traveltime.graph import anchor_residents, build_search_graph, resident_costs
from tests.conftest import CRS, X0, Y0, at, toy_options

LEG = math.hypot(50, 40)  # one leg of the loop
BOW = math.hypot(50, 80)  # one half of the bowed line


def _layer(tmp_path: Path) -> Path:
    lines = [
        LineString([at(0, 0), at(100, 0)]),
        LineString([at(0, 0), at(50, 80), at(100, 0)]),
        LineString([at(100, 0), at(150, 40), at(200, 0), at(150, -40), at(100, 0)]),
        LineString([at(0, 0), at(0, -100)]),
    ]
    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame({"line": range(len(lines))}, geometry=lines, crs=CRS).to_file(path)
    return path


def _pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array([Point(X0 + x, Y0 + y) for x, y in xy], dtype=object)


@pytest.mark.parametrize("engine", [BuiltinEngine, PandanaEngine])
def test_points_on_parallel_and_closed_lines_walk_along_them(tmp_path: Path, engine) -> None:
    net = build_network(_layer(tmp_path), crs=CRS, min_component_nodes=0)
    assert net.stats["parallel_lines"] == 1 and net.stats["closed_lines"] == 1
    fac = snap_points(net, _pts((0, -100)), 250)
    res = snap_points(net, _pts((50, 85), (205, 0), (150, 35), (60, -5)), 250)
    graph = build_search_graph(net, fac)
    anchors = anchor_residents(net, graph, res)
    cost, _ = resident_costs(
        anchors, *engine(graph).nearest(graph.facility_node, np.array([0]), 1, 5000.0), 1, 5000.0
    )
    foot = shapely.line_locate_point(
        LineString([(100, 0), (150, 40)]), Point(150, 35), normalized=False
    )
    off3 = shapely.distance(LineString([(100, 0), (150, 40)]), Point(150, 35))
    expected = [
        5 + BOW + 100,
        5 + 2 * LEG + 200,
        off3 + foot + 200,
        5 + 60 + 100,  # on the straight A-B line, 60 m from A
    ]
    np.testing.assert_allclose(cost[:, 0], expected, atol=1e-2)  # pandana: millimetres


def test_facility_on_a_closed_line_reached_either_way(tmp_path: Path) -> None:
    net = build_network(_layer(tmp_path), crs=CRS, min_component_nodes=0)
    # a facility at the loop's far point (200, 0); residents at A and just past the loop's start
    fac = snap_points(net, _pts((200, 0)), 250)
    res = snap_points(net, _pts((0, 0), (150, -45)), 250)
    graph = build_search_graph(net, fac)
    anchors = anchor_residents(net, graph, res)
    cost, _ = resident_costs(
        anchors,
        *BuiltinEngine(graph).nearest(graph.facility_node, np.array([0]), 1, 5000.0),
        1,
        5000.0,
    )
    back_leg = LineString([(200, 0), (150, -40)])
    foot = shapely.line_locate_point(back_leg, Point(150, -45))
    off = shapely.distance(back_leg, Point(150, -45))
    np.testing.assert_allclose(cost[:, 0], [100 + 2 * LEG, off + foot], atol=1e-6)


def test_audit_keeps_every_line(tmp_path: Path, toy: dict[str, Path]) -> None:
    """Through the whole audit: the residents on the bowed and closed lines get their own times."""
    fac = tmp_path / "fac.gpkg"
    gpd.GeoDataFrame(
        {"id": ["K"], "type": ["kindergarten"]}, geometry=[Point(at(0, -100))], crs=CRS
    ).to_file(fac)
    res = tmp_path / "res.gpkg"
    gpd.GeoDataFrame(
        {"id": ["R1", "R2"], "population": [10, 10]},
        geometry=[Point(at(50, 85)), Point(at(205, 0))],
        crs=CRS,
    ).to_file(res)
    options = toy_options(
        toy,
        network=_layer(tmp_path),
        facilities=fac,
        residents=res,
        communities=None,
        min_component_nodes=0,
    )
    rows = run_audit(options).residents.set_index("resident_id")
    np.testing.assert_allclose(
        rows["kindergarten_min"],
        [(5 + BOW + 100) / 60, (5 + 2 * LEG + 200) / 60],
        atol=1e-3,
    )
