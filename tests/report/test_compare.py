"""What-if: planned facilities beside the status quo, and `circles compare` of two reports."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point
from typer.testing import CliRunner

from circles.cli import app
from tests.conftest import CRS, X0, Y0, toy_cli_args

runner = CliRunner()


def _planned(toy: dict[str, Path]) -> Path:
    """One planned market at (150, 10): on B-C, 10 m off it.

    R1 (150, -20) then walks 20 + 10 = 30 m to it (was 270 m): it newly meets the 200 m market
    requirement, and with its two kindergartens (130, 135 m <= 180 m) the whole circle. R2
    already met the market (160 m) and still misses the second kindergarten (205 m).
    """
    path = toy["dir"] / "planned.gpkg"
    gpd.GeoDataFrame(
        {"id": ["P1"], "type": ["fresh_market"]}, geometry=[Point(X0 + 150, Y0 + 10)], crs=CRS
    ).to_file(path)
    return path


def _args(toy: dict[str, Path], out: Path, facilities: Path | None = None) -> list[str]:
    return [*toy_cli_args(toy, out, facilities), "-q"]


def _check(table: pd.DataFrame) -> None:
    rows = table.set_index(["requirement_id", "scope", "community_id"])
    assert rows.loc[("market", "overall", ""), "newly_met_population"] == 100
    assert rows.loc[("market", "community", "east"), "newly_met_population"] == 100
    assert rows.loc[("market", "community", "east"), "coverage_before"] == 0
    assert rows.loc[("market", "community", "east"), "coverage_after"] == 1
    assert rows.loc[("market", "community", "west"), "newly_met_population"] == 0
    assert rows.loc[("two_kindergartens", "overall", ""), "newly_met_population"] == 0
    assert rows.loc[("", "overall", ""), "newly_met_population"] == 100  # the whole circle
    assert rows.loc[("", "community", "east"), "coverage_change"] == 1
    assert (table["no_longer_met_population"].fillna(0) == 0).all()


def test_planned_facilities_beside_the_status_quo(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "whatif"
    result = runner.invoke(app, [*_args(toy, out), "--planned", str(_planned(toy))])
    assert result.exit_code == 0, result.output
    for name in (
        "summary.json",
        "comparison.csv",
        "comparison.xlsx",
        "planned/summary.json",
        "planned/residents.csv",
        "planned/report.xlsx",
    ):
        assert (out / name).exists(), name
    _check(
        pd.read_csv(
            out / "comparison.csv",
            keep_default_na=False,
            na_values=[""],
            dtype={"requirement_id": str, "community_id": str},
        ).fillna({"requirement_id": "", "community_id": ""})
    )
    planned = pd.read_csv(out / "planned" / "facilities.csv")
    assert planned.set_index("facility_id").loc["P1", "planned"]
    status_quo = pd.read_csv(out / "residents.csv").set_index("resident_id")
    assert status_quo.loc["R1", "toy/market"] == 0


def test_compare_two_report_folders(toy: dict[str, Path]) -> None:
    before, after = toy["dir"] / "before", toy["dir"] / "after"
    assert runner.invoke(app, _args(toy, before)).exit_code == 0
    both = pd.concat([gpd.read_file(toy["facilities"]), gpd.read_file(_planned(toy))])
    merged = toy["dir"] / "all_facilities.gpkg"
    gpd.GeoDataFrame(both, crs=CRS).to_file(merged)
    assert runner.invoke(app, _args(toy, after, merged)).exit_code == 0
    out = toy["dir"] / "cmp"
    result = runner.invoke(
        app,
        ["compare", str(before), str(after), "--out", str(out), "--lang", "zh"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "Before and after" in result.output and "east" in result.output
    table = pd.read_csv(
        out / "comparison.csv",
        keep_default_na=False,
        na_values=[""],
        dtype={"requirement_id": str, "community_id": str},
    )
    _check(table.fillna({"requirement_id": "", "community_id": ""}))
    from openpyxl import load_workbook

    ws = load_workbook(out / "comparison.xlsx")["对比"]
    assert ws["K1"].value == "新增达标人口"


def test_compare_refuses_a_folder_that_is_no_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a circles report folder" in result.output
