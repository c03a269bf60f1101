"""The GIS layers of the report folder and the CSV files' byte order mark, on the toy district."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.report.files import TABLE_FILES, UTF8_BOM, report_names
from tests.conftest import CRS, toy_cli_args

runner = CliRunner()
CSV_FILES = ["residents.csv", "facilities.csv", "coverage.csv", "network_issues.csv"]


def _audit(toy: dict[str, Path], out: Path, *extra: str) -> None:
    result = runner.invoke(app, [*toy_cli_args(toy, out), "-q", *extra])
    assert result.exit_code == 0, result.output


@pytest.fixture
def report(toy: dict[str, Path]) -> Path:
    """The toy district's report folder, written with the default options."""
    out = toy["dir"] / "report"
    _audit(toy, out)
    return out


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"resident_id": str})


def test_residents_layer_one_row_per_input_resident(toy: dict[str, Path], report: Path) -> None:
    layer = gpd.read_file(report / "residents.gpkg")
    table = _csv(report / "residents.csv")
    # every input resident in input order, off-network ones (R3, R4) included
    assert layer["resident_id"].tolist() == ["R1", "R2", "R3", "R4"]
    # every residents.csv column, under the same name ('/' kept), with the same values
    assert [c for c in layer.columns if c != "geometry"] == list(table.columns)
    pd.testing.assert_frame_equal(
        pd.DataFrame(layer.drop(columns="geometry")), table, check_dtype=False
    )
    assert layer.crs.to_epsg() == 4326
    # the point the audit used, back in the input CRS, within 1e-6 of the input point
    given = gpd.read_file(toy["residents"])
    back = layer.to_crs(CRS)
    distance = back.geometry.distance(given.geometry.set_crs(CRS, allow_override=True))
    assert (distance < 1e-6).all(), distance.tolist()


def test_resident_without_geometry_keeps_its_row(toy: dict[str, Path]) -> None:
    given = gpd.read_file(toy["residents"])
    given.loc[2, "geometry"] = None  # R3 has no geometry
    given.to_file(toy["residents"])
    out = toy["dir"] / "report"
    _audit(toy, out)
    layer = gpd.read_file(out / "residents.gpkg")
    assert layer["resident_id"].tolist() == ["R1", "R2", "R3", "R4"]
    empty = layer.geometry.isna() | layer.geometry.is_empty
    assert empty.tolist() == [False, False, True, False]


def test_communities_layer_carries_coverage(toy: dict[str, Path], report: Path) -> None:
    layer = gpd.read_file(report / "communities.gpkg")
    polygons = gpd.read_file(toy["communities"])
    assert layer["community_id"].tolist() == polygons["community"].tolist()  # one per polygon
    assert layer.geom_type.eq("Polygon").all()
    cov = _csv(report / "coverage.csv")
    cov = cov[cov["scope"] == "community"].fillna({"requirement_id": ""})
    names = {("toy", ""): "c1", ("toy", "two_kindergartens"): "c1r1", ("toy", "market"): "c1r2"}
    for (circle, requirement), short in names.items():
        rows = cov[(cov["circle_id"] == circle) & (cov["requirement_id"] == requirement)]
        rows = rows.set_index("community_id").reindex(layer["community_id"])
        np.testing.assert_allclose(
            layer[f"{short}_cov"].to_numpy(dtype=float), rows["coverage_ratio"].to_numpy(float)
        )
        if requirement:
            gaps = rows["is_gap"].map({True: 1.0, False: 0.0}).to_numpy(dtype=float)
            np.testing.assert_array_equal(layer[f"{short}_gap"].to_numpy(dtype=float), gaps)
        assert len(f"{short}_cov") <= 10
    # west: R2 (300), east: R1 (100), empty: nobody
    assert layer["population"].tolist() == [300.0, 100.0, 0.0]
    assert layer["c1r2_gap"].tolist()[:2] == [0.0, 1.0]


def test_facilities_layer_has_the_csv_columns(report: Path) -> None:
    layer = gpd.read_file(report / "facilities.gpkg")
    table = pd.read_csv(report / "facilities.csv", encoding="utf-8-sig", keep_default_na=False)
    assert [c for c in layer.columns if c != "geometry"] == list(table.columns)
    assert layer["facility_id"].tolist() == ["K1", "K2", "M1"]


