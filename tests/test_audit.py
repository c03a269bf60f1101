"""Audit behaviour on the toy district: inputs in other shapes, warnings, nothing lost."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from circles.audit import AuditOptions, run_audit
from circles.errors import InputDataError, RuleError
from tests.conftest import CRS, X0, Y0, toy_options


def _options(toy: dict[str, Path], **changes) -> AuditOptions:
    return toy_options(toy, **changes)


def test_csv_facilities_in_lonlat_give_the_same_times(toy: dict[str, Path]) -> None:
    fac = gpd.read_file(toy["facilities"]).to_crs("EPSG:4326")
    csv = toy["dir"] / "fac.csv"
    fac.assign(lon=fac.geometry.x.round(9), lat=fac.geometry.y.round(9)).drop(
        columns="geometry"
    ).to_csv(csv, index=False, encoding="utf-8-sig")
    a = run_audit(_options(toy)).residents
    b = run_audit(_options(toy, facilities=csv)).residents
    np.testing.assert_allclose(a["kindergarten_min"], b["kindergarten_min"], atol=1e-3)


def test_polygon_residents_and_community_column(toy: dict[str, Path]) -> None:
    path = toy["dir"] / "compounds.gpkg"
    gpd.GeoDataFrame(
        {"id": ["A", "B", "C"], "population": [10, 20, 30], "community": ["甲社区", "", "乙社区"]},
        geometry=[
            box(X0 + 140, Y0 - 30, X0 + 160, Y0 - 10),
            box(X0 + 50, Y0 - 5, X0 + 70, Y0 + 5),
            None,
        ],
        crs=CRS,
    ).to_file(path)
    result = run_audit(_options(toy, residents=path, communities=None))
    rows = result.residents
    assert rows["resident_id"].tolist() == ["A", "B", "C"]
    assert rows["community_id"].tolist() == ["甲社区", "unassigned", "乙社区"]
    assert rows["status"].tolist() == ["ok", "ok", "no_geometry"]
    assert result.summary["counts"]["residents"]["no_geometry"] == 1
    # the no-geometry resident still counts in its community's population, as not met
    cov = result.coverage.set_index(["requirement_id", "scope", "community_id"])
    assert cov.loc[("market", "community", "乙社区"), "population_total"] == 30
    assert cov.loc[("market", "community", "乙社区"), "population_met"] == 0


def test_missing_population_column_weighs_one(toy: dict[str, Path]) -> None:
    path = toy["dir"] / "nopop.gpkg"
    gpd.read_file(toy["residents"]).drop(columns="population").to_file(path)
    result = run_audit(_options(toy, residents=path))
    assert result.residents["population"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert any("every resident weighs 1" in w for w in result.summary["warnings"])


def test_negative_population_is_an_error(toy: dict[str, Path]) -> None:
    path = toy["dir"] / "neg.gpkg"
    gpd.read_file(toy["residents"]).assign(population=[1, -3, 1, 1]).to_file(path)
    with pytest.raises(InputDataError, match=r"negative \(-3\) at row 2 \(resident R2\)"):
        run_audit(_options(toy, residents=path))


def test_unknown_and_missing_facility_types_warn(toy: dict[str, Path]) -> None:
    path = toy["dir"] / "typo.gpkg"
    gpd.GeoDataFrame(
        {"id": ["K1", "M1"], "type": ["kindergarden", "fresh_market"]},
        geometry=[Point(X0 + 50, Y0 + 10), Point(X0, Y0 + 100)],
        crs=CRS,
    ).to_file(path)
    result = run_audit(_options(toy, facilities=path))
    warnings = " | ".join(result.summary["warnings"])
    assert "'kindergarden' (1, did you mean 'kindergarten'?)" in warnings
    assert "toy/two_kindergartens: no usable facility of type kindergarten" in warnings
    assert result.residents["kindergarten_min"].isna().all()
    facilities = result.facilities.set_index("facility_id")
    assert facilities.loc["K1", "status"] == "not_used"


def test_bundled_rules_by_preset_name_and_circle_choice(toy: dict[str, Path]) -> None:
    result = run_audit(_options(toy, rules=["wuhan"], circle_ids=["life_15min"]))
    assert [c["circle_id"] for c in result.summary["circles"]] == ["life_15min"]
    assert "kindergarten_min" in result.residents.columns
    with pytest.raises(RuleError, match="no bundled preset of that name"):
        run_audit(_options(toy, rules=["nowhere"]))


def test_counts_reconcile(toy: dict[str, Path]) -> None:
    counts = run_audit(_options(toy)).summary["counts"]
    res = counts["residents"]
    assert res["read"] == res["ok"] + res["off_network"] + res["no_geometry"]
    pop = counts["population"]
    assert pop["read"] == pop["ok"] + pop["off_network"] + pop["no_geometry"] == 475
