"""Service areas against shapes computed by hand, and their layers in the report folder."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from circles.areas.raster import trace
from circles.audit import AuditOptions, run_audit
from tests.conftest import CRS, at, toy_options, walk_rule_text


def _street(tmp_path: Path, *, max_snap: float, per_facility: bool = False):
    """One straight 1 km street, a school at its west end; 5 min at 80 m/min = 400 m."""
    net = tmp_path / "street.geojson"
    gpd.GeoDataFrame(geometry=[LineString([at(0, 0), at(1000, 0)])], crs=CRS).to_file(net)
    fac = tmp_path / "fac.geojson"
    gpd.GeoDataFrame(
        {"id": ["S1"], "type": ["primary_school"]}, geometry=[Point(at(0, 0))], crs=CRS
    ).to_file(fac)
    res = tmp_path / "res.geojson"
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(-450, 1000, 4000), rng.uniform(-450, 450, 4000)])
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(len(xy))], "population": 1},
        geometry=[Point(at(x, y)) for x, y in xy],
        crs=CRS,
    ).to_file(res)
    rules = tmp_path / "school.yaml"
    rules.write_text(walk_rule_text("s", [("school", "primary_school", 5)], 80), encoding="utf-8")
    return run_audit(
        AuditOptions(
            network=net,
            facilities=fac,
            residents=res,
            rules=[rules],
            max_snap_m=max_snap,
            min_component_nodes=0,
            service_areas="per-facility" if per_facility else "requirement",
        )
    )


@pytest.mark.parametrize("max_snap", [250.0, 500.0])
def test_one_street_gives_the_shape_of_the_rule(tmp_path: Path, max_snap: float) -> None:
    """Along the street the walk is x + |y| ≤ 400 (|y| ≤ max snap); beyond its end a disc.

    East of the school: the band |y| ≤ min(max_snap, 400 - x); west of it, every point's nearest
    street point is the school's end: a half disc of radius min(400, max_snap).
    """
    result = _street(tmp_path, max_snap=max_snap)
    assert result.geo is not None and result.geo.service_areas is not None
    (row,) = result.geo.service_areas.itertuples()
    cap, reach = min(max_snap, 400.0), 400.0
    band = 2 * (cap * (reach - cap) + cap**2 / 2)  # |y| ≤ cap up to x = 400 - cap, then a taper
    want = band + math.pi * cap**2 / 2
    got = row.geometry.area
    assert got == pytest.approx(want, rel=0.03), (got, want)
    assert row.minutes == 5.0 and row.mode == "walk" and row.facility_type == "primary_school"
    assert row.area_km2 == pytest.approx(got / 1e6, abs=1e-4)
    # the audit's residents: served inside, the others outside (up to the slack: a cell
    # all round, its diagonal where the outline runs at 45°)
    residents = result.geo.residents
    xy = result.geo.resident_xy
    met = residents["s/school"].to_numpy() == 1
    inside = shapely.contains_xy(row.geometry, xy[:, 0], xy[:, 1])
    assert (inside[met]).all()
    edge = shapely.distance(row.geometry.boundary, shapely.points(xy)) < 7.5  # 3 cells
    assert not (inside & ~met & ~edge).any()


def test_per_facility_areas_cover_the_requirement_area(tmp_path: Path) -> None:
    result = _street(tmp_path, max_snap=250.0, per_facility=True)
    assert result.geo is not None
    areas, per = result.geo.service_areas, result.geo.facility_areas
    assert per is not None and per["facility_id"].tolist() == ["S1"]
    one = per.geometry.iloc[0]
    assert one.symmetric_difference(areas.geometry.iloc[0]).area < 0.01 * one.area


def test_k_nearest_and_distance_requirements_on_the_toy(toy: dict[str, Path]) -> None:
    """The toy's hand-checked residents: R2 meets both, R1 neither; R3, R4 lie off the network."""
    result = run_audit(toy_options(toy, min_component_nodes=3))
    assert result.geo is not None
    areas = result.geo.service_areas.set_index("requirement_id")
    xy = result.geo.resident_xy
    for requirement in ("two_kindergartens", "market"):
        inside = shapely.contains_xy(areas.geometry[requirement], xy[:, 0], xy[:, 1])
        met = result.residents[f"toy/{requirement}"].to_numpy() == 1
        assert (inside == met).all(), (requirement, inside, met)
    assert areas.loc["market", "max_distance_m"] == 200.0
    assert np.isnan(areas.loc["market", "minutes"])
    assert areas.loc["two_kindergartens", "min_count"] == 2


