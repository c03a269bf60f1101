"""The facility-side view: what each facility serves, and what closing it would cost.

The figures are checked the only way that counts: the audit is run again without the facility
(removed from the facilities file) and the requirement's population met must drop by exactly
``population_lost``, and by nothing where the facility is not of the requirement's types. On a
real OSM network, with residents and facilities on network vertices, a facility's
``population_within`` is recomputed with networkx from the OSM ways (as in
tests/test_real_networks.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from circles.audit import AuditOptions, AuditResult, run_audit
from circles.project import load_project
from circles.settings import merge
from circles.suggest.impact import IMPACT_COLUMNS, facility_impact
from tests.conftest import ROOT, shared, toy_options
from tests.test_real_networks import main_vertices

EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"
SPEED = 80.0  # m/min, the rules below
RULES = """\
id: walk
name: {zh: 步行, en: walking}
mode: walk
speed_m_per_min: 80
sources: {speed_m_per_min: {ref: test, tag: default}}
zones:
  west: {name: {zh: 西, en: west}}
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
  - id: clinic_by_zone
    facility_type: health_station
    max_time_min: 5
    max_time_min_by_zone: {west: 8}
    target_coverage: 0.8
    sources:
      max_time_min: {ref: test, tag: default}
      max_time_min_by_zone: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
