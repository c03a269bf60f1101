"""The 城市体检 table, its CSV and its workbook sheet (circles.report.checkup).

The example district's table is checked against its own coverage.csv (problem communities
counted in the test); the seat-shortfall indicator against a hand-built coverage frame; the
residential-land-area coverage against a hand computation on the toy with square residents.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Polygon

from circles.audit import AuditResult, run_audit
from circles.project import load_project
from circles.report.checkup import CHECKUP_COLUMNS, checkup_table
from circles.report.checkup_words import INDICATORS
from circles.report.excel import write_workbook
from circles.report.files import UTF8_BOM, write_report
from circles.settings import merge
from tests.conftest import CRS, ROOT, toy_options
from tests.report.test_zh_workbook import english_words

EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    """The example district's audit and its report folder (Chinese workbook)."""
    result = run_audit(merge(load_project(EXAMPLE), {}))
    out = tmp_path_factory.mktemp("checkup") / "report"
    write_report(result, out, overwrite=False, lang="zh")
    return result, out


def _csv(out: Path) -> pd.DataFrame:
    return pd.read_csv(
        out / "city_checkup.csv", dtype={"community_id": str, "subdistrict": str}
    ).fillna({"community_id": "", "subdistrict": ""})


def test_the_csv_is_written_with_a_byte_order_mark(example):
    _, out = example
    raw = (out / "city_checkup.csv").read_bytes()
    assert raw.startswith(UTF8_BOM)
    table = _csv(out)
    assert list(table.columns) == CHECKUP_COLUMNS
    assert len(table) > 0


def test_indicators_come_from_the_requirements_the_audit_ran(example):
    result, out = example
    table = _csv(out)
    types = {
        str(t)
        for circle in result.summary["circles"]
        for requirement in circle["requirements"]
        for t in requirement.get("facility_types") or []
    }
    expected = {i.key for i in INDICATORS if i.facility_types & types}
    assert set(table["indicator"]) == expected
    assert "childcare" not in expected  # the example has no nurseries
    assert {"kindergarten", "middle_school", "park", "sports_ground"} <= expected
    # hub requirements (no facility types) stand for no indicator; no capacity, no seats rows
    assert "commute_1h" not in set(table["circle_id"])
    assert set(table["method"]) == {"population", "residential_area"}  # polygon residents
    assert set(table["verification"]) == {"recalled"}


def test_rollups_are_the_share_of_problem_communities_in_coverage_csv(example):
    result, out = example
    table = _csv(out)
    coverage = pd.read_csv(out / "coverage.csv", dtype={"community_id": str})
    subdistrict_of = {
        c["community_id"]: c["subdistrict"]
        for c in result.summary["communities"]
        if c["community_id"] != "unassigned"
    }
    population = table[table["method"] == "population"]
    checked = 0
    for (circle_id, requirement_id), rows in population.groupby(["circle_id", "requirement_id"]):
        mine = coverage[
            (coverage["circle_id"] == circle_id)
            & (coverage["requirement_id"] == requirement_id)
            & (coverage["scope"] == "community")
            & (coverage["community_id"] != "unassigned")
        ]
        gap = mine.set_index("community_id")["is_gap"].astype(bool)
        for name in set(subdistrict_of.values()):
            members = [c for c, s in subdistrict_of.items() if s == name]
            expected = gap[members].sum() / len(members)
            for _, row in rows[rows["level"] == "subdistrict"].iterrows():
                if row["subdistrict"] == name:
                    assert row["communities_total"] == len(members)
                    assert row["communities_problem"] == gap[members].sum()
                    assert row["problem_share"] == pytest.approx(expected)
                    checked += 1
        district = rows[rows["level"] == "district"].iloc[0]
        assert district["problem_share"] == pytest.approx(gap.sum() / len(gap))
        overall = coverage[
            (coverage["circle_id"] == circle_id)
            & (coverage["requirement_id"] == requirement_id)
            & (coverage["scope"] == "overall")
        ]["coverage_ratio"].iloc[0]
        assert district["value"] == pytest.approx(overall)
        # the community rows: coverage and flag as in coverage.csv, unassigned left out
        communities = rows[rows["level"] == "community"].set_index("community_id")
        assert set(communities.index) == set(gap.index)
        assert (communities["is_problem"].astype(bool) == gap[communities.index]).all()
    assert checked == 3 * len(population.groupby(["circle_id", "requirement_id"]))


def test_rows_run_community_then_subdistrict_then_district(example):
    _, out = example
    table = _csv(out)
    for _, rows in table.groupby(["indicator", "circle_id", "requirement_id", "method"]):
        levels = rows["level"].tolist()
        order = {"community": 0, "subdistrict": 1, "district": 2}
        assert levels == sorted(levels, key=order.__getitem__)
        assert levels[-1] == "district" and levels.count("district") == 1


