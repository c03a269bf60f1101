"""The workbook's provenance sheets: where every number came from and what the audit read.

- Rules: every requirement of every circle with its threshold, counts and target, and the
  reference and tag of each number (unverified tags marked).
- Inputs: files with their SHA-256, the CRS and coordinate conversion, the speeds of every
  circle and persons per household with their sources, the parameters, the counts and their
  reconciliation, the networks and the warnings, as section/item/value rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from circles.report.excel_book import (
    AUTO,
    DECIMAL,
    INTEGER,
    PERCENT,
    UNVERIFIED,
    UNVERIFIED_TAG,
    Book,
    Column,
    Sheet,
)
from circles.report.values import SourceText, number, requirement_tier
from circles.report.warning_words import warning_text

# parameters shown in their own rows rather than under "parameters"
_SHOWN_ELSEWHERE = {
    "coords",
    "coords_converted",
    "walk_speed_m_per_min",
    "persons_per_household",
    "persons_per_household_source",
}
_SOURCE_WIDTH = 30  # source references and long lists wrap in narrower columns
_SHA256_WIDTH = 64  # a hash stays on one line
_RECONCILE_PARTS = ("evaluated", "off_network", "no_geometry")


def rules_sheet(book: Book) -> Sheet:
    """Every requirement of every circle with its numbers, and the source and tag of each."""
    columns = [
        Column("circle_id", book.text("circle_id")),
        Column("circle", book.text("circle")),
        Column("requirement_id", book.text("requirement_id")),
        Column("requirement", book.text("requirement")),
        Column("tier", book.text("tier")),
        Column("mode", book.text("mode")),
        Column("facility_types", book.text("facility_types"), max_width=_SOURCE_WIDTH),
        Column("destinations", book.text("destination_list"), max_width=_SOURCE_WIDTH),
        Column("threshold", book.text("threshold")),
        Column("min_count", book.text("min_count"), INTEGER),
        Column("min_share", book.text("min_share"), PERCENT),
        Column("target", book.text("target"), PERCENT),
        Column("speed", book.text("speed"), DECIMAL),
        Column("circle_target", book.text("circle_target"), PERCENT),
    ]
    for key in ("threshold", "min_count", "target", "speed", "circle_target"):
        columns.append(Column(f"{key}_source", book.text(f"{key}_source"), max_width=_SOURCE_WIDTH))
        columns.append(Column(f"{key}_tag", book.text(f"{key}_tag"), max_width=_SOURCE_WIDTH))
    sheet = Sheet(book.text("sheet_rules"), columns)
    for circle in book.circles:
        circle_id = str(circle.get("circle_id"))
        destination_names = {
            (str(d.get("requirement_id")), str(d.get("destination_id"))): book.name(
                d, d.get("destination_id")
            )
            for d in circle.get("destinations") or []
        }
        speed = circle.get("speed_m_per_min")
        circle_target = circle.get("target_coverage")
        circle_target_text = book.source(
            (circle.get("sources") or {}).get("target_coverage"), circle_target
        )
        for requirement in circle.get("requirements") or []:
            requirement_id = str(requirement.get("requirement_id"))
            sources = requirement.get("sources") or {}
            threshold, threshold_text = book.threshold(circle, requirement)
            uses_speed = requirement.get("max_time_min") is not None and speed is not None
            texts = {
                "threshold": threshold_text,
                "min_count": book.source(sources.get("min_count"), requirement.get("min_count"))
                if "min_count" in sources
                else None,
                "target": book.source(
                    sources.get("target_coverage"), requirement.get("target_coverage")
                ),
                "speed": book.source(circle.get("speed_source"), speed) if uses_speed else None,
                "circle_target": circle_target_text if circle_target is not None else None,
            }
            destinations = [
                destination_names.get((requirement_id, str(d)), d)
                for d in requirement.get("destinations") or []
            ]
            row = {
                "circle_id": circle_id,
                "circle": book.circle_name(circle_id),
                "requirement_id": requirement_id,
                "requirement": book.requirement_name(circle_id, requirement_id),
                "tier": book.word("tier", requirement_tier(requirement)),
                "mode": book.word("mode", circle.get("mode")),
                "facility_types": book.join(requirement.get("facility_types") or []),
                "destinations": book.join(destinations),
                "threshold": threshold,
                "min_count": requirement.get("min_count"),
                "min_share": requirement.get("min_share"),
                "target": requirement.get("target_coverage"),
                "speed": speed if uses_speed else None,
                "circle_target": circle_target,
            }
            styles: dict[str, str] = {}
            for key, text in texts.items():
                if text is None:
                    continue
                row[f"{key}_source"] = text.source
                row[f"{key}_tag"] = text.tag
                if text.unverified:
                    styles[key] = UNVERIFIED
                    styles[f"{key}_tag"] = UNVERIFIED_TAG
            sheet.add(row, styles)
    # numbers no requirement has (a source for): no empty columns (min count, circle targets)
    sheet.columns = [
        column
        for column in sheet.columns
        if not column.key.endswith(("_source", "_tag", "circle_target"))
        or any(row.get(column.key) is not None for row in sheet.rows)
    ]
    return sheet


def inputs_sheet(book: Book) -> Sheet:
    """Provenance of the run: one row per item, with a SHA-256 or a source where it has one."""
    columns = [
        Column("section", book.text("section")),
        Column("item", book.text("item")),
        Column("value", book.text("value"), AUTO),
        Column("sha256", book.text("sha256"), max_width=_SHA256_WIDTH),
        Column("source", book.text("source")),
        Column("tag", book.text("tag")),
    ]
    sheet = Sheet(book.text("sheet_inputs"), columns)
    summary = book.summary
    parameters = (summary.get("run") or {}).get("parameters") or {}

    def add(section: str, item: str, value: Any, **extra: Any) -> None:
        text: SourceText | None = extra.pop("source_text", None)
        row = {"section": book.text(f"section_{section}"), "item": item, "value": value, **extra}
        styles = {}
        if text is not None:
            row |= {"source": text.source, "tag": text.tag}
            if text.unverified:
                styles = {"value": UNVERIFIED, "tag": UNVERIFIED_TAG}
        sheet.add(row, styles)

    _run_rows(book, add, summary)
    _speeds(book, add, parameters)
    _parameter_rows(book, add, parameters)
    _count_rows(book, add, summary.get("counts") or {})
    _network_rows(book, add, summary)
    _warning_rows(book, add, summary.get("warnings") or [])
    return sheet


def _run_rows(book: Book, add: Any, summary: Mapping[str, Any]) -> None:
    """The run: version, time, engine, CRS, coordinates, circles, input and rule files."""
    run = summary.get("run") or {}
    parameters = run.get("parameters") or {}
    none = book.text("none")
    add("run", book.text("run_version"), summary.get("circles_version"))
    add("run", book.text("run_timestamp"), run.get("timestamp"))
    add("run", book.text("run_engine"), run.get("engine"))
    add("run", book.text("run_crs"), run.get("crs"))
    add("run", book.text("run_coords"), _flat(parameters.get("coords")) or none)
    add("run", book.text("run_coords_converted"), _flat(parameters.get("coords_converted")) or none)
    add("run", book.text("run_circles"), book.join(book.circle_ids) or none)

    for name, item in (run.get("inputs") or {}).items():
        item = item or {}
        add("inputs", str(name), item.get("path") or none, sha256=item.get("sha256"))
    for rule in run.get("rules") or []:
        add("rules", str(rule.get("circle_id") or ""), rule.get("path"), sha256=rule.get("sha256"))


def _parameter_rows(book: Book, add: Any, parameters: Mapping[str, Any]) -> None:
    """Persons per household with its source, then every other run parameter."""
    persons = parameters.get("persons_per_household")
    if persons is not None or parameters.get("persons_per_household_source"):
        add(
            "population",
            book.text("persons_per_household"),
            persons,
            source_text=book.source(parameters.get("persons_per_household_source"), persons),
        )
    for name, value in parameters.items():
        if name not in _SHOWN_ELSEWHERE:
            add("parameters", str(name), _flat(value))


def _count_rows(book: Book, add: Any, counts: Mapping[str, Any]) -> None:
    """Residents, population and facilities by status; the reconciliation; facility types."""
    for what in ("residents", "population"):
        for status, value in (counts.get(what) or {}).items():
            item = book.text(
                "count_item", what=book.text(f"what_{what}"), status=book.word("status", status)
            )
            add("counts", item, value)
    facilities = counts.get("facilities") or {}
    for status, value in facilities.items():
        if status != "by_type":
            item = book.text(
                "count_item", what=book.text("what_facilities"), status=book.word("status", status)
            )
            add("counts", item, value)
    _reconcile(book, add, counts)
    for facility_type, by_status in (facilities.get("by_type") or {}).items():
        for status, value in (by_status or {}).items():
            item = book.text(
                "facility_item", type=facility_type, status=book.word("status", status)
            )
            add("facilities", item, book.yes_no(value) if isinstance(value, bool) else value)


def _network_rows(book: Book, add: Any, summary: Mapping[str, Any]) -> None:
    """Each network's statistics."""
    networks = summary.get("networks") or {}
    if not networks and summary.get("network"):
        networks = {"walk": summary["network"]}
    for key, network in networks.items():
        shown_key = key if book.lang == "en" else book.word("mode", key)
        for name, value in (network or {}).items():
            item = book.text("network_item", network=shown_key, name=book.word("network", name))
            if name in ("source", "mode") and book.lang != "en":
                value = book.word("network_value", value)
            elif isinstance(value, bool) and book.lang != "en":
                value = book.yes_no(value)
            add("networks", item, value)