"""


def _met(result: AuditResult) -> pd.Series:
    """The overall population met of every requirement, by (circle_id, requirement_id)."""
    cov = result.coverage
    overall = cov[(cov["scope"] == "overall") & (cov["requirement_id"] != "")]
    return overall.set_index(["circle_id", "requirement_id"])["population_met"].astype(float)


def _picks(table: pd.DataFrame) -> list[str]:
    """Facilities to close: the three losing most population, the one losing most in each
    requirement (k = 2, any-of, zoned), and one serving somebody but losing none."""
    by_lost = table.groupby("facility_id", sort=False)["population_lost"].sum()
    top = list(by_lost.sort_values(ascending=False, kind="stable").index[:3])
    assert by_lost[top].min() > 0, "nothing to reconcile"
    firsts = table.groupby(["circle_id", "requirement_id"], sort=False).head(1)
    top += [
        f
        for f, lost in zip(firsts["facility_id"], firsts["population_lost"], strict=True)
        if lost > 0
    ]
    within = table.groupby("facility_id", sort=False)["population_within"].sum()
    zero = [f for f in by_lost.index if by_lost[f] == 0 and within[f] > 0]
    assert zero, "no facility serving somebody whose closing costs nothing"
    return list(dict.fromkeys([*top, zero[0]]))


def _reconcile(base: AuditResult, table: pd.DataFrame, removed: str, without: AuditResult) -> None:
    """The drop in population met without ``removed`` is its population_lost, per requirement."""
    drop = _met(base) - _met(without)
    rows = table[table["facility_id"] == removed].set_index(["circle_id", "requirement_id"])
    assert len(rows), removed
    for key, value in drop.items():
        if key in rows.index:
            expected = float(rows.loc[key, "population_lost"])
        elif key in set(zip(table["circle_id"], table["requirement_id"], strict=True)):
            expected = 0.0  # a walking or driving requirement of other types
        else:
            continue  # a hub circle: not part of the view
        assert value == pytest.approx(expected, abs=1e-6), (removed, key)


def _check_invariants(table: pd.DataFrame, k: dict[tuple[str, str], int]) -> None:
    """Sole ≤ within, lost ≤ within; with min_count 1, lost is exactly sole."""
    assert list(table.columns) == IMPACT_COLUMNS
    assert (table["population_sole"] <= table["population_within"] + 1e-9).all()
    assert (table["population_lost"] <= table["population_within"] + 1e-9).all()
    for (circle_id, requirement_id), rows in table.groupby(["circle_id", "requirement_id"]):
        lost = rows["population_lost"].to_numpy()
        assert (np.diff(lost) <= 0).all(), "largest population_lost first"
        if k[(circle_id, requirement_id)] == 1:
            np.testing.assert_array_equal(lost, rows["population_sole"].to_numpy())
    off = table["status"] != "ok"
    assert (table.loc[off, ["residents_within", "population_within"]] == 0).all().all()


def _min_counts(result: AuditResult) -> dict[tuple[str, str], int]:
    return {
        (lc.circle.id, r.id): int(r.min_count)
        for lc in result.circles
        for r in lc.circle.requirements
    }


def test_example_reconciles(tmp_path: Path) -> None:
    options = merge(load_project(EXAMPLE), {}).model_copy(
        update={"facility_impact": True, "service_areas": "none"}
    )
    base = run_audit(options)
    table = base.facility_impact
    assert table is not None and base.internals is None  # computed, then let go
    _check_invariants(table, _min_counts(base))
    # every walking and driving requirement, every facility of its types, once
    assert set(table["circle_id"]) == {"life_15min", "activity_10min", "culture_sport_12min", "ems"}
    assert not table.duplicated(["circle_id", "requirement_id", "facility_id"]).any()
    # the zoned driving requirement (EMS: 10 min central, 12 new urban) is weighed too
    ems = table[table["circle_id"] == "ems"]
    assert ems["population_within"].sum() > 0
    facilities = pd.read_csv(options.facilities, dtype=str, keep_default_na=False)
    picks = _picks(table)
    picks.append(str(ems.iloc[0]["facility_id"]))
    for removed in picks:
        path = tmp_path / f"without_{removed}.csv"
        facilities[facilities["id"] != removed].to_csv(path, index=False)
        without = run_audit(
            options.model_copy(update={"facilities": path, "facility_impact": False})
        )
        _reconcile(base, table, removed, without)


def test_same_figures_from_internals() -> None:
    """run_audit(keep_internals) + facility_impact gives the table the setting gives."""
    options = merge(load_project(EXAMPLE), {}).model_copy(update={"service_areas": "none"})
    kept = run_audit(options.model_copy(update={"facility_impact": True}), keep_internals=True)
    assert kept.internals is not None and kept.facility_impact is not None
    pd.testing.assert_frame_equal(facility_impact(kept), kept.facility_impact)
    plain = run_audit(options)
    assert plain.facility_impact is None and plain.internals is None
    with pytest.raises(ValueError, match="keep_internals"):
        facility_impact(plain)


def _vertex_layers(pbf: Path, tmp_path: Path, seed: int) -> tuple[nx.Graph, dict, str]:
    """Residents and facilities on vertices of the main component; the reference graph."""
    graph, lonlat, nodes, crs = main_vertices(pbf)  # one place, one vertex
    rng = np.random.default_rng(seed)
    n_res = 1500
    types = ["primary_school"] * 25 + ["fresh_market"] * 40 + ["pocket_park", "playground"] * 15
    types += ["health_station"] * 30
    picks = rng.choice(nodes, size=n_res + len(types), replace=False)
    res_nodes, fac_nodes = picks[:n_res], picks[n_res:]
    gpd.GeoDataFrame(
        {
            "id": [f"r{i}" for i in range(n_res)],
            "population": rng.integers(1, 500, n_res),
            "node": res_nodes,
        },
        geometry=[shapely.Point(lonlat[n]) for n in res_nodes],
        crs="EPSG:4326",
    ).to_file(tmp_path / "res.geojson")
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(types))], "type": types, "node": fac_nodes},
        geometry=[shapely.Point(lonlat[n]) for n in fac_nodes],
        crs="EPSG:4326",
    ).to_file(tmp_path / "fac.geojson")
    (tmp_path / "walk.yaml").write_text(textwrap.dedent(RULES), encoding="utf-8")
    # the west zone: west of the residents' median longitude (its own threshold)
    lon, lat = np.array([lonlat[n] for n in res_nodes]).T
    west = shapely.box(lon.min() - 0.01, lat.min() - 0.01, float(np.median(lon)), lat.max() + 0.01)
    gpd.GeoDataFrame({"zone": ["west"]}, geometry=[west], crs="EPSG:4326").to_file(
        tmp_path / "zones.geojson"
    )
    return graph, lonlat, crs


@pytest.mark.parametrize(
    ("relative", "seed"),
    [
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 7),
        ("osm_engine_testdata/liechtenstein_valhalla.osm.pbf", 8),
    ],
)
def test_real_network_reconciles(relative: str, seed: int, tmp_path: Path) -> None:
    pbf = shared(relative)
    graph, _, crs = _vertex_layers(pbf, tmp_path, seed)
    options = AuditOptions(
        network=pbf,
        facilities=tmp_path / "fac.geojson",
        residents=tmp_path / "res.geojson",
        rules=[tmp_path / "walk.yaml"],
        zones=tmp_path / "zones.geojson",
        min_component_nodes=0,
        service_areas="none",
        facility_impact=True,
    )
    base = run_audit(options)
    assert base.summary["run"]["crs"] == crs
    table = base.facility_impact
    assert table is not None
    _check_invariants(table, _min_counts(base))
    assert (table["status"] == "ok").all()
    two = table[table["requirement_id"] == "two_markets"]
    assert two["population_lost"].sum() > 0, "the k = 2 requirement loses nobody: no test"
    for any_of_or_zoned in ("park_within_500m", "clinic_by_zone"):
        rows = table[table["requirement_id"] == any_of_or_zoned]
        assert rows["population_lost"].iloc[0] > 0, any_of_or_zoned  # closed below
    # with two needed, a sole provider's residents do not meet it: lost and sole are apart
    assert (two["population_lost"] + two["population_sole"] <= two["population_within"]).all()

    # population within each facility's threshold, independently: networkx from the OSM ways
    residents = gpd.read_file(tmp_path / "res.geojson")
    facilities = gpd.read_file(tmp_path / "fac.geojson")
    node_of = dict(zip(facilities["id"], facilities["node"], strict=True))
    population = dict(zip(residents["node"], residents["population"].astype(float), strict=True))
    west = gpd.read_file(tmp_path / "zones.geojson").geometry.iloc[0]
    in_west = dict(zip(residents["node"], residents.geometry.within(west), strict=True))
    limits_m = {
        "school": lambda n: 10 * SPEED,
        "two_markets": lambda n: 8 * SPEED,
        "park_within_500m": lambda n: 500.0,
        "clinic_by_zone": lambda n: (8 if in_west[n] else 5) * SPEED,
    }
    checked = dict.fromkeys(limits_m, 0)
    for requirement_id, limit_m in limits_m.items():
        rows = table[table["requirement_id"] == requirement_id]
        for row in rows.head(4).itertuples():
            dist = nx.single_source_dijkstra_path_length(
                graph, node_of[row.facility_id], cutoff=10 * SPEED + 1.0, weight="weight"
            )
            dist = {n: d for n, d in dist.items() if n in population}
            if any(abs(d - limit_m(n)) < 0.05 for n, d in dist.items()):
                continue  # a resident on the limit itself: either answer is right
            within = [n for n, d in dist.items() if d <= limit_m(n)]
            assert row.residents_within == len(within), (requirement_id, row.facility_id)
            assert row.population_within == pytest.approx(sum(population[n] for n in within))
            checked[requirement_id] += 1
    assert min(checked.values()) >= 1, checked

    fac_rows = facilities.drop(columns="node")
    for removed in _picks(table):
        path = tmp_path / f"without_{removed}.geojson"
        fac_rows[fac_rows["id"] != removed].to_file(path)
        without = run_audit(
            options.model_copy(update={"facilities": path, "facility_impact": False})
        )
        _reconcile(base, table, removed, without)


def test_off_network_facility_has_zeros_and_a_type_without_facilities_no_rows(
    toy: dict[str, Path],
) -> None:
    """K3 lies 700 m from every street: off the network, zeros; no market at all: no rows."""
    facilities = gpd.read_file(toy["facilities"])
    far = gpd.GeoDataFrame(
        {"id": ["K3"], "type": ["kindergarten"]},
        geometry=[
            shapely.Point(
                facilities.geometry.iloc[0].x + 1000, facilities.geometry.iloc[0].y + 1000
            )
        ],
        crs=facilities.crs,
    )
    changed = pd.concat([facilities[facilities["id"] != "M1"], far], ignore_index=True)
    path = toy["dir"] / "facilities_far.gpkg"
    changed.to_file(path)
    result = run_audit(
        toy_options(toy, facilities=path, service_areas="none", facility_impact=True)
    )
    table = result.facility_impact
    assert table is not None
    assert table["facility_id"].tolist() == ["K1", "K2", "K3"]
    k3 = table.iloc[2]
    assert k3["status"] == "off_network"
    assert k3[["residents_within", "population_within", "population_sole"]].sum() == 0
    assert k3["population_lost"] == 0 and k3["coverage_lost"] == 0
    assert (table["requirement_id"] == "two_kindergartens").all()
