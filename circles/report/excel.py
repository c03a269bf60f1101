"""Write an audit's summary and coverage to an Excel workbook (report.xlsx) with openpyxl.

The workbook has six sheets, each with a bold frozen header row, an auto-filter over the data
and column widths fitted to the content:

- "Summary": one row per circle (the whole circle, with its model) and per requirement, with
  tiers, thresholds (by zone, or over destinations), targets, coverage, gap and the source of
  every number; unverified numbers are marked.
- "Communities": one row per community with its whole-circle coverage per circle.
- "Gaps": (community, requirement) pairs below their target, basic requirements first, then the
  largest population not met.
- "Destinations": per hub-circle requirement and destination, the population reaching it.
- "Zones": residents and population per zone of circles with thresholds by zone.
- "Run": key/value provenance of the run (version, inputs with sha256, parameters, counts,
  networks).

Sheets without data (no hub circle, no zones) still have their header row.

All labels live in :data:`LABELS` so that a Chinese workbook only needs a second entry.
"""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from circles.report.values import (
    BASIC_TIER,
    THRESHOLD_WORDS,
    coverage_records,
    gap_state,
    is_nan,
    is_true,
    requirement_tier,
    requirement_tiers,
    threshold_parts,
)

__all__ = ["LABELS", "write_workbook"]

#: Every text the workbook shows, by language. Only "en" exists so far.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        # sheet names
        "sheet_summary": "Summary",
        "sheet_communities": "Communities",
        "sheet_gaps": "Gaps",
        "sheet_destinations": "Destinations",
        "sheet_zones": "Zones",
        "sheet_run": "Run",
        # column headers
        "circle_id": "circle id",
        "circle_name_en": "circle name (en)",
        "circle_name_zh": "circle name (zh)",
        "mode": "mode",
        "requirement_id": "requirement",
        "tier": "tier",
        "facility_types": "facility types",
        "threshold": "threshold",
        "speed": "walk speed (m/min)",
        "min_count": "min count",
        "residents_total": "residents total",
        "population_total": "population total",
        "population_met": "population met",
        "population_not_met": "population not met",
        "share_not_met": "share not met",
        "coverage": "coverage",
        "target": "target",
        "gap": "gap",
        "model": "model",
        "threshold_source": "threshold source",
        "threshold_tag": "threshold tag",
        "speed_source": "speed source",
        "speed_tag": "speed tag",
        "target_source": "target source",
        "target_tag": "target tag",
        "community": "community",
        "residents": "residents",
        "population": "population",
        "residents_off_network": "residents off network",
        "population_off_network": "population off network",
        "circle_coverage": "{circle} coverage",
        "circle": "circle",
        "destination_id": "destination id",
        "destination_name_zh": "destination name (zh)",
        "destination_name_en": "destination name (en)",
        "population_reached": "population reached",
        "share_reached": "share reached",
        "median_min": "median minutes",
        "zone": "zone",
        "key": "item",
        "value": "value",
        # cell texts
        "whole_circle": "(whole circle)",
        "all_requirements": "all requirements",
        # threshold texts ("15 min", "10 min central / 12 min new_urban, 12 min elsewhere",
        # "120 min · 8 destinations, all") and the names of their parts
        **THRESHOLD_WORDS,
        "part_source": "{part}: {text}",
        "part_join": "; ",
        "yes": "yes",
        "no": "no",
        "not_applicable": "n/a",
        "unverified_tag": "{tag} (unverified)",
        "missing_tag": "none (unverified)",
        "none": "(none)",
        # run sheet keys
        "run_version": "circles version",
        "run_timestamp": "timestamp",
        "run_crs": "CRS",
        "run_engine": "engine",
        "run_parameter": "parameter: {name}",
        "run_input_path": "input {name}: path",
        "run_input_sha256": "input {name}: sha256",
        "run_rule_path": "rule file {circle}: path",
        "run_rule_sha256": "rule file {circle}: sha256",
        "run_count": "{what} {status}",
        "run_facility_type_count": "facilities {type} {status}",
        "run_network": "network {name}",
        "run_networks": "network {key} {name}",
        "run_warning": "warning {number}",
        "run_warnings": "warnings",
    }
}

_LANG = "en"
_VERIFIED_TAG = "verified"
_PERCENT = "0.0%"
_INTEGER = "#,##0"
_DECIMAL = "0.0"
_GENERAL = "General"
_MIN_WIDTH = 6
_MAX_WIDTH = 70
_FILTER_BUTTON_WIDTH = 3