def _warning_rows(book: Book, add: Any, warnings: list[str]) -> None:
    """Every warning of the run (or "none")."""
    if not warnings:
        add("warnings", book.text("section_warnings"), book.text("none"))
    for index, warning in enumerate(warnings, start=1):
        add("warnings", book.text("warning_item", number=index), warning_text(warning, book.lang))


def _speeds(book: Book, add: Any, parameters: Mapping[str, Any]) -> None:
    """Walking speed of every circle; road-class speeds and congestion of the driving ones."""
    override = parameters.get("walk_speed_m_per_min")
    if override is not None:
        add("speeds", book.text("speed_override"), book.text("speed_walk_value", value=override))
    for circle in book.circles:
        circle_id = str(circle.get("circle_id"))
        speed = number(circle.get("speed_m_per_min"))
        if speed is not None:
            add(
                "speeds",
                book.text("speed_walk", circle=circle_id),
                book.text("speed_walk_value", value=speed),
                source_text=book.source(circle.get("speed_source"), speed),
            )
        drive = circle.get("drive") or {}
        if not drive:
            continue
        sources = drive.get("sources") or {}
        classes = drive.get("road_class_km_per_h") or {}
        if classes:
            text = book.join(
                book.text("speed_km_h", road=road, value=value)
                for road, value in classes.items()
                if number(value) is not None
            )
            add(
                "speeds",
                book.text("speed_road_classes", circle=circle_id),
                text,
                source_text=book.source(sources.get("road_class_km_per_h"), text),
            )
        factor = drive.get("congestion_factor")
        if factor is not None:
            add(
                "speeds",
                book.text("speed_congestion", circle=circle_id),
                factor,
                source_text=book.source(sources.get("congestion_factor"), factor),
            )
        if "use_maxspeed" in drive:
            add(
                "speeds",
                book.text("speed_maxspeed", circle=circle_id),
                book.yes_no(bool(drive["use_maxspeed"])),
            )


