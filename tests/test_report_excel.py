"""Tests for circles.report.excel: the audit workbook."""

from __future__ import annotations

import io
import math
from pathlib import Path

import openpyxl
import pytest

from circles.report.excel import LABELS, write_workbook
from circles.report.values import THRESHOLD_WORDS
from tests.report_fixture import DESTINATIONS, JIANGHAN, RIVERSIDE, UNASSIGNED, ZONES

# --- helpers -------------------------------------------------------------------------------------


def _write(tmp_path: Path, summary, coverage) -> openpyxl.Workbook:
    path = tmp_path / "report.xlsx.tmp"
    write_workbook(path, summary, coverage)
    # the caller writes to a temporary name; openpyxl only reads known suffixes from paths
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()))


@pytest.fixture
def workbook(tmp_path: Path, audit) -> openpyxl.Workbook:
    return _write(tmp_path, *audit)


@pytest.fixture
def walk_only_workbook(tmp_path: Path, audit) -> openpyxl.Workbook:
    """The fixture without its drive and hub circles: no zones, no destinations."""
    summary, coverage = audit
    walk = {"life_15min", "activity_10min"}
    summary = {**summary, "circles": [c for c in summary["circles"] if c["circle_id"] in walk]}
    return _write(tmp_path, summary, coverage[coverage["circle_id"].isin(walk)])


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
    assert [c["mode"] for c in summary["circles"]] == ["walk", "walk", "drive", "hub"]
    assert sum(len(c["requirements"]) for c in summary["circles"]) == 6
    assert set(coverage["community_id"]) == {"", JIANGHAN, RIVERSIDE, UNASSIGNED}
    assert coverage["coverage_ratio"].isna().any()


def test_sheet_names(workbook, walk_only_workbook):
    names = ["Summary", "Communities", "Gaps", "Destinations", "Zones", "Run"]
    assert workbook.sheetnames == walk_only_workbook.sheetnames == names


def test_every_sheet_has_a_bold_frozen_filtered_header(workbook, walk_only_workbook):
    for ws in [*workbook.worksheets, *walk_only_workbook.worksheets]:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == ws.dimensions, ws.title
        assert all(cell.font.bold for cell in ws[1]), ws.title
        assert all(cell.value for cell in ws[1]), ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        for index in range(1, ws.max_column + 1):  # widths fitted, at least to the header
            letter = openpyxl.utils.get_column_letter(index)
            assert ws.column_dimensions[letter].width >= len(ws[1][index - 1].value), ws.title


