"""Driving times on real OSM networks against networkx, computed here independently.

The test builds its own directed graph from pyrosm's drivable ways: projected geometry lengths,
one-way rules (``oneway=yes/true/1`` along the way, ``-1`` against it, roundabouts one-way),
class speeds × congestion, the fastest of parallel arcs. EMS stations and residents sit on
vertices of the largest strongly connected component; times run from the station to the
resident.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from circles.network.roads import parse_maxspeed
from tests.conftest import shared

SPEEDS = {"primary": 50, "secondary": 40, "tertiary": 30, "residential": 20, "default": 25}
CONGESTION = 0.77
RULE = f"""\
id: drive_ref
name: {{zh: 驾车参考, en: drive reference}}
mode: drive
direction: from_facility
drive:
  road_class_km_per_h: {{{", ".join(f"{k}: {v}" for k, v in SPEEDS.items())}}}
  congestion_factor: {CONGESTION}
  use_maxspeed: false
  sources:
    road_class_km_per_h: {{ref: test, tag: default}}
    congestion_factor: {{ref: test, tag: default}}
requirements:
  - id: station
    facility_type: ems_station
    max_time_min: 6
    target_coverage: 0.9
    sources:
      max_time_min: {{ref: test, tag: default}}
      target_coverage: {{ref: test, tag: default}}
"""


def _reference(pbf: Path, crs: str) -> tuple[nx.DiGraph, dict]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        _, edges = pyrosm.OSM(str(pbf)).get_network(network_type="driving", nodes=True)
    lengths = edges.to_crs(crs).geometry.length.to_numpy()
    graph = nx.DiGraph()
    for row, length in zip(edges.itertuples(), lengths, strict=True):
        highway = str(row.highway or "").lower()
        km_h = SPEEDS.get(highway, SPEEDS["default"]) * CONGESTION
        seconds = length / (km_h / 3.6)
        oneway = str(getattr(row, "oneway", "") or "").lower()
        junction = str(getattr(row, "junction", "") or "").lower()
        arcs = []
        if oneway in {"yes", "true", "1"} or junction in {"roundabout", "circular"}:
            arcs = [(row.u, row.v)]
        elif oneway == "-1":
            arcs = [(row.v, row.u)]
        else:
            arcs = [(row.u, row.v), (row.v, row.u)]
        for a, b in arcs:
            if a != b and (not graph.has_edge(a, b) or graph[a][b]["s"] > seconds):
                graph.add_edge(a, b, s=seconds)
    lonlat = {}
    for key, pts in (
        (edges["u"], shapely.get_point(edges.geometry.to_numpy(), 0)),
        (edges["v"], shapely.get_point(edges.geometry.to_numpy(), -1)),
    ):
        lonlat.update({n: (p.x, p.y) for n, p in zip(key.to_numpy(), pts, strict=True)})
    return graph, lonlat


def _compare(pbf: Path, tmp_path: Path, n_res: int, n_fac: int, seed: int) -> None:
    rule = tmp_path / "drive.yaml"
    rule.write_text(RULE, encoding="utf-8")
    rng = np.random.default_rng(seed)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        _, probe = pyrosm.OSM(str(pbf)).get_network(network_type="driving", nodes=True)
    lon, lat = probe.geometry.union_all().centroid.coords[0]
    crs = f"EPSG:{(32600 if lat >= 0 else 32700) + int((lon + 180) // 6) + 1}"
    graph, lonlat = _reference(pbf, crs)
    main = np.array(sorted(max(nx.strongly_connected_components(graph), key=len)))
    # a point where two OSM nodes share coordinates (a bridge over a street) is ambiguous in
    # the plane: place nothing there
    where = pd.Series([lonlat[n] for n in main])
    main = main[~where.duplicated(keep=False).to_numpy()]
    picks = rng.choice(main, size=n_res + n_fac, replace=False)
    res_nodes, fac_nodes = picks[:n_res], picks[n_res:]
    pts = lambda ns: [shapely.Point(lonlat[n]) for n in ns]  # noqa: E731
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n_res)], "population": 1},
        geometry=pts(res_nodes),
        crs="EPSG:4326",
    ).to_file(tmp_path / "r.geojson")
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(n_fac)], "type": "ems_station"},
        geometry=pts(fac_nodes),
        crs="EPSG:4326",
    ).to_file(tmp_path / "f.geojson")
    result = run_audit(
        AuditOptions(
            network=pbf,
            facilities=tmp_path / "f.geojson",
            residents=tmp_path / "r.geojson",
            rules=[rule],
            min_component_nodes=0,
        )
    )
    assert result.summary["run"]["crs"] == crs
    rows = result.residents
    assert (rows["status"] == "ok").all()
    dist = nx.multi_source_dijkstra_path_length(graph, list(fac_nodes), weight="s")
    want = np.array([dist.get(n, np.inf) / 60 for n in res_nodes])
    got = rows["ems_station_drive_min"].to_numpy(dtype=float)
    inside = want <= 12 - 0.01  # the search reaches twice the 6-minute threshold
    assert inside.sum() >= 20
    np.testing.assert_allclose(got[inside], want[inside], atol=0.01)
    assert np.isnan(got[want > 12 + 0.01]).all()
    assert ((rows["drive_ref"] == 1).to_numpy() == (want <= 6)).all()


def test_pyrosm_test_extract_drive(tmp_path: Path) -> None:
    _compare(Path(pyrosm.get_data("test_pbf")), tmp_path, 120, 4, seed=11)


@pytest.mark.parametrize(
    ("relative", "n_fac", "seed"),
    [
        ("cn_shanghai_jingan_osmnx/shanghai.osm.pbf", 6, 12),
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 10, 13),
    ],
)
def test_shared_drive_networks(relative: str, n_fac: int, seed: int, tmp_path: Path) -> None:
    _compare(shared(relative), tmp_path, 300, n_fac, seed)


def test_parse_maxspeed() -> None:
    import pandas as pd

    got = parse_maxspeed(pd.Series(["50", "60 km/h", "30 mph", "CN:urban", "", "40;60", None]))
    np.testing.assert_allclose(got[:3], [50, 60, 48.28032])
    assert np.isnan(got[3]) and np.isnan(got[4]) and got[5] == 40 and np.isnan(got[6])