def test_residents_as_polygons_get_their_area(example):
    result, out = example
    residents = pd.read_csv(out / "residents.csv", dtype={"resident_id": str})
    assert "area_m2" in residents.columns
    area = residents["area_m2"]
    assert area.isna().sum() == 20  # the example's 20 residents given as points have none
    assert (area.dropna() > 0).all()
    expected = result.residents["area_m2"].to_numpy()
    assert np.allclose(area.to_numpy(), expected, equal_nan=True)


def test_the_chinese_workbook_has_the_sheet_without_english(example):
    result, out = example
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    try:
        assert "城市体检" in book.sheetnames
        cells = [
            value
            for row in book["城市体检"].iter_rows(values_only=True)
            for value in row
            if isinstance(value, str)
        ]
    finally:
        book.close()
    assert "层级" in cells and "按人口" in cells and "按居住用地面积" in cells and "全区" in cells
    assert any(c.startswith("未达标配建的幼儿园数量（个）") for c in cells)
    assert english_words(out / "report.xlsx", result.summary) == {}


def test_the_english_workbook_shows_the_official_names_beside(example, tmp_path: Path):
    result, _ = example
    table = checkup_table(result.summary, result.coverage, result.residents)
    path = tmp_path / "report.xlsx"
    write_workbook(path, result.summary, result.coverage, lang="en", checkup=table)
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book["Urban health check"].iter_rows(values_only=True))
    finally:
        book.close()
    headings = [r[0] for r in rows if isinstance(r[0], str) and " — " in r[0]]
    assert any(
        h.startswith("middle-school service-radius coverage (中学服务半径覆盖率) (%)")
        for h in headings
    )


def test_no_indicator_no_sheet(example, tmp_path: Path):
    result, _ = example
    path = tmp_path / "report.xlsx"
    empty = checkup_table({"circles": [], "communities": []}, result.coverage.iloc[:0])
    assert list(empty.columns) == CHECKUP_COLUMNS and empty.empty
    write_workbook(path, result.summary, result.coverage, lang="zh", checkup=empty)
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        assert "城市体检" not in book.sheetnames
    finally:
        book.close()


# --------------------------------------------------------------------------------------------
# seat shortfall (coverage columns of capacity requirements, built here by hand)


def _capacity_audit() -> tuple[dict, pd.DataFrame]:
    """Two 街道, three 社区 and one unassigned; a primary-school requirement with seats."""
    summary = {
        "communities": [
            {"community_id": "甲社区", "subdistrict": "东街道"},
            {"community_id": "乙社区", "subdistrict": "东街道"},
            {"community_id": "丙社区", "subdistrict": "西街道"},
        ],
        "circles": [
            {
                "circle_id": "life",
                "requirements": [
                    {
                        "requirement_id": "school",
                        "facility_types": ["primary_school"],
                        "target_coverage": 0.9,
                    },
                    {"requirement_id": "hub", "facility_types": [], "target_coverage": 0.8},
                ],
            }
        ],
    }
    rows = [
        # scope, area, coverage, need, supply, shortfall
        ("overall", "", 0.95, 1000.0, 880.0, 120.0),
        ("subdistrict", "东街道", 0.97, 700.0, 620.0, 80.0),
        ("subdistrict", "西街道", 0.90, 300.0, 260.0, 40.0),
        ("community", "甲社区", 1.0, 400.0, 400.0, 0.0),
        ("community", "乙社区", 0.93, 300.0, 220.0, 80.0),
        ("community", "丙社区", 0.85, 300.0, 260.0, 40.0),
        ("community", "unassigned", 0.0, 0.0, 0.0, 0.0),
    ]
    coverage = pd.DataFrame(
        {
            "circle_id": "life",
            "requirement_id": "school",
            "scope": [r[0] for r in rows],
            "community_id": [r[1] for r in rows],
            "coverage_ratio": [r[2] for r in rows],
            "target_coverage": 0.9,
            "need_units": [r[3] for r in rows],
            "supply_units": [r[4] for r in rows],
            "shortfall_units": [r[5] for r in rows],
        }
    )
    hub = coverage.assign(requirement_id="hub", need_units=np.nan, supply_units=np.nan)
    hub["shortfall_units"] = np.nan
    return summary, pd.concat([coverage, hub], ignore_index=True)


def test_the_seat_shortfall_indicator_reads_shortfall_units():
    summary, coverage = _capacity_audit()
    table = checkup_table(summary, coverage).fillna({"community_id": "", "subdistrict": ""})
    seats = table[table["method"] == "seats"].set_index(["level", "subdistrict", "community_id"])
    assert set(seats["indicator_zh"]) == {"小学学位缺口数"}
    assert seats.loc[("community", "东街道", "乙社区"), "value"] == 80
    assert bool(seats.loc[("community", "东街道", "乙社区"), "is_problem"])
    assert not bool(seats.loc[("community", "东街道", "甲社区"), "is_problem"])
    east = seats.loc[("subdistrict", "东街道", "")]
    assert (east["value"], east["communities_problem"], east["communities_total"]) == (80, 1, 2)
    assert east["problem_share"] == pytest.approx(0.5)
    district = seats.loc[("district", "", "")]
    assert district["value"] == 120  # 80 + 40: shortfalls do not offset between communities
    assert district["problem_share"] == pytest.approx(2 / 3)
    # coverage indicator: 乙 meets the target (93 % ≥ 90 %) but is short of seats: a problem
    cover = table[table["method"] == "population"].set_index(["level", "community_id"])
    assert bool(cover.loc[("community", "乙社区"), "is_problem"])
    assert not bool(cover.loc[("community", "甲社区"), "is_problem"])
    assert bool(cover.loc[("community", "丙社区"), "is_problem"])  # 85 % < 90 %
    assert cover.loc[("district", ""), "problem_share"] == pytest.approx(2 / 3)
    assert "unassigned" not in set(table["community_id"])


