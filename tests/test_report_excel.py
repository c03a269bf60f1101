"""Tests for circles.report.excel: the audit workbook."""

from __future__ import annotations

import io
import math
from pathlib import Path

import openpyxl
import pytest

from circles.report.excel import write_workbook
from tests.report_fixture import JIANGHAN, RIVERSIDE, UNASSIGNED

# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path: Path, audit) -> openpyxl.Workbook:
    summary, coverage = audit
    path = tmp_path / "report.xlsx.tmp"
    write_workbook(path, summary, coverage)
    # the caller writes to a temporary name; openpyxl only reads known suffixes from paths
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()))


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


# --- tests ---------------------------------------------------------------------------------------


def test_fixture_follows_the_contract(audit):
    summary, coverage = audit
    assert list(coverage.columns) == [
        "circle_id",
        "requirement_id",
        "scope",
        "community_id",
        "residents_total",
        "residents_met",
        "population_total",
        "population_met",
        "coverage_ratio",
        "target_coverage",
        "is_gap",
    ]
    assert len(summary["circles"]) == 2
    assert sum(len(c["requirements"]) for c in summary["circles"]) == 3
    assert set(coverage["community_id"]) == {"", JIANGHAN, RIVERSIDE, UNASSIGNED}
    assert coverage["coverage_ratio"].isna().any()


def test_sheet_names(workbook):
    assert workbook.sheetnames == ["Summary", "Communities", "Gaps", "Run"]


def test_every_sheet_has_a_bold_frozen_filtered_header(workbook):
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == ws.dimensions, ws.title
        assert all(cell.font.bold for cell in ws[1]), ws.title
        assert all(cell.value for cell in ws[1]), ws.title


def test_no_nan_or_numbers_as_text(workbook):
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                value = cell.value
                assert not (isinstance(value, float) and math.isnan(value)), cell.coordinate
                if isinstance(value, str):
                    assert value.lower() not in {"nan", "none", "<na>"}, cell.coordinate
                    with pytest.raises(ValueError):
                        float(value.replace(",", ""))


def test_summary_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Summary"]
    header = _header(ws)
    for expected in [
        "circle id",
        "circle name (en)",
        "circle name (zh)",
        "requirement",
        "facility types",
        "threshold",
        "min count",
        "population total",
        "population met",
        "coverage",
        "target",
        "gap",
        "threshold source",
        "threshold tag",
        "target source",
        "target tag",
    ]:
        assert expected in header
    assert ws.max_row == 1 + 2 + 3  # header, two whole-circle rows, three requirements

    row = _row_index(ws, **{"circle id": "life_15min", "requirement": "kindergarten"})
    assert _cell(ws, row, "circle name (zh)").value == "15分钟生活圈"
    assert _cell(ws, row, "threshold").value == "15 min"
    assert _cell(ws, row, "min count").value == 1
    assert _cell(ws, row, "population total").value == 1500
    assert _cell(ws, row, "population met").value == 1100
    coverage_cell = _cell(ws, row, "coverage")
    assert coverage_cell.value == pytest.approx(1100 / 1500)
    assert "%" in coverage_cell.number_format
    assert _cell(ws, row, "target").value == pytest.approx(0.9)
    assert "%" in _cell(ws, row, "target").number_format
    assert _cell(ws, row, "gap").value == "yes"
    # verified threshold is plain, default target is marked
    assert _cell(ws, row, "threshold tag").value == "verified"
    assert not _cell(ws, row, "threshold").font.italic
    assert _cell(ws, row, "target tag").value == "default (unverified)"
    assert _cell(ws, row, "target").font.italic

    row = _row_index(ws, **{"circle id": "life_15min", "requirement": "primary_school"})
    assert _cell(ws, row, "threshold tag").value == "recalled (unverified)"
    assert _cell(ws, row, "threshold").font.italic
    assert _cell(ws, row, "threshold source").value == "GB 50180-2018 Appendix B"

    row = _row_index(ws, **{"circle id": "activity_10min", "requirement": "micro_public_space"})
    assert _cell(ws, row, "threshold").value == "600 m"
    assert _cell(ws, row, "facility types").value == (
        "pocket_park, community_park, plaza, playground, outdoor_fitness"
    )
    assert _cell(ws, row, "gap").value == "no"
    assert _cell(ws, row, "target tag").value == "verified"

    # whole-circle rows: no target on life_15min, so neither target nor gap
    row = _row_index(ws, **{"circle id": "life_15min", "facility types": "all requirements"})
    assert _cell(ws, row, "target").value is None
    assert _cell(ws, row, "gap").value == "n/a"
    assert _cell(ws, row, "coverage").value == pytest.approx(
        summary["circles"][0]["overall"]["coverage_ratio"]
    )


