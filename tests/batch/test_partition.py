"""Partitions of the example district: walking, driving (EMS by zone) and hub circles.

Four units of a 2×2 grid on a local Dask cluster give every resident's row of the whole-district
audit, and its coverage by community (communities cut by unit borders included). The border
rule and the residents in no polygon are checked on the split alone.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from circles.audit import run_audit
from circles.batch import run_batch
from circles.batch.manifest import Partition, load_manifest
from circles.batch.partition import owners, split
from circles.project import load_project
from circles.rules.load import load_rules
from circles.settings import merge
from tests.batch.test_units import SHARED_KEYS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "synthetic_district"


def _grid(tmp_path: Path, shrink: float = 0.0, first: object = None) -> Path:
    """A 2×2 grid (WGS 84) over the residents, less ``shrink`` degrees on the outer edges.

    ``first``, a polygon, comes before the grid (unit ``first``); a polygon far away after it
    holds no resident (unit ``empty``).
    """
    x0, y0, x1, y1 = gpd.read_file(EXAMPLE / "residents.geojson").total_bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    e = 0.01 - shrink
    boxes = [
        shapely.box(x0 - e, y0 - e, xm, ym),
        shapely.box(xm, y0 - e, x1 + e, ym),
        shapely.box(x0 - e, ym, xm, y1 + e),
        shapely.box(xm, ym, x1 + e, y1 + e),
    ]
    boxes.append(shapely.box(x1 + 1, y1 + 1, x1 + 2, y1 + 2))  # far away: no resident
    path = tmp_path / "parts.geojson"
    names = ["sw", "se", "nw", "ne", "empty"]
    if first is not None:
        boxes, names = [first, *boxes], ["first", *names]
    gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=4326).to_file(path)
    return path


def test_partition_equals_whole_district(tmp_path: Path) -> None:
    residents = gpd.read_file(EXAMPLE / "residents.geojson")
    # the first unit holds one resident in no community (the audit refuses communities that
    # hold none of its residents: that unit is audited without them)
    points = residents.geometry.representative_point()
    comms = gpd.read_file(EXAMPLE / "communities.geojson")
    outside = [i for i, pt in enumerate(points) if i != 7 and not comms.intersects(pt).any()]
    _grid(tmp_path, first=points[outside[0]].buffer(1e-6).envelope)
    residents.loc[7, "geometry"] = None  # a resident without a point: reported, not lost
    residents.to_file(tmp_path / "residents.geojson")
    keys = SHARED_KEYS.replace(str(EXAMPLE / "residents.geojson"), "residents.geojson")
    manifest = tmp_path / "MANIFEST.yaml"
    manifest.write_text(keys + "partition: {by: parts.geojson, field: name}\n", "utf-8")
    result = run_batch(manifest, tmp_path / "out", workers=2)
    assert [u["status"] for u in result.units] == ["ok"] * 5
    assert result.units[0]["residents"] == 2  # and the one without a point
    assert result.warnings == [  # the reading's warnings, then the batch's
        "residents file residents.geojson: 1 residents have no geometry; kept with status "
        "no_geometry and counted as not covered",
        "unit first: none of its residents lies in a community polygon; audited without the "
        "communities (its residents are unassigned, as in one audit)",
        "unit empty: no resident inside its polygon; not audited",
    ]
    assert result.unassigned == 0
    settings = merge(load_manifest(manifest).shared, {})  # the same keys, one audit
    whole = run_audit(settings)
    got = pd.read_parquet(tmp_path / "out" / "units" / "sw" / "residents.parquet").columns
    assert list(got) == list(whole.residents.columns)
    combined = pd.concat(
        [
            pd.read_parquet(tmp_path / "out" / "units" / u / "residents.parquet")
            for u in ("first", "sw", "se", "nw", "ne")
        ],
        ignore_index=True,
    )
    key = "resident_id"
    assert (combined["status"] == "no_geometry").sum() == 1
    in_order = pd.read_csv(tmp_path / "out" / "residents.csv", encoding="utf-8-sig")
    assert in_order["resident_id"].astype(str).tolist() == whole.residents[key].astype(str).tolist()
    pd.testing.assert_frame_equal(
        combined.sort_values(key).reset_index(drop=True),
        whole.residents.sort_values(key).reset_index(drop=True),
        check_exact=True,
        check_dtype=False,
    )
    coverage = pd.read_csv(tmp_path / "out" / "coverage.csv", encoding="utf-8-sig")
    theirs = whole.coverage.reset_index(drop=True)
    assert len(coverage) == len(theirs)
    assert coverage["community_id"].fillna("").tolist() == theirs["community_id"].tolist()
    for column in ("population_total", "population_met", "median_min_not_met"):
        assert coverage[column].to_numpy() == pytest.approx(
            theirs[column].to_numpy(dtype=float), rel=1e-12, nan_ok=True
        ), column
    assert coverage["is_gap"].astype(str).tolist() == theirs["is_gap"].astype(str).tolist()
    again = run_batch(manifest, tmp_path / "out", workers=1, resume=True)  # nothing changed
    assert [u["status"] for u in again.units] == ["resumed"] * 5
    assert pd.read_csv(tmp_path / "out" / "coverage.csv", encoding="utf-8-sig").equals(coverage)


def test_border_goes_to_the_first_polygon() -> None:
    left = shapely.box(0, 0, 10, 10)
    right = shapely.box(10, 0, 20, 10)
    xy = np.array([[5.0, 5.0], [10.0, 5.0], [15.0, 5.0], [30.0, 5.0], [np.nan, np.nan]])
    assert owners(xy, [np.array([left]), np.array([right])]).tolist() == [0, 0, 1, -1, -1]
    assert owners(xy, [np.array([right]), np.array([left])]).tolist() == [1, 0, 0, -1, -1]


def test_residents_in_no_polygon_are_counted(tmp_path: Path) -> None:
    path = _grid(tmp_path, shrink=0.0105)  # the outer edges cut through the district
    settings = merge(load_project(EXAMPLE / "circles.yaml"), {})
    loaded = load_rules(None)
    parts = split(settings, Partition(path, "name"), loaded, CRS.from_epsg(32650), 20.0)
    owned = sum(len(u.residents) for u in parts.units)
    assert len(parts.unassigned) > 0
    assert owned + len(parts.unassigned) == 250  # nobody dropped
    (warning,) = parts.warnings
    assert f"{len(parts.unassigned)} residents" in warning and "unassigned" in warning
    ids = pd.concat([u.residents["id"] for u in parts.units])
    assert ids.is_unique and not set(ids) & set(parts.unassigned["resident_id"])


def test_a_unit_without_facilities_in_its_halo_keeps_the_nearest(tmp_path: Path) -> None:
    facilities = pd.read_csv(EXAMPLE / "facilities.csv")
    facilities.iloc[:1].to_csv(tmp_path / "one.csv", index=False)
    residents = gpd.read_file(EXAMPLE / "residents.geojson").to_crs(32650)
    points = residents.geometry.representative_point()
    one = gpd.points_from_xy(facilities["lon"][:1], facilities["lat"][:1], crs=4326).to_crs(32650)
    far = points.iloc[int(np.argmax(points.distance(one[0])))]
    path = tmp_path / "parts.geojson"
    box = shapely.box(far.x - 1, far.y - 1, far.x + 1, far.y + 1)
    gpd.GeoDataFrame({"name": ["far"]}, geometry=[box], crs=32650).to_file(path)
    settings = merge(load_project(EXAMPLE / "circles.yaml"), {})
    settings = settings.model_copy(update={"facilities": tmp_path / "one.csv"})
    loaded = load_rules(None, circle_ids=["activity_10min"])
    parts = split(settings, Partition(path, "name"), loaded, CRS.from_epsg(32650), 0.0)
    (unit,) = parts.units
    assert len(unit.residents) == 1
    assert points.distance(one[0]).max() > parts.halo_m  # beyond the halo, kept all the same
    assert unit.facilities["id"].tolist() == facilities["id"][:1].tolist()