def test_the_seat_shortfall_sheet_has_a_seats_column(tmp_path: Path):
    summary, coverage = _capacity_audit()
    table = checkup_table(summary, coverage)
    from circles.report.excel_book import Book
    from circles.report.excel_checkup import checkup_sheet
    from circles.report.model import build_report_model
    from circles.report.text import text_for

    model = build_report_model(_full_summary(summary), coverage.assign(is_gap=None))
    sheet = checkup_sheet(Book(model, text_for("zh"), "zh"), table)
    keys = [column.key for column in sheet.columns]
    assert "shortfall" in keys
    shorts = [row.get("shortfall") for row in sheet.rows if row.get("shortfall") is not None]
    assert 120 in shorts


def _full_summary(summary: dict) -> dict:
    """The hand-made summary with what the report model reads of every summary."""
    full = json.loads(json.dumps(summary))
    for circle in full["circles"]:
        circle.setdefault("name", {"zh": "生活圈", "en": "life"})
        for requirement in circle["requirements"]:
            requirement.setdefault("name", {"zh": "小学", "en": "primary school"})
    full.setdefault("run", {})
    return full


# --------------------------------------------------------------------------------------------
# residential land area: the toy with square residents


def _squares(toy: dict[str, Path]) -> Path:
    """The toy's residents as squares of side 10, 20, 30 and 40 m around their points."""
    points = gpd.read_file(toy["residents"])
    sides = [10.0, 20.0, 30.0, 40.0]
    squares = [
        Polygon(
            [
                (p.x - s / 2, p.y - s / 2),
                (p.x + s / 2, p.y - s / 2),
                (p.x + s / 2, p.y + s / 2),
                (p.x - s / 2, p.y + s / 2),
            ]
        )
        for p, s in zip(points.geometry, sides, strict=True)
    ]
    path = toy["dir"] / "residents_polygons.gpkg"
    gpd.GeoDataFrame(points.drop(columns="geometry"), geometry=squares, crs=CRS).to_file(path)
    return path


def test_area_coverage_on_polygon_residents_equals_a_hand_computation(toy: dict[str, Path]):
    result = run_audit(toy_options(toy, residents=_squares(toy)))
    assert result.residents["area_m2"].tolist() == pytest.approx([100, 400, 900, 1600])
    # R1 (east, 100 m²) meets two_kindergartens, R2 (west, 400 m²) the market; R3 and R4
    # (unassigned, 900 and 1600 m²) are off the network and meet nothing
    table = checkup_table(result.summary, result.coverage, result.residents)
    area = table[table["method"] == "residential_area"].fillna({"community_id": ""})
    kinder = area[area["requirement_id"] == "two_kindergartens"].set_index(
        ["level", "community_id"]
    )
    assert kinder.loc[("community", "east"), "value"] == pytest.approx(1.0)
    assert kinder.loc[("community", "west"), "value"] == pytest.approx(0.0)
    assert math.isnan(kinder.loc[("community", "empty"), "value"])  # no residents
    assert kinder.loc[("district", ""), "value"] == pytest.approx(100 / 3000)
    assert kinder.loc[("district", ""), "communities_total"] == 2  # "empty" not evaluated
    assert kinder.loc[("district", ""), "communities_problem"] == 1  # west: 0 % < 50 %
    market = area[area["requirement_id"] == "market"].set_index(["level", "community_id"])
    assert market.loc[("community", "west"), "value"] == pytest.approx(1.0)
    assert market.loc[("district", ""), "value"] == pytest.approx(400 / 3000)
    # by population instead: R1 100, R2 300, R3 50, R4 25 people
    people = table[table["method"] == "population"].fillna({"community_id": ""})
    people = people[people["requirement_id"] == "market"].set_index(["level", "community_id"])
    assert people.loc[("district", ""), "value"] == pytest.approx(300 / 475)


def test_point_residents_have_no_area(toy: dict[str, Path]):
    result = run_audit(toy_options(toy))
    assert "area_m2" not in result.residents.columns
    table = checkup_table(result.summary, result.coverage, result.residents)
    assert set(table["method"]) == {"population"}
    assert set(table["indicator"]) == {"kindergarten", "fresh_market"}
