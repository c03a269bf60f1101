"""Tests for circles.report.excel: the audit workbook, in English and Chinese."""

from __future__ import annotations

import copy
import hashlib
import io
import math
import tracemalloc
import unicodedata
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from circles.audit import AuditOptions, run_audit
from circles.evaluate.checks import COVERAGE_COLUMNS
from circles.report import excel
from circles.report.excel import LABELS, write_workbook
from circles.report.excel_book import sheet_title
from circles.report.values import THRESHOLD_WORDS
from tests.report_fixture import (
    DESTINATIONS,
    JIANGHAN,
    MEDIANS,
    RIVERSIDE,
    SUBDISTRICT,
    UNASSIGNED,
    ZONES,
)

EN_SHEETS = ["Summary", "Communities", "Sub-districts", "Gaps", "Destinations", "Zones"]
ZH_SHEETS = ["汇总", "社区", "街道", "缺口", "目的地", "分区"]
CIRCLE_IDS = ["life_15min", "activity_10min", "ems", "metro_area_2h"]

# --- helpers -------------------------------------------------------------------------------------


def _write(tmp_path: Path, summary, coverage, **options) -> openpyxl.Workbook:
    path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.xlsx.tmp"
    write_workbook(path, summary, coverage, **options)
    # the caller writes to a temporary name; openpyxl only reads known suffixes from paths
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()))


@pytest.fixture
def workbook(tmp_path: Path, audit) -> openpyxl.Workbook:
    return _write(tmp_path, *audit)


@pytest.fixture
def workbook_zh(tmp_path: Path, audit) -> openpyxl.Workbook:
    return _write(tmp_path, *audit, lang="zh")


@pytest.fixture
def walk_only_workbook(tmp_path: Path, audit) -> openpyxl.Workbook:
    """The fixture without drive and hub circles and sub-districts: no zones, no destinations."""
    summary, coverage = audit
    walk = {"life_15min", "activity_10min"}
    summary = {**summary, "circles": [c for c in summary["circles"] if c["circle_id"] in walk]}
    coverage = coverage[coverage["circle_id"].isin(walk) & (coverage["scope"] != "subdistrict")]
    return _write(tmp_path, summary, coverage)


def _residents() -> pd.DataFrame:
    """A residents table shaped like residents.csv: ids, texts, NaN minutes, 0/1 columns."""
    return pd.DataFrame(
        {
            "resident_id": ["A", "B", "C", "H\x0b"],  # a control character from a GIS file
            "community_id": [JIANGHAN, JIANGHAN, RIVERSIDE, UNASSIGNED],
            "population": [400.0, 300.0, 300.0, 0.0],
            "snap_m": [12.5, 0.0, 310.2, np.nan],
            "status": ["ok", "ok", "off_network", "no_geometry"],
            "ems_zone": ["central", "central", "new_urban", None],
            "kindergarten_min": [3.25, np.nan, np.nan, np.nan],
            "metro_area_2h_wuhan_1plus8_reached": pd.array([8, 8, 0, 0], dtype="Int64"),
            "life_15min": [1, 1, 0, 0],
            "life_15min/kindergarten": np.array([1, 1, 0, 0], dtype=np.int8),
        }
    )


def _header(ws) -> list:
    return [cell.value for cell in ws[1]]


def _records(ws) -> list[dict]:
    header = _header(ws)
    return [
        dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)
    ]


def _cell(ws, row_index: int, header: str):
    return ws.cell(row=row_index, column=_header(ws).index(header) + 1)


def _row_index(ws, **match) -> int:
    for index, record in enumerate(_records(ws), start=2):
        if all(record[key] == value for key, value in match.items()):
            return index
    raise AssertionError(f"no row with {match}")