_HEADER_FONT = Font(bold=True)
_UNVERIFIED_FONT = Font(italic=True, color="7F7F7F")
_GAP_FONT = Font(bold=True, color="9C0006")
_GAP_FILL = PatternFill(fill_type="solid", fgColor="FFC7CE")
_WRAP = Alignment(wrap_text=True, vertical="top")
_COVERAGE_SCALE = {  # red at 0 %, yellow at 50 %, green at 100 %: absolute, not relative
    "start_type": "num",
    "start_value": 0,
    "start_color": "F8696B",
    "mid_type": "num",
    "mid_value": 0.5,
    "mid_color": "FFEB84",
    "end_type": "num",
    "end_value": 1,
    "end_color": "63BE7B",
}

# cell style names used in row styles
_UNVERIFIED = "unverified"
_GAP = "gap"


@dataclass(frozen=True)
class _Column:
    """One worksheet column: the row key it shows, its header and its number format."""

    key: str
    header: str
    number_format: str = _GENERAL


def write_workbook(path: Path, summary: dict, coverage: pd.DataFrame) -> None:
    """Write the audit workbook.

    Parameters
    ----------
    path : pathlib.Path
        File to write (``.xlsx``). Overwritten if it exists; the caller handles atomic
        replacement and passes a temporary path.
    summary : dict
        The audit summary (the content of summary.json) as described in the data contract.
    coverage : pandas.DataFrame
        Coverage by circle, requirement (``""`` for the whole circle), scope
        (``"overall"`` or ``"community"``) and community.

    Notes
    -----
    Numbers are written as numbers (coverage and targets as ratios with a percentage format),
    missing values (None, NaN) as empty cells. Numbers whose source is not tagged
    ``"verified"`` are shown in grey italics and their tag carries an "(unverified)" suffix.
    """
    labels = LABELS[_LANG]
    workbook = Workbook()
    workbook.remove(workbook.active)
    records = coverage_records(coverage)

    _write_summary_sheet(workbook.create_sheet(labels["sheet_summary"]), summary, labels)
    _write_communities_sheet(
        workbook.create_sheet(labels["sheet_communities"]), summary, records, labels
    )
    _write_gaps_sheet(workbook.create_sheet(labels["sheet_gaps"]), summary, records, labels)
    _write_destinations_sheet(workbook.create_sheet(labels["sheet_destinations"]), summary, labels)
    _write_zones_sheet(workbook.create_sheet(labels["sheet_zones"]), summary, labels)
    _write_run_sheet(workbook.create_sheet(labels["sheet_run"]), summary, labels)
    workbook.save(path)


# --------------------------------------------------------------------------------------------
# sheets


