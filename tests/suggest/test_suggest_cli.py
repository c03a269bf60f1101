"""``circles suggest`` as a planner runs it on the bundled example."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from circles.audit import run_audit
from circles.cli import app
from circles.project import load_project
from circles.report.suggest_report import SUGGEST_FILES
from circles.settings import merge
from circles.suggest.run import SuggestOptions, run_suggest

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "synthetic_district" / "circles.yaml"


def _suggest(out: Path, *args: str):
    return runner.invoke(app, ["suggest", str(EXAMPLE), "-o", str(out), *args])


def test_suggest_writes_every_file_and_planned_reproduces_the_gain(tmp_path: Path) -> None:
    out = tmp_path / "suggest"
    result = _suggest(out, "--requirement", "life_15min/middle_school", "--add", "3", "--exact")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(SUGGEST_FILES)
    assert "exact (HiGHS, optimal" in result.output
    sites = pd.read_csv(out / "suggested.csv", encoding="utf-8-sig")
    assert list(sites.columns) == [
        "rank",
        "candidate_id",
        "lon",
        "lat",
        "population_newly_met",
        "coverage_after",
        "communities",
    ]
    assert sites["rank"].tolist() == [1, 2, 3]
    assert sites["coverage_after"].is_monotonic_increasing
    planned = pd.read_csv(out / "planned.csv", encoding="utf-8-sig")
    assert list(planned.columns)[:2] == ["id", "type"] and {"lon", "lat"} <= set(planned.columns)
    assert (planned["type"] == "middle_school").all()
    layer = gpd.read_file(out / "suggested.gpkg")
    assert len(layer) == 3 and layer.crs.to_epsg() == 4326
    curve = pd.read_csv(out / "coverage_curve.csv", encoding="utf-8-sig")
    assert curve["sites_added"].tolist() == [0, 1, 2, 3]
    # the audit with the planned sites meets exactly the predicted population
    options = merge(load_project(EXAMPLE), {})
    after = run_audit(options.model_copy(update={"planned": out / "planned.csv"}))
    cov = after.coverage
    row = cov[(cov["requirement_id"] == "middle_school") & (cov["scope"] == "overall")]
    assert float(row["population_met"].iloc[0]) == pytest.approx(curve["population_met"].iloc[-1])


@pytest.mark.parametrize(
    "requirement",
    ["culture_sport_12min/sports_venue", "ems/ems_station"],  # any-of types; zoned, driving
)
def test_any_of_and_zoned_driving_requirements(requirement: str) -> None:
    options = merge(load_project(EXAMPLE), {})
    result = run_suggest(options, SuggestOptions(requirement=requirement, add=2))
    assert result.population_met_before > 0
    assert len(result.sites) <= 2
    assert result.curve["population_met"].is_monotonic_increasing


def test_a_hub_requirement_is_refused_with_a_reason(tmp_path: Path) -> None:
    result = _suggest(tmp_path / "s", "--requirement", "commute_1h/any_centre", "--add", "2")
    assert result.exit_code == 2, result.output
    assert "hub circle" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--requirement", "life_15min/nowhere", "--add", "2"], "no requirement 'nowhere'"),
        (["--requirement", "life_15min/kindergarten"], "give one of --add N"),
        (["--requirement", "life_15min/kindergarten", "--add", "2", "--target", "0.9"], "one of"),
        (["--requirement", "life_15min/kindergarten", "--target", "1.5"], "(0, 1]"),
        (["--requirement", "kindergarten", "--add", "1"], "CIRCLE/REQUIREMENT"),
    ],
)
def test_bad_suggest_options_are_user_errors(tmp_path: Path, args: list[str], says: str) -> None:
    result = _suggest(tmp_path / "s", *args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split())


def test_candidate_polygons_stand_at_a_point_inside_and_a_target_may_be_unreachable(
    tmp_path: Path,
) -> None:
    options = merge(load_project(EXAMPLE), {})
    audit = run_audit(options)
    assert audit.geo is not None
    squares = gpd.GeoDataFrame(
        {"id": [f"plot{i}" for i in range(len(audit.geo.communities))]},
        geometry=audit.geo.communities.geometry.centroid.buffer(40, cap_style="square"),
        crs=audit.geo.crs,
    ).to_crs(4326)
    squares.to_file(tmp_path / "plots.gpkg")
    result = run_suggest(
        options,
        SuggestOptions(
            requirement="life_15min/middle_school",
            candidates=tmp_path / "plots.gpkg",
            target=0.999,
        ),
    )
    assert result.candidates["source"] == "layer"
    assert set(result.sites["candidate_id"]) <= set(squares["id"])
    for row in result.sites.itertuples():
        plot = squares.loc[squares["id"] == row.candidate_id].geometry.iloc[0]
        assert plot.contains(shapely.Point(row.lon, row.lat))
    assert any("cannot be reached" in note for note in result.notes)


def test_restricting_to_a_community_counts_only_its_residents() -> None:
    options = merge(load_project(EXAMPLE), {})
    whole = run_suggest(options, SuggestOptions(requirement="life_15min/middle_school", add=1))
    one = whole.communities.iloc[0]["community_id"]
    only = run_suggest(
        options,
        SuggestOptions(requirement="life_15min/middle_school", add=1, communities=(one,)),
    )
    assert only.population_total == pytest.approx(
        float(
            whole.communities.loc[
                whole.communities["community_id"] == one, "population_total"
            ].iloc[0]
        )
    )
    assert set(only.communities["community_id"]) == {one}
