"""Tests for circles.report.excel: the audit workbook."""

from __future__ import annotations

import io
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from circles.report.excel import write_workbook

JIANGHAN = "民族街道江汉社区"  # eight wide characters: sixteen cells
RIVERSIDE = "Riverside"
UNASSIGNED = "unassigned"


# --- fixture: one hand-checkable audit ---------------------------------------------------------
# (Same data as in test_report_terminal.py; it belongs in tests/conftest.py once that exists.)
#
# Residents (population):  JIANGHAN   A 400, B 300, C 250, D 50    = 1000
#                          RIVERSIDE  E 300, F 150, G 50           =  500
#                          unassigned H 0                          =    0
# life_15min (no circle target), walk 60 m/min [default]
#   kindergarten    15 min [verified], target 90% [default]: met by A B C | F
#   primary_school  15 min [recalled], target 90% [default]: met by A B   | E F
#   whole circle: A B | F
# activity_10min, circle target 80% [verified]
#   micro_public_space  600 m [default], target 80% [verified]: met by A B C | E
#   whole circle: A B C | E
#
# Gaps (community rows below target): RIVERSIDE kindergarten 350 not met (30%),
# JIANGHAN primary_school 300 not met (70%), RIVERSIDE micro_public_space 200 not met (60%).
# Worst first: RIVERSIDE (lowest whole-circle coverage 30%), JIANGHAN (70%), unassigned (no people).

# (community, residents_total, residents_met, population_total, population_met) per row
MET = {
    ("life_15min", "kindergarten"): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 1, 500, 150)],
    ("life_15min", "primary_school"): [(JIANGHAN, 4, 2, 1000, 700), (RIVERSIDE, 3, 2, 500, 450)],
    ("life_15min", ""): [(JIANGHAN, 4, 2, 1000, 700), (RIVERSIDE, 3, 1, 500, 150)],
    ("activity_10min", "micro_public_space"): [
        (JIANGHAN, 4, 3, 1000, 950),
        (RIVERSIDE, 3, 1, 500, 300),
    ],
    ("activity_10min", ""): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 1, 500, 300)],
}
TARGETS = {
    ("life_15min", "kindergarten"): 0.9,
    ("life_15min", "primary_school"): 0.9,
    ("life_15min", ""): math.nan,
    ("activity_10min", "micro_public_space"): 0.8,
    ("activity_10min", ""): 0.8,
}


def _coverage_row(circle_id, requirement_id, scope, community_id, counts, target):
    residents_total, residents_met, population_total, population_met = counts
    ratio = population_met / population_total if population_total else math.nan
    is_gap = None if math.isnan(ratio) or math.isnan(target) else bool(ratio < target)
    return {
        "circle_id": circle_id,
        "requirement_id": requirement_id,
        "scope": scope,
        "community_id": community_id,
        "residents_total": residents_total,
        "residents_met": residents_met,
        "population_total": float(population_total),
        "population_met": float(population_met),
        "coverage_ratio": ratio,
        "target_coverage": target,
        "is_gap": is_gap,
    }


def _make_coverage() -> pd.DataFrame:
    rows = []
    for (circle_id, requirement_id), per_community in MET.items():
        target = TARGETS[(circle_id, requirement_id)]
        totals = [sum(values) for values in zip(*(c[1:] for c in per_community), strict=True)]
        totals[0] += 1  # resident H (unassigned, population 0)
        rows.append(_coverage_row(circle_id, requirement_id, "overall", "", totals, target))
        for community_id, *counts in per_community:
            rows.append(
                _coverage_row(circle_id, requirement_id, "community", community_id, counts, target)
            )
        rows.append(
            _coverage_row(circle_id, requirement_id, "community", UNASSIGNED, (1, 0, 0, 0), target)
        )
    return pd.DataFrame(rows)


def _stats(coverage, circle_id, requirement_id, *, with_gap):
    keys = ["residents_total", "residents_met", "population_total", "population_met"]
    keys += ["coverage_ratio"]
    selected = coverage[
        (coverage["circle_id"] == circle_id) & (coverage["requirement_id"] == requirement_id)
    ]
    overall = selected[selected["scope"] == "overall"].iloc[0]
    communities = selected[selected["scope"] == "community"]

    def entry(row, community_id=None):
        out = {key: getattr(row[key], "item", lambda v=row[key]: v)() for key in keys}
        if community_id is not None:
            out["community_id"] = community_id
        if with_gap:
            out["is_gap"] = row["is_gap"]
        return out

    return entry(overall), [entry(row, row["community_id"]) for _, row in communities.iterrows()]