def _write_summary_sheet(ws: Worksheet, summary: Mapping[str, Any], labels: dict[str, str]) -> None:
    """One row per circle (whole circle first, with its model) and per requirement of it."""
    columns = [
        _Column("circle_id", labels["circle_id"]),
        _Column("name_en", labels["circle_name_en"]),
        _Column("name_zh", labels["circle_name_zh"]),
        _Column("mode", labels["mode"]),
        _Column("requirement_id", labels["requirement_id"]),
        _Column("tier", labels["tier"]),
        _Column("facility_types", labels["facility_types"]),
        _Column("threshold", labels["threshold"]),
        _Column("speed", labels["speed"]),
        _Column("min_count", labels["min_count"], _INTEGER),
        _Column("population_total", labels["population_total"], _INTEGER),
        _Column("population_met", labels["population_met"], _INTEGER),
        _Column("coverage", labels["coverage"], _PERCENT),
        _Column("target", labels["target"], _PERCENT),
        _Column("gap", labels["gap"]),
        _Column("model", labels["model"]),
        _Column("threshold_source", labels["threshold_source"]),
        _Column("threshold_tag", labels["threshold_tag"]),
        _Column("speed_source", labels["speed_source"]),
        _Column("speed_tag", labels["speed_tag"]),
        _Column("target_source", labels["target_source"]),
        _Column("target_tag", labels["target_tag"]),
    ]
    rows: list[dict[str, Any]] = []
    styles: list[dict[str, str]] = []
    for circle in summary.get("circles") or []:
        name = circle.get("name") or {}
        base = {
            "circle_id": circle.get("circle_id"),
            "name_en": name.get("en"),
            "name_zh": name.get("zh"),
            "mode": circle.get("mode"),
        }
        speed = circle.get("speed_m_per_min")
        speed_cells = _source_cells(circle.get("speed_source"), speed, labels)

        overall = circle.get("overall") or {}
        target = circle.get("target_coverage")
        target_cells = _source_cells(
            (circle.get("sources") or {}).get("target_coverage"), target, labels
        )
        gap = gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
        row = {
            **base,
            "requirement_id": labels["whole_circle"],
            "tier": circle.get("tier"),
            "facility_types": labels["all_requirements"],
            "speed": speed,
            "population_total": overall.get("population_total"),
            "population_met": overall.get("population_met"),
            "coverage": overall.get("coverage_ratio"),
            "target": target,
            "gap": _gap_text(gap, labels),
            "model": circle.get("model"),
            **_prefixed("speed", speed_cells),
            **_prefixed("target", target_cells),
        }
        rows.append(row)
        styles.append(_row_styles(gap, speed=speed_cells, target=target_cells))

        for requirement in circle.get("requirements") or []:
            sources = requirement.get("sources") or {}
            threshold, threshold_cells = _threshold_cells(requirement, labels)
            uses_speed = requirement.get("max_time_min") is not None
            target = requirement.get("target_coverage")
            target_cells = _source_cells(sources.get("target_coverage"), target, labels)
            overall = requirement.get("overall") or {}
            gap = gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
            row = {
                **base,
                "requirement_id": requirement.get("requirement_id"),
                "tier": requirement_tier(requirement),
                "facility_types": ", ".join(requirement.get("facility_types") or []),
                "threshold": threshold,
                "speed": speed if uses_speed else None,
                "min_count": requirement.get("min_count"),
                "population_total": overall.get("population_total"),
                "population_met": overall.get("population_met"),
                "coverage": overall.get("coverage_ratio"),
                "target": target,
                "gap": _gap_text(gap, labels),
                **_prefixed("threshold", threshold_cells),
                **_prefixed("target", target_cells),
            }
            if uses_speed:
                row.update(_prefixed("speed", speed_cells))
            rows.append(row)
            styles.append(
                _row_styles(
                    gap,
                    threshold=threshold_cells,
                    speed=speed_cells if uses_speed else None,
                    target=target_cells,
                )
            )
    _write_table(ws, columns, rows, styles)


def _write_communities_sheet(
    ws: Worksheet,
    summary: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    labels: dict[str, str],
) -> None:
    """One row per community: residents, population, off-network counts, coverage per circle."""
    circle_ids = _circle_ids(summary, records)
    columns = [
        _Column("community", labels["community"]),
        _Column("residents", labels["residents"], _INTEGER),
        _Column("population", labels["population"], _INTEGER),
        _Column("residents_off_network", labels["residents_off_network"], _INTEGER),
        _Column("population_off_network", labels["population_off_network"], _INTEGER),
    ]
    columns += [
        _Column(
            f"coverage:{circle_id}", labels["circle_coverage"].format(circle=circle_id), _PERCENT
        )
        for circle_id in circle_ids
    ]

    whole: dict[tuple[str, str], Mapping[str, Any]] = {}
    for record in records:
        if record["scope"] == "community" and record["requirement_id"] == "":
            whole[(record["community_id"], record["circle_id"])] = record
    known = {c.get("community_id"): c for c in summary.get("communities") or []}

    rows = []
    for community_id in _community_ids(summary, records):
        info = known.get(community_id, {})
        circle_rows = [
            whole[key] for key in ((community_id, c) for c in circle_ids) if key in whole
        ]
        row: dict[str, Any] = {
            "community": community_id,
            "residents": info.get("residents", _max_of(circle_rows, "residents_total")),
            "population": info.get("population", _max_of(circle_rows, "population_total")),
            "residents_off_network": info.get("residents_off_network"),
            "population_off_network": info.get("population_off_network"),
        }
        for circle_id in circle_ids:
            record = whole.get((community_id, circle_id))
            row[f"coverage:{circle_id}"] = None if record is None else record["coverage_ratio"]
        rows.append(row)
    _write_table(ws, columns, rows)

    if rows:
        first = len(columns) - len(circle_ids) + 1
        for index in range(first, len(columns) + 1):
            letter = get_column_letter(index)
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{len(rows) + 1}", ColorScaleRule(**_COVERAGE_SCALE)
            )