def test_communities_sheet(workbook, audit):
    _, coverage = audit
    ws = workbook["Communities"]
    header = _header(ws)
    assert header[0] == "community"
    for expected in ["residents", "population", "residents off network"]:
        assert expected in header
    assert "life_15min coverage" in header
    assert "activity_10min coverage" in header
    assert [r["community"] for r in _records(ws)] == [JIANGHAN, RIVERSIDE, UNASSIGNED]

    expected = coverage[
        (coverage["scope"] == "community")
        & (coverage["requirement_id"] == "")
        & (coverage["circle_id"] == "life_15min")
        & (coverage["community_id"] == RIVERSIDE)
    ]["coverage_ratio"].item()
    cell = _cell(ws, _row_index(ws, community=RIVERSIDE), "life_15min coverage")
    assert cell.value == pytest.approx(expected) == pytest.approx(0.3)
    assert cell.number_format == "0.0%"

    row = _row_index(ws, community=JIANGHAN)
    assert _cell(ws, row, "population").value == 1000
    assert _cell(ws, row, "residents off network").value == 1
    # unassigned is not in summary["communities"]: counts come from coverage, NaN stays empty
    row = _row_index(ws, community=UNASSIGNED)
    assert _cell(ws, row, "residents").value == 1
    assert _cell(ws, row, "population").value == 0
    assert _cell(ws, row, "life_15min coverage").value is None

    ranges = {str(rule_range.sqref) for rule_range in ws.conditional_formatting}
    first = header.index("life_15min coverage") + 1
    letter = openpyxl.utils.get_column_letter(first)
    assert f"{letter}2:{letter}4" in ranges
    # wide characters count double: eight CJK characters need at least sixteen cells
    assert ws.column_dimensions["A"].width >= 16


def test_gaps_sheet(workbook, audit):
    _, coverage = audit
    ws = workbook["Gaps"]
    assert _header(ws) == [
        "community",
        "circle",
        "requirement",
        "population total",
        "population not met",
        "share not met",
        "coverage",
        "target",
    ]
    gap_rows = coverage[
        (coverage["scope"] == "community")
        & (coverage["requirement_id"] != "")
        & (coverage["is_gap"] == True)  # noqa: E712 - object column of True/False/None
    ]
    records = _records(ws)
    assert len(records) == len(gap_rows) == 3
    assert [(r["community"], r["requirement"], r["population not met"]) for r in records] == [
        (RIVERSIDE, "kindergarten", 350),
        (JIANGHAN, "primary_school", 300),
        (RIVERSIDE, "micro_public_space", 200),
    ]
    for record in records:
        assert record["population not met"] == pytest.approx(
            record["population total"] * (1 - record["coverage"])
        )
        assert record["share not met"] == pytest.approx(1 - record["coverage"])
    assert _cell(ws, 2, "share not met").number_format == "0.0%"
    assert _cell(ws, 2, "coverage").fill.fgColor.rgb.endswith("FFC7CE")


def test_run_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Run"]
    assert _header(ws) == ["item", "value"]
    values = {key: value for key, value in ws.iter_rows(min_row=2, values_only=True)}
    assert values["circles version"] == "0.1.0"
    assert values["timestamp"] == summary["run"]["timestamp"]
    assert values["CRS"] == "EPSG:32650"
    assert values["engine"] == "pandana"
    assert values["parameter: max_snap_m"] == 250
    assert values["parameter: walk_speed_m_per_min"] is None
    assert values["input network: path"] == "data/roads.geojson"
    assert values["input network: sha256"] == "ab" * 32
    assert values["input communities: path"] == "(none)"
    assert values["rule file life_15min: sha256"] == "0f" * 32
    assert values["residents read"] == 10
    assert values["population off_network"] == 80
    assert values["facilities primary_school ok"] == 1
    assert values["network length_km"] == pytest.approx(123.4)
    assert values["warning 1"] == summary["warnings"][0]