def test_parquet_layers_in_another_crs(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    _audit(toy, out, "--format", "parquet", "--crs-out", "EPSG:3857")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            *TABLE_FILES,
            *("residents.parquet", "communities.parquet", "facilities.parquet"),
            "service_areas.parquet",
        ]
    )
    layer = gpd.read_parquet(out / "residents.parquet")
    assert layer.crs.to_epsg() == 3857
    assert "toy/market" in layer.columns
    given = gpd.read_file(toy["residents"])
    distance = layer.to_crs(CRS).geometry.distance(given.geometry)
    assert (distance < 1e-6).all(), distance.tolist()
    communities = gpd.read_parquet(out / "communities.parquet")
    assert communities["community_id"].tolist() == ["west", "east", "empty"]
    # a gpkg report replaces a parquet one: layers of either kind belong to a report
    _audit(toy, out, "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == sorted(report_names())


def test_bad_crs_out_is_a_user_error(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, [*toy_cli_args(toy, out), "--crs-out", "EPSG:999999"])
    assert result.exit_code == 2, result.output
    assert "--crs-out 'EPSG:999999'" in " ".join(result.output.split())
    assert not out.exists()


def test_csv_files_start_with_the_bom(report: Path) -> None:
    for name in CSV_FILES:
        data = (report / name).read_bytes()
        assert data.startswith(UTF8_BOM), name
        assert not data[len(UTF8_BOM) :].startswith(UTF8_BOM), name
        without = pd.read_csv(io.BytesIO(data[len(UTF8_BOM) :]))
        pd.testing.assert_frame_equal(pd.read_csv(report / name, encoding="utf-8-sig"), without)
        pd.testing.assert_frame_equal(pd.read_csv(report / name), without)  # pandas skips it too


def test_no_csv_bom(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    _audit(toy, out, "--no-csv-bom")
    for name in CSV_FILES:
        assert not (out / name).read_bytes().startswith(UTF8_BOM), name
    assert (out / "residents.csv").read_bytes().startswith(b'"resident_id",')


def test_compare_reads_reports_with_the_bom(toy: dict[str, Path], report: Path) -> None:
    out = toy["dir"] / "comparison"
    result = runner.invoke(app, ["compare", str(report), str(report), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = (out / "comparison.csv").read_bytes()
    assert data.startswith(UTF8_BOM)
    comparison = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    assert "circle_id" in comparison.columns


def test_communities_layer_names_its_columns(report: Path) -> None:
    with contextlib.closing(sqlite3.connect(report / "communities.gpkg")) as db:
        (description,) = db.execute(
            "select description from gpkg_contents where table_name = 'communities'"
        ).fetchone()
    assert "c1 = toy; c1r1 = toy/two_kindergartens; c1r2 = toy/market" in description


def test_communities_without_polygons(toy: dict[str, Path]) -> None:
    residents = gpd.read_file(toy["residents"])
    residents["community"] = ["east", "west", "west", "east"]
    residents.to_file(toy["residents"])
    args = toy_cli_args(toy, toy["dir"] / "report")
    at = args.index("--communities")
    result = runner.invoke(app, [*args[:at], *args[at + 2 :], "-q"])
    assert result.exit_code == 0, result.output
    layer = gpd.read_file(toy["dir"] / "report" / "communities.gpkg")
    assert sorted(layer["community_id"]) == ["east", "west"]  # one row each, no geometry
    assert (layer.geometry.isna() | layer.geometry.is_empty).all()
    assert layer.set_index("community_id")["population"].to_dict() == {"east": 125.0, "west": 350.0}


def test_communities_layer_names_the_subdistrict(toy: dict[str, Path]) -> None:
    polygons = gpd.read_file(toy["communities"])
    polygons["街道"] = ["北街道", "南街道", "南街道"]
    polygons.to_file(toy["communities"])
    out = toy["dir"] / "report"
    _audit(toy, out)
    layer = gpd.read_file(out / "communities.gpkg")
    assert layer["subdistrict"].tolist() == ["北街道", "南街道", "南街道"]