def _write_gaps_sheet(
    ws: Worksheet,
    summary: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    labels: dict[str, str],
) -> None:
    """(Community, requirement) rows below target: basic first, largest population not met first."""
    columns = [
        _Column("community", labels["community"]),
        _Column("circle", labels["circle"]),
        _Column("requirement", labels["requirement_id"]),
        _Column("tier", labels["tier"]),
        _Column("population_total", labels["population_total"], _INTEGER),
        _Column("population_not_met", labels["population_not_met"], _INTEGER),
        _Column("share_not_met", labels["share_not_met"], _PERCENT),
        _Column("coverage", labels["coverage"], _PERCENT),
        _Column("target", labels["target"], _PERCENT),
    ]
    tiers = requirement_tiers(summary)
    rows = []
    for record in records:
        if not (
            record["scope"] == "community"
            and record["requirement_id"] != ""
            and is_true(record["is_gap"])
        ):
            continue
        total = _number(record["population_total"])
        met = _number(record["population_met"])
        not_met = None if total is None or met is None else total - met
        rows.append(
            {
                "community": record["community_id"],
                "circle": record["circle_id"],
                "requirement": record["requirement_id"],
                "tier": tiers.get((record["circle_id"], record["requirement_id"]), BASIC_TIER),
                "population_total": total,
                "population_not_met": not_met,
                "share_not_met": None if not total or not_met is None else not_met / total,
                "coverage": record["coverage_ratio"],
                "target": record["target_coverage"],
            }
        )
    rows.sort(
        key=lambda r: (
            r["tier"] != BASIC_TIER,
            -(r["population_not_met"] or 0.0),
            str(r["community"]),
            str(r["circle"]),
            str(r["requirement"]),
        )
    )
    styles = [dict.fromkeys(("population_not_met", "coverage"), _GAP) for _ in rows]
    _write_table(ws, columns, rows, styles)


def _write_destinations_sheet(
    ws: Worksheet, summary: Mapping[str, Any], labels: dict[str, str]
) -> None:
    """Per hub-circle requirement and destination: population reaching it, median minutes."""
    columns = [
        _Column("circle", labels["circle"]),
        _Column("requirement", labels["requirement_id"]),
        _Column("destination_id", labels["destination_id"]),
        _Column("name_zh", labels["destination_name_zh"]),
        _Column("name_en", labels["destination_name_en"]),
        _Column("population_reached", labels["population_reached"], _INTEGER),
        _Column("share_reached", labels["share_reached"], _PERCENT),
        _Column("median_min", labels["median_min"], _DECIMAL),
    ]
    rows = []
    for circle in summary.get("circles") or []:
        for destination in circle.get("destinations") or []:
            name = destination.get("name") or {}
            rows.append(
                {
                    "circle": circle.get("circle_id"),
                    "requirement": destination.get("requirement_id"),
                    "destination_id": destination.get("destination_id"),
                    "name_zh": name.get("zh"),
                    "name_en": name.get("en"),
                    "population_reached": destination.get("population_reached"),
                    "share_reached": destination.get("share_reached"),
                    "median_min": destination.get("median_min"),
                }
            )
    _write_table(ws, columns, rows)


def _write_zones_sheet(ws: Worksheet, summary: Mapping[str, Any], labels: dict[str, str]) -> None:
    """Residents and population per zone of the circles with thresholds by zone."""
    columns = [
        _Column("circle", labels["circle"]),
        _Column("zone", labels["zone"]),
        _Column("residents", labels["residents"], _INTEGER),
        _Column("population", labels["population"], _INTEGER),
    ]
    rows = [
        {
            "circle": circle.get("circle_id"),
            "zone": zone.get("zone"),
            "residents": zone.get("residents"),
            "population": zone.get("population"),
        }
        for circle in summary.get("circles") or []
        for zone in circle.get("zones") or []
    ]
    _write_table(ws, columns, rows)