def _make_summary(coverage: pd.DataFrame) -> dict:
    life_overall, life_communities = _stats(coverage, "life_15min", "", with_gap=False)
    act_overall, act_communities = _stats(coverage, "activity_10min", "", with_gap=False)

    def requirement(circle_id, requirement_id, facility_types, threshold, sources):
        overall, communities = _stats(coverage, circle_id, requirement_id, with_gap=True)
        return {
            "requirement_id": requirement_id,
            "facility_types": facility_types,
            "max_time_min": threshold if threshold < 100 else None,
            "max_distance_m": threshold if threshold >= 100 else None,
            "min_count": 1,
            "target_coverage": TARGETS[(circle_id, requirement_id)],
            "sources": sources,
            "overall": overall,
            "communities": communities,
        }

    gb = "GB 50180-2018 Appendix B"
    return {
        "circles_version": "0.1.0",
        "run": {
            "timestamp": "2026-11-21T03:30:00+00:00",
            "crs": "EPSG:32650",
            "engine": "pandana",
            "parameters": {
                "walk_speed_m_per_min": None,
                "max_snap_m": 250.0,
                "min_component_nodes": 50,
                "population_field": "population",
                "facility_type_field": "type",
                "community_field": "community",
            },
            "inputs": {
                "network": {"path": "data/roads.geojson", "sha256": "ab" * 32},
                "facilities": {"path": "data/facilities.csv", "sha256": "cd" * 32},
                "residents": {"path": "data/residents.geojson", "sha256": "ef" * 32},
                "communities": None,
            },
            "rules": [
                {
                    "path": "rules/wuhan/life_15min.yaml",
                    "sha256": "0f" * 32,
                    "circle_id": "life_15min",
                },
                {
                    "path": "rules/wuhan/activity_10min.yaml",
                    "sha256": "1e" * 32,
                    "circle_id": "activity_10min",
                },
            ],
        },
        "counts": {
            "residents": {"read": 10, "ok": 8, "off_network": 1, "no_geometry": 1, "unassigned": 1},
            "population": {
                "read": 1620.0,
                "ok": 1500.0,
                "off_network": 80.0,
                "no_geometry": 40.0,
                "unassigned": 0.0,
            },
            "facilities": {
                "read": 6,
                "ok": 5,
                "off_network": 1,
                "no_geometry": 0,
                "by_type": {
                    "kindergarten": {"read": 2, "ok": 2},
                    "primary_school": {"read": 2, "ok": 1},
                    "pocket_park": {"read": 2, "ok": 2},
                },
            },
        },
        "network": {
            "source": "lines",
            "nodes": 1234,
            "edges": 2345,
            "length_km": 123.4,
            "fragments": 3,
            "fragment_nodes": 40,
            "crossings": 2,
        },
        "warnings": ["1 resident farther than 250 m from the network (max_snap_m)"],
        "circles": [
            {
                "circle_id": "life_15min",
                "name": {"zh": "15分钟生活圈", "en": "15-minute life circle"},
                "mode": "walk",
                "speed_m_per_min": 60.0,
                "speed_source": {"ref": "planning practice", "tag": "default"},
                "rule_file": "rules/wuhan/life_15min.yaml",
                "target_coverage": None,
                "overall": life_overall,
                "communities": life_communities,
                "requirements": [
                    requirement(
                        "life_15min",
                        "kindergarten",
                        ["kindergarten"],
                        15.0,
                        {
                            "max_time_min": {"ref": "Wuhan 2020", "tag": "verified"},
                            "target_coverage": {"ref": "circles default", "tag": "default"},
                        },
                    ),
                    requirement(
                        "life_15min",
                        "primary_school",
                        ["primary_school"],
                        15.0,
                        {
                            "max_time_min": {"ref": gb, "tag": "recalled"},
                            "target_coverage": {"ref": "circles default", "tag": "default"},
                        },
                    ),
                ],
            },
            {
                "circle_id": "activity_10min",
                "name": {"zh": "10分钟活动圈", "en": "10-minute activity circle"},
                "mode": "walk",
                "speed_m_per_min": None,
                "speed_source": None,
                "rule_file": "rules/wuhan/activity_10min.yaml",
                "target_coverage": 0.8,
                "sources": {"target_coverage": {"ref": "Wuhan 2020", "tag": "verified"}},
                "overall": act_overall,
                "communities": act_communities,
                "requirements": [
                    requirement(
                        "activity_10min",
                        "micro_public_space",
                        ["pocket_park", "community_park", "plaza", "playground", "outdoor_fitness"],
                        600.0,
                        {
                            "max_distance_m": {"ref": "circles default", "tag": "default"},
                            "target_coverage": {"ref": "Wuhan 2020", "tag": "verified"},
                        },
                    )
                ],
            },
        ],
        # "unassigned" is deliberately absent here: the writers must take it from coverage
        "communities": [
            {
                "community_id": JIANGHAN,
                "residents": 4,
                "population": 1000.0,
                "residents_off_network": 1,
                "population_off_network": 80.0,
            },
            {
                "community_id": RIVERSIDE,
                "residents": 3,
                "population": 500.0,
                "residents_off_network": 0,
                "population_off_network": 0.0,
            },
        ],
    }


@pytest.fixture
def audit() -> tuple[dict, pd.DataFrame]:
    coverage = _make_coverage()
    return _make_summary(coverage), coverage


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