def _reconcile(book: Book, add: Any, counts: Mapping[str, Any]) -> None:
    """The reconciliation of residents and population, and whether it adds up."""
    reconcile = counts.get("reconcile") or {}
    if not reconcile:
        return
    for status, values in reconcile.items():
        for what in ("residents", "population"):
            item = book.text(
                "reconcile_item", status=book.word("status", status), what=book.text(f"what_{what}")
            )
            add("reconcile", item, (values or {}).get(what))
    for what in ("residents", "population"):  # a community, not a status: apart from the sum
        unassigned = (counts.get(what) or {}).get("unassigned")
        if unassigned:
            what_text = book.text(f"what_{what}")
            add("reconcile", book.text("reconcile_unassigned", what=what_text), unassigned)
    adds_up = True
    for what in ("residents", "population"):
        read = number((counts.get(what) or {}).get("read"))
        parts = [number((reconcile.get(p) or {}).get(what)) for p in _RECONCILE_PARTS]
        if read is not None and all(p is not None for p in parts):
            adds_up &= math.isclose(read, sum(p for p in parts if p is not None), abs_tol=1e-6)
    add(
        "reconcile",
        book.text("reconcile_check"),
        book.text("reconcile_ok") if adds_up else book.text("reconcile_off"),
    )


def _flat(value: Any) -> Any:
    """A parameter as one cell: lists and mappings become one line of text, empty ones None."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_flat(item)}" for key, item in value.items()) or None
    if isinstance(value, list | tuple):
        return ", ".join(str(_flat(item)) for item in value) or None
    return value