def _write_run_sheet(ws: Worksheet, summary: Mapping[str, Any], labels: dict[str, str]) -> None:
    """Key/value provenance: version, run settings, inputs, rule files, counts, warnings."""
    items: list[tuple[str, Any]] = []
    run = summary.get("run") or {}
    items.append((labels["run_version"], summary.get("circles_version")))
    items.append((labels["run_timestamp"], run.get("timestamp")))
    items.append((labels["run_crs"], run.get("crs")))
    items.append((labels["run_engine"], run.get("engine")))
    for name, value in (run.get("parameters") or {}).items():
        items.append((labels["run_parameter"].format(name=name), value))
    for name, item in (run.get("inputs") or {}).items():
        item = item or {}
        items.append(
            (labels["run_input_path"].format(name=name), item.get("path") or labels["none"])
        )
        items.append((labels["run_input_sha256"].format(name=name), item.get("sha256")))
    for rule in run.get("rules") or []:
        circle = rule.get("circle_id") or ""
        items.append((labels["run_rule_path"].format(circle=circle), rule.get("path")))
        items.append((labels["run_rule_sha256"].format(circle=circle), rule.get("sha256")))

    counts = summary.get("counts") or {}
    for what in ("residents", "population"):
        for status, value in (counts.get(what) or {}).items():
            items.append((labels["run_count"].format(what=what, status=status), value))
    facilities = counts.get("facilities") or {}
    for status, value in facilities.items():
        if status != "by_type":
            items.append((labels["run_count"].format(what="facilities", status=status), value))
    for facility_type, by_status in (facilities.get("by_type") or {}).items():
        for status, value in (by_status or {}).items():
            key = labels["run_facility_type_count"].format(type=facility_type, status=status)
            items.append((key, value))
    networks = summary.get("networks") or {}
    for key, network in networks.items():
        for name, value in (network or {}).items():
            items.append((labels["run_networks"].format(key=key, name=name), value))
    if not networks:
        for name, value in (summary.get("network") or {}).items():
            items.append((labels["run_network"].format(name=name), value))

    warnings = summary.get("warnings") or []
    if not warnings:
        items.append((labels["run_warnings"], labels["none"]))
    for number, warning in enumerate(warnings, start=1):
        items.append((labels["run_warning"].format(number=number), warning))

    columns = [_Column("key", labels["key"]), _Column("value", labels["value"])]
    rows = [{"key": key, "value": _scalar(value)} for key, value in items]
    _write_table(ws, columns, rows)
    for row_index, row in enumerate(rows, start=2):
        value = _cell_value(row["value"])
        if isinstance(value, int) and not isinstance(value, bool):
            ws.cell(row=row_index, column=2).number_format = _INTEGER


# --------------------------------------------------------------------------------------------
# table writing