def test_every_label_is_in_labels():
    assert set(THRESHOLD_WORDS) <= set(LABELS["en"])


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
        "mode",
        "requirement",
        "tier",
        "facility types",
        "threshold",
        "min count",
        "population total",
        "population met",
        "coverage",
        "target",
        "gap",
        "model",
        "threshold source",
        "threshold tag",
        "target source",
        "target tag",
    ]:
        assert expected in header
    assert ws.max_row == 1 + 4 + 6  # header, four whole-circle rows, six requirements

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
        "tier",
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
    assert len(records) == len(gap_rows) == 6
    # basic requirements first, then the largest population not met
    assert [
        (r["community"], r["requirement"], r["tier"], r["population not met"]) for r in records
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
    assert values["parameter: zone_field"] == "name"
    assert values["input zones: path"] == "data/zones.geojson"
    assert values["rule file metro_area_2h: path"] == "rules/wuhan/6_metro_area_2h.yaml"
    for key, network in summary["networks"].items():
        for name, value in network.items():
            assert values[f"network {key} {name}"] == value
    assert values["network walk length_km"] == pytest.approx(123.4)
    assert values["network drive1 mode"] == "drive"
    assert "network length_km" not in values  # summary["network"] is networks["walk"]
    assert values["warning 1"] == summary["warnings"][0]


def test_summary_sheet_modes_tiers_and_models(workbook, audit):
    summary, _ = audit
    ws = workbook["Summary"]
    whole = {r["circle id"]: r for r in _records(ws) if r["facility types"] == "all requirements"}
    for circle in summary["circles"]:
        record = whole[circle["circle_id"]]
        assert record["model"] == circle["model"]
        assert record["mode"] == circle["mode"]
        assert record["tier"] == "basic"
    # the model is the circle's: requirement rows leave it empty
    for record in _records(ws):
        if record["facility types"] != "all requirements":
            assert record["model"] is None
            assert record["mode"] in {"walk", "drive", "hub"}
    assert whole["ems"]["walk speed (m/min)"] is None
    row = _row_index(ws, requirement="middle_yangtze")
    assert _cell(ws, row, "tier").value == "quality"
    assert _cell(ws, _row_index(ws, requirement="wuhan_1plus8"), "tier").value == "basic"
    # long model texts wrap in a capped column
    model_letter = openpyxl.utils.get_column_letter(_header(ws).index("model") + 1)
    assert ws.column_dimensions[model_letter].width <= 71
    assert _cell(
        ws, _row_index(ws, **{"circle id": "ems", "mode": "drive"}), "model"
    ).alignment.wrap_text


def test_summary_sheet_zone_thresholds(workbook):
    ws = workbook["Summary"]
    row = _row_index(ws, requirement="ems_station")
    assert _cell(ws, row, "threshold").value == (
        "10 min central / 12 min new_urban, 12 min elsewhere"
    )
    assert _cell(ws, row, "facility types").value == "ems_centre, ems_station"
    # two sources, one of them a default: both listed, the threshold marked unverified
    assert _cell(ws, row, "threshold tag").value == (
        "by zone: verified; elsewhere: default (unverified)"
    )
    assert _cell(ws, row, "threshold source").value == (
        "by zone: Wuhan 2020: 中心城区10分钟、新城区12分钟医疗急救圈; "
        "elsewhere: residents outside both zones: the new-urban 12 minutes"
    )
    assert _cell(ws, row, "threshold").font.italic
    assert _cell(ws, row, "coverage").value == pytest.approx(1300 / 1500)
    assert _cell(ws, row, "gap").value == "yes"


def test_summary_sheet_destination_thresholds(workbook):
    ws = workbook["Summary"]
    row = _row_index(ws, requirement="wuhan_1plus8")
    assert _cell(ws, row, "threshold").value == "120 min · 8 destinations, all"
    assert _cell(ws, row, "threshold tag").value == (
        "time: verified; min share: default (unverified)"
    )
    assert _cell(ws, row, "threshold").font.italic
    assert _cell(ws, row, "facility types").value is None
    row = _row_index(ws, requirement="middle_yangtze")
    assert _cell(ws, row, "threshold tag").value == (
        "time: verified; min share: recalled (unverified)"
    )
    assert _cell(ws, row, "coverage").value == 0
    assert _cell(ws, row, "gap").value == "yes"
    # the whole circle counts the basic requirement only
    row = _row_index(ws, **{"circle id": "metro_area_2h", "facility types": "all requirements"})
    assert _cell(ws, row, "coverage").value == pytest.approx(1400 / 1500)


def test_destinations_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Destinations"]
    assert _header(ws) == [
        "circle",
        "requirement",
        "destination id",
        "destination name (zh)",
        "destination name (en)",
        "population reached",
        "share reached",
        "median minutes",
    ]
    records = _records(ws)
    metro = next(c for c in summary["circles"] if c["circle_id"] == "metro_area_2h")
    assert len(records) == len(metro["destinations"]) == len(DESTINATIONS)
    for record, destination in zip(records, metro["destinations"], strict=True):
        assert record == {
            "circle": "metro_area_2h",
            "requirement": destination["requirement_id"],
            "destination id": destination["destination_id"],
            "destination name (zh)": destination["name"]["zh"],
            "destination name (en)": destination["name"]["en"],
            "population reached": destination["population_reached"],
            "share reached": destination["share_reached"],
            "median minutes": destination["median_min"],
        }
    row = _row_index(ws, **{"destination id": "huangshi"})
    assert _cell(ws, row, "population reached").value == 1450
    assert _cell(ws, row, "population reached").number_format == "#,##0"
    assert _cell(ws, row, "share reached").value == pytest.approx(1450 / 1500)
    assert _cell(ws, row, "share reached").number_format == "0.0%"
    assert _cell(ws, row, "median minutes").value == pytest.approx(78.9)
    assert _cell(ws, row, "median minutes").number_format == "0.0"
    # nobody has a route to Nanchang: no median, an empty cell
    assert (
        _cell(ws, _row_index(ws, **{"destination id": "nanchang"}), "median minutes").value is None
    )
    # wide characters count double
    letter = openpyxl.utils.get_column_letter(_header(ws).index("destination name (zh)") + 1)
    assert ws.column_dimensions[letter].width >= len("destination name (zh)")


def test_zones_sheet(workbook, audit):
    summary, _ = audit
    ws = workbook["Zones"]
    assert _header(ws) == ["circle", "zone", "residents", "population"]
    ems = next(c for c in summary["circles"] if c["circle_id"] == "ems")
    expected = [{"circle": "ems", **zone} for zone in ems["zones"]]
    assert _records(ws) == expected
    assert [(r["zone"], r["residents"], r["population"]) for r in _records(ws)] == ZONES
    assert _cell(ws, 2, "population").number_format == "#,##0"


def test_destinations_and_zones_sheets_without_hub_or_zones(walk_only_workbook):
    for title, width in (("Destinations", 8), ("Zones", 4)):
        ws = walk_only_workbook[title]
        assert ws.max_row == 1, title
        assert len(_header(ws)) == width, title
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(width)}1", title
    assert walk_only_workbook["Summary"].max_row == 1 + 2 + 3