def _coverage(coverage, circle_id, requirement_id, scope, area):
    rows = coverage[
        (coverage["circle_id"] == circle_id)
        & (coverage["requirement_id"] == requirement_id)
        & (coverage["scope"] == scope)
        & (coverage["community_id"] == area)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def _cells_wide(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


# --- the fixture and the labels -------------------------------------------------------------------


def test_fixture_follows_the_contract(audit):
    summary, coverage = audit
    assert list(coverage.columns) == COVERAGE_COLUMNS
    assert set(coverage["scope"]) == {"overall", "community", "subdistrict"}
    assert [c["mode"] for c in summary["circles"]] == ["walk", "walk", "drive", "hub"]
    assert sum(len(c["requirements"]) for c in summary["circles"]) == 6
    assert set(coverage["community_id"]) == {"", JIANGHAN, RIVERSIDE, UNASSIGNED, SUBDISTRICT}
    assert coverage["coverage_ratio"].isna().any()
    assert all(c["subdistricts"] for c in summary["circles"])


def test_labels_exist_in_both_languages():
    assert set(LABELS["en"]) == set(LABELS["zh"])
    assert set(THRESHOLD_WORDS) <= set(LABELS["en"])
    same = {key for key in LABELS["en"] if LABELS["en"][key] == LABELS["zh"][key]}
    # only formats without words are the same in both languages
    assert same <= {
        "zone_join",
        "threshold_then_destinations",
        "destinations_share",
        "sha256",
        "sheet_residents_more",
        "speed_km_h",
    } | {key for key in same if not any(ch.isalpha() for ch in LABELS["en"][key])}


def test_unknown_language_is_an_error(tmp_path: Path, audit):
    with pytest.raises(ValueError, match="'fr' is not known; use one of: en, zh"):
        write_workbook(tmp_path / "x.xlsx", *audit, lang="fr")


def test_sheet_title_is_valid_and_unique():
    assert sheet_title("life_15min", ["Summary"]) == "life_15min"
    assert sheet_title("summary", ["Summary"]) == "summary (2)"
    long = "a_circle_with_a_very_long_identifier_indeed"
    assert sheet_title(long, []) == long[:31]
    assert len(sheet_title(long, [long[:31]])) == 31
    assert sheet_title("a/b:c", []) == "a_b_c"


# --- structure -----------------------------------------------------------------------------------


def test_sheet_names(workbook, workbook_zh, walk_only_workbook):
    assert workbook.sheetnames == [*EN_SHEETS, *CIRCLE_IDS, "Rules", "Inputs"]
    assert workbook_zh.sheetnames == [*ZH_SHEETS, *CIRCLE_IDS, "规则", "输入"]
    # without sub-district rows there is no Sub-districts sheet
    assert walk_only_workbook.sheetnames == [
        "Summary",
        "Communities",
        "Gaps",
        "Destinations",
        "Zones",
        "life_15min",
        "activity_10min",
        "Rules",
        "Inputs",
    ]


def test_circle_sheet_names_are_valid_and_unique(tmp_path: Path, audit):
    summary, coverage = copy.deepcopy(audit)
    long = "a_circle_with_a_very_long_identifier_indeed"
    renames = {"life_15min": "summary", "ems": long}
    for circle in summary["circles"]:
        circle["circle_id"] = renames.get(circle["circle_id"], circle["circle_id"])
    coverage = coverage.assign(circle_id=coverage["circle_id"].replace(renames))
    names = _write(tmp_path, summary, coverage).sheetnames
    assert names[6:10] == ["summary (2)", "activity_10min", long[:31], "metro_area_2h"]


def test_every_sheet_has_a_bold_frozen_filtered_fitted_header(
    workbook, workbook_zh, walk_only_workbook
):
    for ws in [*workbook.worksheets, *workbook_zh.worksheets, *walk_only_workbook.worksheets]:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == ws.dimensions, ws.title
        assert all(cell.font.bold and cell.alignment.wrap_text for cell in ws[1]), ws.title
        assert all(cell.value for cell in ws[1]), ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        for index in range(1, ws.max_column + 1):
            letter = openpyxl.utils.get_column_letter(index)
            width = ws.column_dimensions[letter].width
            header = ws[1][index - 1].value
            # fitted to the header, or to 14 cells and the header wraps (wide characters: 2)
            assert width >= min(_cells_wide(header), 14), (ws.title, header)
            # and to the content, up to the 40 cells at which it wraps
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                if isinstance(cell.value, str) and width < _cells_wide(cell.value):
                    assert cell.alignment.wrap_text, (ws.title, cell.coordinate)


def test_no_nan_or_numbers_as_text(workbook, workbook_zh):
    for ws in [*workbook.worksheets, *workbook_zh.worksheets]:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                value = cell.value
                assert not (isinstance(value, float) and math.isnan(value)), cell.coordinate
                if isinstance(value, str):
                    assert value.lower() not in {"nan", "none", "<na>"}, cell.coordinate
                    with pytest.raises(ValueError):
                        float(value.replace(",", ""))


def test_chinese_workbook_translates_every_header(workbook_zh):
    for ws in workbook_zh.worksheets:
        assert _has_cjk(ws.title) or ws.title in CIRCLE_IDS
        for header in _header(ws):
            assert _has_cjk(header) or header == "SHA-256", (ws.title, header)


# --- Summary -------------------------------------------------------------------------------------


def test_summary_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Summary"]
    assert _header(ws) == [
        "circle id",
        "circle",
        "mode",
        "requirement id",
        "requirement",
        "tier",
        "threshold",
        "population",
        "population met",
        "population not met",
        "coverage",
        "target",
        "gap",
        "unverified numbers",
        "model",
    ]
    assert ws.max_row == 1 + 4 + 6  # header, four whole-circle rows, six requirements

    row = _row_index(ws, **{"requirement id": "kindergarten"})
    assert _cell(ws, row, "circle").value == "15-minute life circle"
    assert _cell(ws, row, "requirement").value == "kindergarten"
    assert _cell(ws, row, "mode").value == "walk"
    assert _cell(ws, row, "threshold").value == "15 min"
    assert _cell(ws, row, "population").value == 1500
    assert _cell(ws, row, "population met").value == 1100
    assert _cell(ws, row, "population not met").value == 400
    assert _cell(ws, row, "population not met").number_format == "#,##0"
    coverage_cell = _cell(ws, row, "coverage")
    assert coverage_cell.value == pytest.approx(1100 / 1500)
    assert coverage_cell.number_format == "0.0%"
    assert _cell(ws, row, "target").value == pytest.approx(0.9)
    assert _cell(ws, row, "target").number_format == "0.0%"
    assert _cell(ws, row, "gap").value == "yes"
    assert _cell(ws, row, "gap").fill.fgColor.rgb.endswith("FFC7CE")
    # the threshold is verified, the walking speed and the target are defaults
    assert _cell(ws, row, "unverified numbers").value == "walk speed, target"
    assert not _cell(ws, row, "threshold").font.italic
    assert _cell(ws, row, "target").font.italic

    row = _row_index(ws, **{"requirement id": "primary_school"})
    assert _cell(ws, row, "unverified numbers").value == "threshold, walk speed, target"
    assert _cell(ws, row, "threshold").font.italic

    row = _row_index(ws, **{"requirement id": "micro_public_space"})
    assert _cell(ws, row, "threshold").value == "600 m"
    assert _cell(ws, row, "gap").value == "no"
    assert _cell(ws, row, "unverified numbers").value == "threshold"  # no speed in a distance

    # whole-circle rows: no target on life_15min, so neither target nor gap
    row = _row_index(ws, **{"circle id": "life_15min", "requirement": "(whole circle)"})
    assert _cell(ws, row, "requirement id").value is None
    assert _cell(ws, row, "target").value is None
    assert _cell(ws, row, "gap").value == "n/a"
    assert _cell(ws, row, "coverage").value == pytest.approx(
        summary["circles"][0]["overall"]["coverage_ratio"]
    )
    assert _cell(ws, row, "model").value == summary["circles"][0]["model"]
    # coverage has the colour scale
    letter = openpyxl.utils.get_column_letter(_header(ws).index("coverage") + 1)
    ranges = {str(rule_range.sqref) for rule_range in ws.conditional_formatting}
    assert f"{letter}2:{letter}11" in ranges


def test_summary_sheet_modes_tiers_models_and_thresholds(workbook, audit):
    summary, _ = audit
    ws = workbook["Summary"]
    whole = {r["circle id"]: r for r in _records(ws) if r["requirement"] == "(whole circle)"}
    for circle in summary["circles"]:
        record = whole[circle["circle_id"]]
        assert record["model"] == circle["model"]
        assert record["mode"] == circle["mode"]
        assert record["tier"] == "basic"
    for record in _records(ws):  # the model is the circle's: requirement rows leave it empty
        if record["requirement"] != "(whole circle)":
            assert record["model"] is None
    row = _row_index(ws, **{"requirement id": "middle_yangtze"})
    assert _cell(ws, row, "tier").value == "quality"
    assert _cell(ws, row, "coverage").value == 0
    # long model texts wrap in a capped column, and their row is as high as the text
    model_letter = openpyxl.utils.get_column_letter(_header(ws).index("model") + 1)
    assert ws.column_dimensions[model_letter].width <= 41
    row = _row_index(ws, **{"circle id": "ems", "requirement": "(whole circle)"})
    assert _cell(ws, row, "model").alignment.wrap_text
    assert ws.row_dimensions[row].height >= 4 * 15

    row = _row_index(ws, **{"requirement id": "ems_station"})
    assert _cell(ws, row, "threshold").value == (
        "10 min central / 12 min new_urban, 12 min elsewhere"
    )
    assert _cell(ws, row, "coverage").value == pytest.approx(1300 / 1500)
    # drive circles: the road-class speeds are recalled, the congestion factor verified
    assert _cell(ws, row, "unverified numbers").value == "threshold, road speeds, target"
    row = _row_index(ws, **{"requirement id": "wuhan_1plus8"})
    assert _cell(ws, row, "threshold").value == "120 min · 8 destinations, all"
    assert _cell(ws, row, "unverified numbers").value == (
        "threshold, road speeds, line-haul times, target"
    )
    # the whole circle counts the basic requirement only
    row = _row_index(ws, **{"circle id": "metro_area_2h", "requirement": "(whole circle)"})
    assert _cell(ws, row, "coverage").value == pytest.approx(1400 / 1500)


def test_summary_sheet_in_chinese(workbook_zh):
    ws = workbook_zh["汇总"]
    assert _header(ws)[:7] == ["圈层编号", "圈层", "出行方式", "要求编号", "要求", "层次", "阈值"]
    row = _row_index(ws, 要求编号="kindergarten")
    assert _cell(ws, row, "圈层").value == "15分钟生活圈"
    assert _cell(ws, row, "要求").value == "幼儿园"
    assert _cell(ws, row, "出行方式").value == "步行"
    assert _cell(ws, row, "层次").value == "基本"
    assert _cell(ws, row, "阈值").value == "15 分钟"
    assert _cell(ws, row, "达标人口").value == 1100
    assert _cell(ws, row, "缺口").value == "是"
    assert _cell(ws, row, "未核实的数值").value == "步行速度、目标"
    row = _row_index(ws, 要求编号="ems_station")
    # zones by their Chinese names (the rule file's zones.*.name.zh), not their ids
    assert _cell(ws, row, "阈值").value == "中心城区 10 分钟 / 新城区 12 分钟，其他 12 分钟"
    assert _cell(ws, row, "出行方式").value == "驾车"
    row = _row_index(ws, 要求编号="middle_yangtze")
    assert _cell(ws, row, "阈值").value == "120 分钟 · 2 个目的地，全部"
    assert _cell(ws, row, "层次").value == "品质"
    row = _row_index(ws, 圈层编号="life_15min", 要求="（全圈）")
    assert _cell(ws, row, "缺口").value == "不适用"


# --- Communities, Sub-districts, Gaps ---------------------------------------------------------


def test_communities_sheet(workbook, audit):
    _, coverage = audit
    ws = workbook["Communities"]
    header = _header(ws)
    assert header[:5] == [
        "community",
        "residents",
        "population",
        "residents off network",
        "population off network",
    ]
    assert header[5:] == [
        "15-minute life circle: coverage",
        "10-minute activity circle: coverage",
        "emergency medical circle: coverage",
        "2-hour metro-area circle: coverage",
    ]
    assert [r["community"] for r in _records(ws)] == [JIANGHAN, RIVERSIDE, UNASSIGNED]

    expected = _coverage(coverage, "life_15min", "", "community", RIVERSIDE)["coverage_ratio"]
    cell = _cell(ws, _row_index(ws, community=RIVERSIDE), "15-minute life circle: coverage")
    assert cell.value == pytest.approx(expected) == pytest.approx(0.3)
    assert cell.number_format == "0.0%"

    row = _row_index(ws, community=JIANGHAN)
    assert _cell(ws, row, "population").value == 1000
    assert _cell(ws, row, "residents off network").value == 1
    # unassigned is not in summary["communities"]: counts come from coverage, NaN stays empty
    row = _row_index(ws, community=UNASSIGNED)
    assert _cell(ws, row, "residents").value == 1
    assert _cell(ws, row, "population").value == 0
    assert _cell(ws, row, "15-minute life circle: coverage").value is None

    ranges = {str(rule_range.sqref) for rule_range in ws.conditional_formatting}
    for index in range(6, 10):
        letter = openpyxl.utils.get_column_letter(index)
        assert f"{letter}2:{letter}4" in ranges
    # wide characters count double: eight CJK characters need at least sixteen cells
    assert ws.column_dimensions["A"].width >= 16


def test_communities_sheet_in_chinese(workbook_zh):
    ws = workbook_zh["社区"]
    assert _header(ws)[:3] == ["社区", "居民点数", "人口"]
    assert "15分钟生活圈：覆盖率" in _header(ws)
    assert [r["社区"] for r in _records(ws)] == [JIANGHAN, RIVERSIDE, "（未归属社区）"]


def test_subdistricts_sheet(workbook, workbook_zh, audit):
    _, coverage = audit
    ws = workbook["Sub-districts"]
    assert _header(ws)[:3] == ["sub-district", "residents", "population"]
    records = _records(ws)
    assert [r["sub-district"] for r in records] == [SUBDISTRICT]
    # both communities, not the unassigned resident
    assert records[0]["residents"] == 7
    assert records[0]["population"] == 1500
    for circle, header in [
        ("life_15min", "15-minute life circle: coverage"),
        ("metro_area_2h", "2-hour metro-area circle: coverage"),
    ]:
        expected = _coverage(coverage, circle, "", "subdistrict", SUBDISTRICT)["coverage_ratio"]
        assert records[0][header] == pytest.approx(expected)
    assert records[0]["15-minute life circle: coverage"] == pytest.approx(850 / 1500)
    assert _records(workbook_zh["街道"])[0]["街道"] == SUBDISTRICT


def test_community_subdistrict_column_when_the_summary_names_it(tmp_path: Path, audit):
    summary, coverage = copy.deepcopy(audit)
    for community in summary["communities"]:
        community["subdistrict"] = SUBDISTRICT
    workbook = _write(tmp_path, summary, coverage)
    ws = workbook["Communities"]
    assert _header(ws)[:2] == ["community", "sub-district"]
    assert [r["sub-district"] for r in _records(ws)] == [SUBDISTRICT, SUBDISTRICT, None]
    assert _records(workbook["Gaps"])[0]["sub-district"] == SUBDISTRICT
    assert "sub-district" in _header(workbook["life_15min"])


def test_gaps_sheet(workbook, audit):
    _, coverage = audit
    ws = workbook["Gaps"]
    assert _header(ws) == [
        "community",
        "circle",
        "requirement",
        "tier",
        "population",
        "population not met",
        "share not met",
        "coverage",
        "target",
        "median minutes of those not met",
        "circle id",
        "requirement id",
    ]
    gap_rows = coverage[
        (coverage["scope"] == "community")
        & (coverage["requirement_id"] != "")
        & (coverage["is_gap"] == True)  # noqa: E712 - object column of True/False/None
    ]
    records = _records(ws)
    assert len(records) == len(gap_rows) == 6
    # basic requirements first, then the largest population not met
    assert [
        (r["community"], r["requirement id"], r["tier"], r["population not met"]) for r in records
    ] == [
        (RIVERSIDE, "kindergarten", "basic", 350),
        (JIANGHAN, "primary_school", "basic", 300),
        (RIVERSIDE, "micro_public_space", "basic", 200),
        (RIVERSIDE, "ems_station", "basic", 200),
        (JIANGHAN, "middle_yangtze", "quality", 1000),
        (RIVERSIDE, "middle_yangtze", "quality", 500),
    ]
    for record in records:
        assert record["population not met"] == pytest.approx(
            record["population"] * (1 - record["coverage"])
        )
        assert record["share not met"] == pytest.approx(1 - record["coverage"])
        medians = MEDIANS[(record["circle id"], record["requirement id"])]
        expected = medians[0] if record["community"] == JIANGHAN else medians[1]
        if math.isnan(expected):
            assert record["median minutes of those not met"] is None
        else:
            assert record["median minutes of those not met"] == pytest.approx(expected)
    assert records[0]["circle"] == "15-minute life circle"
    assert records[4]["requirement"] == "Middle Yangtze core cities"
    assert _cell(ws, 2, "share not met").number_format == "0.0%"
    assert _cell(ws, 2, "median minutes of those not met").number_format == "0.0"
    assert _cell(ws, 2, "median minutes of those not met").value == pytest.approx(21.0)
    assert _cell(ws, 2, "coverage").fill.fgColor.rgb.endswith("FFC7CE")


def test_gaps_sheet_in_chinese(workbook_zh):
    records = _records(workbook_zh["缺口"])
    assert records[0]["社区"] == RIVERSIDE
    assert records[0]["圈层"] == "15分钟生活圈"
    assert records[0]["要求"] == "幼儿园"
    assert records[0]["层次"] == "基本"
    assert records[0]["未达标人口"] == 350
    assert records[-1]["层次"] == "品质"


# --- Destinations, Zones -------------------------------------------------------------------------


def test_destinations_sheet(workbook, workbook_zh, audit):
    summary, _ = audit
    ws = workbook["Destinations"]
    assert _header(ws) == [
        "circle",
        "requirement",
        "destination id",
        "destination",
        "population reached",
        "share reached",
        "median minutes",
        "line-haul tag",
    ]
    records = _records(ws)
    metro = next(c for c in summary["circles"] if c["circle_id"] == "metro_area_2h")
    assert len(records) == len(metro["destinations"]) == len(DESTINATIONS)
    for record, destination in zip(records, metro["destinations"], strict=True):
        assert record["destination id"] == destination["destination_id"]
        assert record["destination"] == destination["name"]["en"]
        assert record["population reached"] == destination["population_reached"]
        assert record["share reached"] == destination["share_reached"]
        assert record["median minutes"] == destination["median_min"]
    row = _row_index(ws, **{"destination id": "huangshi"})
    assert _cell(ws, row, "circle").value == "2-hour metro-area circle"
    assert _cell(ws, row, "requirement").value == "Wuhan city circle (1+8)"
    assert _cell(ws, row, "population reached").number_format == "#,##0"
    assert _cell(ws, row, "share reached").value == pytest.approx(1450 / 1500)
    assert _cell(ws, row, "share reached").number_format == "0.0%"
    assert _cell(ws, row, "median minutes").number_format == "0.0"
    assert _cell(ws, row, "line-haul tag").value == "default (unverified)"
    assert _cell(ws, row, "line-haul tag").font.italic
    row = _row_index(ws, **{"destination id": "nanchang"})
    assert _cell(ws, row, "median minutes").value is None  # nobody has a route to Nanchang
    assert _cell(ws, row, "line-haul tag").value == "verified, recalled (unverified)"

    zh = _records(workbook_zh["目的地"])
    assert zh[0]["目的地"] == "黄石"
    assert zh[0]["要求"] == "武汉城市圈（1+8）"
    assert zh[0]["干线时间标记"] == "默认值（未核实）"


def test_zones_sheet(workbook, workbook_zh):
    ws = workbook["Zones"]
    assert _header(ws) == ["circle", "zone", "zone name", "residents", "population"]
    records = _records(ws)
    assert [(r["zone"], r["residents"], r["population"]) for r in records] == ZONES
    assert [r["zone name"] for r in records] == [
        "central districts",
        "new urban districts",
        "(outside every zone)",
    ]
    assert {r["circle"] for r in records} == {"emergency medical circle"}
    assert _cell(ws, 2, "population").number_format == "#,##0"
    zh = _records(workbook_zh["分区"])
    assert [r["分区名称"] for r in zh] == ["中心城区", "新城区", "（不在任何分区）"]


def test_destinations_and_zones_sheets_without_hub_or_zones(walk_only_workbook):
    for title, width in (("Destinations", 8), ("Zones", 5)):
        ws = walk_only_workbook[title]
        assert ws.max_row == 1, title
        assert len(_header(ws)) == width, title
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(width)}1", title
    assert walk_only_workbook["Summary"].max_row == 1 + 2 + 3


# --- one sheet per circle -----------------------------------------------------------------------


def test_circle_sheets(workbook, audit):
    summary, coverage = audit
    for circle in summary["circles"]:
        ws = workbook[circle["circle_id"]]
        requirements = [r["name"]["en"] for r in circle["requirements"]]
        assert _header(ws) == [
            "level",
            "community or sub-district",
            "residents",
            "population",
            "whole circle: coverage",
            "whole circle: population not met",
            *[
                f"{name}: {what}"
                for name in requirements
                for what in ("coverage", "population not met")
            ],
        ]
        records = _records(ws)
        # overall first, then the sub-district, then the communities
        assert [(r["level"], r["community or sub-district"]) for r in records] == [
            ("overall", "(all residents)"),
            ("sub-district", SUBDISTRICT),
            ("community", JIANGHAN),
            ("community", RIVERSIDE),
            ("community", UNASSIGNED),
        ]
        scopes = [("overall", ""), ("subdistrict", SUBDISTRICT)]
        scopes += [("community", c) for c in (JIANGHAN, RIVERSIDE, UNASSIGNED)]
        for record, (scope, area) in zip(records, scopes, strict=True):
            whole = _coverage(coverage, circle["circle_id"], "", scope, area)
            assert record["population"] == whole["population_total"]
            assert record["whole circle: coverage"] == (
                None if math.isnan(whole["coverage_ratio"]) else whole["coverage_ratio"]
            )
            for requirement, name in zip(circle["requirements"], requirements, strict=True):
                row = _coverage(
                    coverage, circle["circle_id"], requirement["requirement_id"], scope, area
                )
                expected = row["population_total"] - row["population_met"]
                assert record[f"{name}: population not met"] == expected

    ws = workbook["life_15min"]
    row = _row_index(ws, **{"community or sub-district": RIVERSIDE})
    assert _cell(ws, row, "kindergarten: coverage").value == pytest.approx(0.3)
    assert _cell(ws, row, "kindergarten: coverage").number_format == "0.0%"
    assert _cell(ws, row, "kindergarten: coverage").font.bold  # a gap
    assert _cell(ws, row, "kindergarten: population not met").value == 350
    assert _cell(ws, row, "whole circle: population not met").value == 350
    assert not _cell(ws, row, "primary school: coverage").font.bold  # 90 %: no gap
    row = _row_index(ws, level="overall")
    assert _cell(ws, row, "residents").value == 8
    assert _cell(ws, row, "kindergarten: coverage").value == pytest.approx(1100 / 1500)
    ranges = {str(rule_range.sqref) for rule_range in ws.conditional_formatting}
    assert {"E2:E6", "G2:G6", "I2:I6"} <= ranges


def test_circle_sheets_in_chinese(workbook_zh):
    ws = workbook_zh["life_15min"]
    assert _header(ws)[:8] == [
        "范围",
        "社区或街道",
        "居民点数",
        "人口",
        "全圈：覆盖率",
        "全圈：未达标人口",
        "幼儿园：覆盖率",
        "幼儿园：未达标人口",
    ]
    assert [r["范围"] for r in _records(ws)] == ["全部", "街道", "社区", "社区", "社区"]
    assert _records(ws)[-1]["社区或街道"] == "（未归属社区）"


# --- Rules, Inputs -------------------------------------------------------------------------------


def test_rules_sheet(workbook, workbook_zh, audit):
    summary, _ = audit
    ws = workbook["Rules"]
    assert _header(ws) == [
        "circle id",
        "circle",
        "requirement id",
        "requirement",
        "tier",
        "mode",
        "facility types",
        "destinations",
        "threshold",
        "min count",
        "min share",
        "target",
        "walk speed (m/min)",
        "circle target",
        "threshold source",
        "threshold tag",
        "target source",
        "target tag",
        "walk speed source",
        "walk speed tag",
        "circle target source",
        "circle target tag",
    ]  # no requirement has a source for its minimum count: no empty columns for one
    records = _records(ws)
    requirements = [r for c in summary["circles"] for r in c["requirements"]]
    assert len(records) == len(requirements) == 6
    assert [r["requirement id"] for r in records] == [r["requirement_id"] for r in requirements]

    row = _row_index(ws, **{"requirement id": "kindergarten"})
    assert _cell(ws, row, "facility types").value == "kindergarten"
    assert _cell(ws, row, "threshold").value == "15 min"
    assert _cell(ws, row, "threshold source").value == "Wuhan 2020"
    assert _cell(ws, row, "threshold tag").value == "verified"
    assert not _cell(ws, row, "threshold tag").font.italic
    assert _cell(ws, row, "target").value == pytest.approx(0.9)
    assert _cell(ws, row, "target source").value == "circles default"
    target_tag = _cell(ws, row, "target tag")
    assert target_tag.value == "default (unverified)"
    assert target_tag.font.italic and target_tag.fill.fgColor.rgb.endswith("FFEB9C")
    assert _cell(ws, row, "walk speed (m/min)").value == 60
    assert _cell(ws, row, "walk speed tag").value == "default (unverified)"

    row = _row_index(ws, **{"requirement id": "micro_public_space"})
    assert _cell(ws, row, "circle target").value == pytest.approx(0.8)
    assert _cell(ws, row, "circle target tag").value == "verified"
    assert _cell(ws, row, "walk speed (m/min)").value is None  # a distance threshold

    row = _row_index(ws, **{"requirement id": "ems_station"})
    assert _cell(ws, row, "circle target").value is None
    assert _cell(ws, row, "facility types").value == "ems_centre, ems_station"
    assert _cell(ws, row, "threshold tag").value == (
        "by zone: verified; elsewhere: default (unverified)"
    )
    assert _cell(ws, row, "threshold source").value == (
        "by zone: Wuhan 2020: 中心城区10分钟、新城区12分钟医疗急救圈; "
        "elsewhere: residents outside both zones: the new-urban 12 minutes"
    )
    assert _cell(ws, row, "walk speed (m/min)").value is None

    row = _row_index(ws, **{"requirement id": "middle_yangtze"})
    assert _cell(ws, row, "destinations").value == "Changsha, Nanchang"
    assert _cell(ws, row, "min share").value == 1
    assert _cell(ws, row, "min share").number_format == "0.0%"
    assert _cell(ws, row, "threshold tag").value == (
        "time: verified; min share: recalled (unverified)"
    )
    assert _cell(ws, row, "threshold").font.italic

    zh = workbook_zh["规则"]
    assert len(_records(zh)) == 6
    row = _row_index(zh, 要求编号="middle_yangtze")
    assert _cell(zh, row, "目的地").value == "长沙、南昌"
    assert _cell(zh, row, "阈值标记").value == "时间：已核实；最低比例：凭记忆（未核实）"
    assert _cell(zh, row, "层次").value == "品质"


def test_inputs_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Inputs"]
    assert _header(ws) == ["section", "item", "value", "SHA-256", "source", "tag"]
    rows = {(r["section"], r["item"]): r for r in _records(ws)}

    def value(section, item):
        return rows[(section, item)]["value"]

    assert value("run", "circles version") == "0.1.0"
    assert value("run", "run time (UTC)") == summary["run"]["timestamp"]
    assert value("run", "CRS") == "EPSG:32650"
    assert value("run", "engine") == "pandana"
    assert value("run", "coordinate systems declared") == "facilities=gcj02"
    assert value("run", "converted to WGS 84") == "facilities: gcj02 → wgs84"
    for name, item in summary["run"]["inputs"].items():
        if item is None:
            assert value("input files", name) == "(none)"
        else:
            assert value("input files", name) == item["path"]
            assert rows[("input files", name)]["SHA-256"] == item["sha256"]
    assert rows[("input files", "network")]["SHA-256"] == "ab" * 32
    assert rows[("rule files", "life_15min")]["SHA-256"] == "0f" * 32
    assert value("rule files", "metro_area_2h") == "rules/wuhan/6_metro_area_2h.yaml"
    # the hash stays on one line
    letter = openpyxl.utils.get_column_letter(4)
    assert ws.column_dimensions[letter].width >= 64

    speed = rows[("speeds", "life_15min: walk speed")]
    assert (speed["value"], speed["source"], speed["tag"]) == (
        "60 m/min",
        "planning practice",
        "default (unverified)",
    )
    assert ("speeds", "activity_10min: walk speed") not in rows  # distances only
    road = rows[("speeds", "ems: road-class speeds")]
    assert road["value"].startswith("motorway 80, motorway_link 40, trunk 60")
    assert road["tag"] == "recalled (unverified)"
    congestion = rows[("speeds", "ems: congestion factor")]
    assert (congestion["value"], congestion["tag"]) == (0.77, "verified")
    assert value("speeds", "ems: tagged maxspeed used") == "yes"

    persons = rows[("population", "persons per household")]
    assert persons["value"] == 2.62
    assert persons["source"].startswith("第七次全国人口普查公报")
    assert persons["tag"] == "recalled (unverified)"

    assert value("parameters", "max_snap_m") == 250
    assert ("parameters", "walk_speed_m_per_min") not in rows  # shown under speeds when set
    assert ("speeds", "walk speed override") not in rows
    assert value("parameters", "reach_min") == "kindergarten_min=30.0, primary_school_min=30.0"
    assert value("counts", "residents: read") == 10
    assert value("counts", "population: off network") == 80
    assert value("counts", "facilities: ok") == 5
    assert value("reconciliation", "evaluated: residents") == 8
    assert value("reconciliation", "no geometry: population") == 40
    assert value("reconciliation", "of which in no community: residents") == 1
    assert value("reconciliation", "read = evaluated + off network + no geometry") == "adds up"
    assert value("facilities by type", "primary_school: ok") == 1
    for key, network in summary["networks"].items():
        assert value("networks", f"{key}: nodes") == network["nodes"]
    assert value("networks", "walk: length (km)") == pytest.approx(123.4)
    assert value("networks", "drive1: mode") == "drive"
    assert value("warnings", "warning 1") == summary["warnings"][0]


def test_inputs_sheet_in_chinese(workbook_zh, audit):
    summary, _ = audit
    ws = workbook_zh["输入"]
    assert _header(ws) == ["类别", "项目", "值", "SHA-256", "来源", "标记"]
    rows = {(r["类别"], r["项目"]): r for r in _records(ws)}
    assert rows[("输入文件", "network")]["SHA-256"] == "ab" * 32
    assert rows[("运行", "已转换为 WGS 84")]["值"] == "facilities: gcj02 → wgs84"
    assert rows[("人口", "户均人口")]["标记"] == "凭记忆（未核实）"
    assert rows[("速度", "life_15min：步行速度")]["值"] == "60 米/分钟"
    assert rows[("核对", "读入 = 参与评估 + 路网外 + 无几何")]["值"] == "相符"
    assert rows[("计数", "居民点：路网外")]["值"] == 1
    # a warning the text table does not know: shown as written, marked as English
    assert rows[("警告", "警告 1")]["值"] == "（英文原文）" + summary["warnings"][0]


def test_inputs_sheet_flags_counts_that_do_not_add_up_and_speed_overrides(tmp_path: Path, audit):
    summary, coverage = copy.deepcopy(audit)
    summary["counts"]["reconcile"]["evaluated"]["residents"] = 6
    summary["run"]["parameters"]["walk_speed_m_per_min"] = 48.0
    rows = {r["item"]: r["value"] for r in _records(_write(tmp_path, summary, coverage)["Inputs"])}
    assert rows["read = evaluated + off network + no geometry"] == "does not add up"
    assert rows["walk speed override"] == "48 m/min"


# --- Residents -----------------------------------------------------------------------------------


def test_residents_sheet_is_written_in_write_only_mode(tmp_path: Path, audit, monkeypatch):
    modes = []
    real_workbook = excel.Workbook

    def spy(*args, **kwargs):
        modes.append(kwargs.get("write_only", False))
        return real_workbook(*args, **kwargs)

    monkeypatch.setattr(excel, "Workbook", spy)
    residents = _residents()
    workbook = _write(tmp_path, *audit, residents=residents)
    assert modes == [True]
    assert workbook.sheetnames[-3:] == ["Rules", "Inputs", "Residents"]
    ws = workbook["Residents"]
    assert _header(ws) == list(residents.columns)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:J5"
    records = _records(ws)
    assert records[0] == {
        "resident_id": "A",
        "community_id": JIANGHAN,
        "population": 400,
        "snap_m": 12.5,
        "status": "ok",
        "ems_zone": "central",
        "kindergarten_min": 3.25,
        "metro_area_2h_wuhan_1plus8_reached": 8,
        "life_15min": 1,
        "life_15min/kindergarten": 1,
    }
    assert records[3]["resident_id"] == "H "  # xlsx cannot hold control characters
    assert records[3]["snap_m"] is None  # NaN: an empty cell
    assert records[3]["ems_zone"] is None
    assert records[1]["kindergarten_min"] is None
    assert [r["life_15min/kindergarten"] for r in records] == [1, 1, 0, 0]
    assert ws.column_dimensions["B"].width >= 16  # eight CJK characters
    zh = _write(tmp_path, *audit, lang="zh", residents=residents)
    assert zh.sheetnames[-1] == "居民点"
    assert _header(zh["居民点"]) == list(residents.columns)  # the residents.csv names


def test_residents_beyond_the_row_limit_continue_on_another_sheet(
    tmp_path: Path, audit, monkeypatch
):
    monkeypatch.setattr(excel, "_EXCEL_MAX_ROWS", 3)  # two residents per sheet
    monkeypatch.setattr(excel, "_RESIDENT_CHUNK_ROWS", 1)
    workbook = _write(tmp_path, *audit, residents=_residents())
    assert workbook.sheetnames[-2:] == ["Residents", "Residents 2"]
    assert [r["resident_id"] for r in _records(workbook["Residents"])] == ["A", "B"]
    assert [r["resident_id"] for r in _records(workbook["Residents 2"])] == ["C", "H "]


def test_residents_sheet_memory_does_not_grow_with_rows(tmp_path: Path, audit, monkeypatch):
    """Streamed in chunks: four times the rows, about the same peak memory.

    openpyxl's ordinary mode would hold every cell (~0.5 kB each): 3,000 more rows of 7 cells,
    ~10 MB more. Only the residents' ids (shared strings) grow here.
    """
    monkeypatch.setattr(excel, "_RESIDENT_CHUNK_ROWS", 500)
    rng = np.random.default_rng(0)
    peaks = []
    for rows in (1_000, 4_000):
        residents = pd.DataFrame({f"c{i}_min": rng.random(rows).round(3) for i in range(6)})
        residents.insert(0, "resident_id", [f"R{i:06d}" for i in range(rows)])
        path = tmp_path / f"big-{rows}.xlsx"
        tracemalloc.start()
        try:
            write_workbook(path, *audit, residents=residents)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        workbook = openpyxl.load_workbook(path, read_only=True)
        assert sum(1 for _ in workbook["Residents"].iter_rows(values_only=True)) == rows + 1
        workbook.close()
    assert peaks[1] - peaks[0] < 2e6, peaks


# --- a real audit --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workbook_of_a_real_audit(tmp_path: Path, toy: dict[str, Path], lang: str):
    result = run_audit(
        AuditOptions(
            network=toy["network"],
            facilities=toy["facilities"],
            residents=toy["residents"],
            communities=toy["communities"],
            rules=[toy["rules"]],
        )
    )
    summary, coverage = result.summary, result.coverage
    workbook = _write(tmp_path, summary, coverage, lang=lang, residents=result.residents)
    labels = LABELS[lang]
    assert workbook.sheetnames == [
        labels[f"sheet_{key}"]
        for key in ("summary", "communities", "gaps", "destinations", "zones")
    ] + ["toy", labels["sheet_rules"], labels["sheet_inputs"], labels["sheet_residents"]]

    # Summary: the whole circle and its two requirements, as in the summary
    ws = workbook[labels["sheet_summary"]]
    records = _records(ws)
    toy_circle = summary["circles"][0]
    assert len(records) == 1 + len(toy_circle["requirements"]) == 3
    coverage_header = labels["coverage"]
    assert records[0][coverage_header] == pytest.approx(toy_circle["overall"]["coverage_ratio"])
    for record, requirement in zip(records[1:], toy_circle["requirements"], strict=True):
        assert record[labels["requirement_id"]] == requirement["requirement_id"]
        overall = requirement["overall"]
        assert record[coverage_header] == pytest.approx(overall["coverage_ratio"])
        assert record[labels["population_met"]] == overall["population_met"]
        assert record[labels["gap"]] == labels["yes" if overall["is_gap"] else "no"]

    # the circle's sheet: every community of the coverage table with its numbers
    ws = workbook["toy"]
    by_area = {r[labels["area"]]: r for r in _records(ws)}
    for _, row in coverage[coverage["scope"] == "community"].iterrows():
        shown = labels["community_unassigned"] if row["community_id"] == "unassigned" else None
        record = by_area[shown or row["community_id"]]
        name = row["requirement_id"] or None
        header = (
            labels["whole_circle_not_met"]
            if name is None
            else labels["requirement_not_met"].format(requirement=name)
        )
        assert record[header] == row["population_total"] - row["population_met"]

    # Gaps: the community rows below target, with the median minutes of those not met
    gaps = _records(workbook[labels["sheet_gaps"]])
    expected = coverage[(coverage["scope"] == "community") & (coverage["is_gap"] == True)]  # noqa: E712
    assert len(gaps) == len(expected) == 4  # west, east and unassigned (twice)
    west = next(
        g
        for g in gaps
        if g[labels["community"]] == "west" and g[labels["requirement_id"]] == "two_kindergartens"
    )
    assert west[labels["median_min_not_met"]] == pytest.approx(205 / 60, abs=0.01)  # R2 → K2

    # Rules: one row per requirement; Inputs: the files' SHA-256
    assert len(_records(workbook[labels["sheet_rules"]])) == 2
    inputs = _records(workbook[labels["sheet_inputs"]])
    sha = hashlib.sha256(toy["residents"].read_bytes()).hexdigest()
    assert sha in {r["SHA-256"] for r in inputs}

    # Residents: every row and column of the table
    ws = workbook[labels["sheet_residents"]]
    assert _header(ws) == list(result.residents.columns)
    cells = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(cells) == len(result.residents) == 4
    assert [row[0] for row in cells] == result.residents["resident_id"].tolist()
    minutes = _header(ws).index("kindergarten_min")
    for row, value in zip(cells, result.residents["kindergarten_min"], strict=True):
        assert row[minutes] == (None if math.isnan(value) else pytest.approx(value))