def _write_table(
    ws: Worksheet,
    columns: Sequence[_Column],
    rows: Sequence[Mapping[str, Any]],
    styles: Sequence[Mapping[str, str]] | None = None,
) -> None:
    """Write a header and rows, freeze and filter the header, style cells and fit widths."""
    ws.append([column.header for column in columns])
    for cell in ws[1]:
        cell.font = _HEADER_FONT
    for row_index, row in enumerate(rows, start=2):
        row_styles = styles[row_index - 2] if styles is not None else {}
        for column_index, column in enumerate(columns, start=1):
            value = _cell_value(row.get(column.key))
            cell = ws.cell(row=row_index, column=column_index, value=value)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                cell.number_format = column.number_format
            style = row_styles.get(column.key)
            if style == _UNVERIFIED:
                cell.font = _UNVERIFIED_FONT
            elif style == _GAP:
                cell.font = _GAP_FONT
                cell.fill = _GAP_FILL
    last = get_column_letter(len(columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    _fit_widths(ws, columns)
    # printed: landscape, all columns on one page width, header row repeated on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def _fit_widths(ws: Worksheet, columns: Sequence[_Column]) -> None:
    """Set column widths from the displayed content; wide (CJK) characters count double."""
    for column_index, column in enumerate(columns, start=1):
        width = _display_width(column.header) + _FILTER_BUTTON_WIDTH
        for (cell,) in ws.iter_rows(min_row=2, min_col=column_index, max_col=column_index):
            width = max(width, _display_width(_display_text(cell.value, cell.number_format)))
        if width > _MAX_WIDTH:
            width = _MAX_WIDTH
            for (cell,) in ws.iter_rows(min_row=2, min_col=column_index, max_col=column_index):
                cell.alignment = _WRAP
        ws.column_dimensions[get_column_letter(column_index)].width = max(width + 1, _MIN_WIDTH)


def _display_text(value: Any, number_format: str) -> str:
    """Approximate the text Excel shows for a value in a number format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, numbers.Real):
        if number_format == _PERCENT:
            return f"{value:.1%}"
        if number_format == _INTEGER:
            return f"{value:,.0f}"
        return f"{value:.10g}"
    return str(value)


def _display_width(text: str) -> int:
    """Width of the longest line of a text in character cells (wide characters count two)."""
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
            for line in text.splitlines()
        ),
        default=0,
    )


# --------------------------------------------------------------------------------------------
# values


def _cell_value(value: Any) -> Any:
    """Convert a value for openpyxl: native numbers, None for missing values."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if not math.isfinite(number) else number
    if isinstance(value, str):
        return value
    return str(value)


def _scalar(value: Any) -> Any:
    """Flatten a run-sheet value: lists and dicts become one line of text."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_scalar(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(_scalar(item)) for item in value)
    return value


def _number(value: Any) -> float | None:
    """Return a finite float, or None."""
    value = _cell_value(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def _gap_text(gap: bool | None, labels: dict[str, str]) -> str:
    if gap is None:
        return labels["not_applicable"]
    return labels["yes"] if gap else labels["no"]


@dataclass(frozen=True)
class _SourceCells:
    """The reference and tag text of one number, and whether it is unverified."""

    source: str | None
    tag: str | None
    unverified: bool


def _source_cells(
    source: Mapping[str, Any] | None, value: Any, labels: dict[str, str]
) -> _SourceCells:
    """Source reference and tag text; a number without a 'verified' tag is unverified."""
    source = source or {}
    tag = source.get("tag")
    if value is None or is_nan(value):
        return _SourceCells(source.get("ref"), tag, unverified=False)
    if tag == _VERIFIED_TAG:
        return _SourceCells(source.get("ref"), tag, unverified=False)
    text = labels["unverified_tag"].format(tag=tag) if tag else labels["missing_tag"]
    return _SourceCells(source.get("ref"), text, unverified=True)


def _threshold_cells(
    requirement: Mapping[str, Any], labels: dict[str, str]
) -> tuple[str | None, _SourceCells]:
    """The threshold text and the source cells of the numbers in it.

    A threshold of one number has that number's reference and tag; one of several (by zone
    and elsewhere, time and minimum share) lists each, named: "by zone: verified; elsewhere:
    default (unverified)". It is unverified when any of its numbers is.
    """
    parts = threshold_parts(requirement, labels)
    text = "".join(part.text for part in parts) or None
    sources = requirement.get("sources") or {}
    named = [
        (
            labels[part.part or ""],
            _source_cells(sources.get(part.source_key), requirement.get(part.source_key), labels),
        )
        for part in parts
        if part.source_key is not None
    ]
    if not named:
        return text, _SourceCells(None, None, unverified=False)
    if len(named) == 1:
        return text, named[0][1]
    source = labels["part_join"].join(
        labels["part_source"].format(part=part, text=cells.source)
        for part, cells in named
        if cells.source
    )
    tag = labels["part_join"].join(
        labels["part_source"].format(part=part, text=cells.tag)
        for part, cells in named
        if cells.tag
    )
    return text, _SourceCells(
        source or None, tag or None, unverified=any(cells.unverified for _, cells in named)
    )


def _prefixed(prefix: str, cells: _SourceCells) -> dict[str, Any]:
    return {f"{prefix}_source": cells.source, f"{prefix}_tag": cells.tag}


def _row_styles(gap: bool | None, **numbers_by_key: _SourceCells | None) -> dict[str, str]:
    """Cell styles of a summary row: the gap cell, and unverified numbers with their sources."""
    styles: dict[str, str] = {}
    if gap:
        styles["gap"] = _GAP
    for key, cells in numbers_by_key.items():
        if cells is not None and cells.unverified:
            styles.update(dict.fromkeys((key, f"{key}_source", f"{key}_tag"), _UNVERIFIED))
    return styles


# --------------------------------------------------------------------------------------------
# coverage lookups


def _circle_ids(summary: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Circle ids in summary order, then any others found in the coverage table."""
    ids = [str(c.get("circle_id")) for c in summary.get("circles") or []]
    for record in records:
        if record["circle_id"] not in ids:
            ids.append(record["circle_id"])
    return ids


def _community_ids(summary: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Community ids in summary order, then others from the coverage table; 'unassigned' last."""
    ids = [str(c.get("community_id")) for c in summary.get("communities") or []]
    for record in records:
        if record["scope"] == "community" and record["community_id"] not in ids:
            ids.append(record["community_id"])
    return sorted(ids, key=lambda community_id: community_id == "unassigned")


def _max_of(rows: Iterable[Mapping[str, Any]], key: str) -> float | None:
    values = [v for v in (_number(row.get(key)) for row in rows) if v is not None]
    return max(values) if values else None