def test_a_zoned_requirement_has_one_area_per_zone_inside_its_polygons() -> None:
    example = Path(__file__).parents[2] / "examples" / "synthetic_district"
    from circles.project import load_project
    from circles.settings import merge

    options = merge(load_project(example / "circles.yaml"), {"circle_ids": ["ems"]})
    result = run_audit(options)
    assert result.geo is not None
    areas = result.geo.service_areas
    assert sorted(areas["zone"]) == ["", "central", "new_urban"]
    assert set(areas["minutes"]) == {10.0, 12.0}
    zones = gpd.read_file(options.zones).to_crs(areas.crs)
    for _, row in areas[areas["zone"] != ""].iterrows():
        assert row.geometry.area > 0
    xy = result.geo.resident_xy
    met = result.residents["ems"].to_numpy() == 1
    inside = np.zeros(len(xy), dtype=bool)
    for geometry in areas.geometry:
        inside |= shapely.contains_xy(geometry, xy[:, 0], xy[:, 1])
    assert inside[met].all()
    assert len(zones)


def test_no_service_areas_when_asked(toy: dict[str, Path]) -> None:
    result = run_audit(toy_options(toy, service_areas="none"))
    assert result.geo is not None and result.geo.service_areas is None


def test_trace_keeps_holes_and_separate_parts() -> None:
    mask = np.zeros((20, 30), dtype=bool)
    mask[2:12, 2:12] = True
    mask[5:8, 5:8] = False  # a hole
    mask[15:18, 20:28] = True  # an island
    area = trace(mask, 0.0, 0.0, 1.0)
    assert len(area.geoms) == 2
    big = max(area.geoms, key=lambda g: g.area)
    assert len(big.interiors) == 1
    # the outline runs half-way between cell centres: each cell counts about one unit
    assert area.area == pytest.approx(mask.sum(), rel=0.1)


def test_the_raster_prepared_ahead_gives_the_same_areas(toy: dict[str, Path]) -> None:
    """The first network's samples and raster, made on a thread during the searches."""
    import threading

    from circles.areas import Preparation, ServiceAreaOptions, service_areas

    result = run_audit(toy_options(toy, min_component_nodes=3), keep_internals=True)
    assert not [t for t in threading.enumerate() if t.name.startswith("circles-areas")]
    assert result.internals is not None and result.geo is not None
    nets, placed, costs = result.internals.nets, result.internals.placed, result.internals.costs
    options = ServiceAreaOptions(max_snap_m=250.0)

    def areas(ahead: Preparation | None) -> gpd.GeoDataFrame:
        args = (result.circles, nets, placed.facilities, costs.speeds_m_s, options)
        return service_areas(*args, ahead=ahead)[0]

    ahead = Preparation(result.circles, nets, 250.0)
    assert ahead.key is not None and ahead.take("no such network") is None
    with_ahead, without = areas(ahead), areas(None)
    assert ahead.take(ahead.key) is None  # taken once
    ahead.close()
    assert len(with_ahead) == len(without) == len(result.geo.service_areas)
    assert with_ahead.geometry.geom_equals_exact(without.geometry, tolerance=0).all()
    closed = Preparation(result.circles, nets, 250.0)
    closed.close()  # waits for the thread, drops what it made
    assert closed.take(closed.key) is None
