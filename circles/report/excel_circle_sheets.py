"""The workbook's Destinations, Zones and per-circle sheets, without openpyxl.

Like :mod:`circles.report.excel_sheets`: each ``*_sheet`` function returns a plain
:class:`~circles.report.excel_book.Sheet`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from circles.report.excel_book import (
    DECIMAL,
    GAP,
    INTEGER,
    PERCENT,
    UNVERIFIED_TAG,
    Book,
    Column,
    Sheet,
)
from circles.report.model import max_of, population_not_met
from circles.report.values import (
    is_true,
)

# --------------------------------------------------------------------------------------------
# Destinations, Zones


def destinations_sheet(book: Book) -> Sheet:
    """Per hub-circle requirement and destination: population reaching it, median minutes."""
    columns = [
        Column("circle", book.text("circle")),
        Column("requirement", book.text("requirement")),
        Column("destination_id", book.text("destination_id")),
        Column("destination", book.text("destination")),
        Column("population_reached", book.text("population_reached"), INTEGER),
        Column("share_reached", book.text("share_reached"), PERCENT, scale=True),
        Column("median_min", book.text("median_min"), DECIMAL),
        Column("tag", book.text("line_haul_tag")),
    ]
    sheet = Sheet(book.text("sheet_destinations"), columns)
    for circle in book.circles:
        circle_id = str(circle.get("circle_id"))
        for destination in circle.get("destinations") or []:
            requirement_id = str(destination.get("requirement_id"))
            tags = [str(tag) for tag in destination.get("tags") or []]
            texts = [book.source({"tag": tag}, 0) for tag in tags]
            unverified = any(text.unverified for text in texts)
            row = {
                "circle": book.circle_name(circle_id),
                "requirement": book.requirement_name(circle_id, requirement_id),
                "destination_id": destination.get("destination_id"),
                "destination": book.name(destination, destination.get("destination_id")),
                "population_reached": destination.get("population_reached"),
                "share_reached": destination.get("share_reached"),
                "median_min": destination.get("median_min"),
                "tag": book.join(text.tag for text in texts),
            }
            sheet.add(row, {"tag": UNVERIFIED_TAG} if unverified else None)
    return sheet


def zones_sheet(book: Book) -> Sheet:
    """Residents and population per zone of the circles with thresholds by zone."""
    columns = [
        Column("circle", book.text("circle")),
        Column("zone", book.text("zone")),
        Column("zone_name", book.text("zone_name")),
        Column("residents", book.text("residents_total"), INTEGER),
        Column("population", book.text("population_total"), INTEGER),
    ]
    sheet = Sheet(book.text("sheet_zones"), columns)
    for circle in book.circles:
        for zone in circle.get("zones") or []:
            zone_id = zone.get("zone")
            default = book.text("zone_default") if zone_id == "(default)" else None
            sheet.add(
                {
                    "circle": book.circle_name(str(circle.get("circle_id"))),
                    "zone": book.text("zone_default_id") if default else zone_id,
                    "zone_name": book.name(zone, default),
                    "residents": zone.get("residents"),
                    "population": zone.get("population"),
                }
            )
    return sheet


# --------------------------------------------------------------------------------------------
# one sheet per circle


def circle_sheet(book: Book, circle: Mapping[str, Any], title: str) -> Sheet:
    """A circle in detail: overall, sub-district and community rows.

    Columns: the whole circle's coverage and population not met, then the same per
    requirement; coverage cells below target are highlighted.
    """
    circle_id = str(circle.get("circle_id"))
    requirement_ids = [str(r.get("requirement_id")) for r in circle.get("requirements") or []]
    for record in book.records:
        rid = record["requirement_id"]
        if record["circle_id"] == circle_id and rid and rid not in requirement_ids:
            requirement_ids.append(rid)
    with_subdistrict = bool(book.subdistrict_of)
    columns = [
        Column("level", book.text("level")),
        Column("area", book.text("area")),
    ]
    if with_subdistrict:
        columns.append(Column("subdistrict", book.text("subdistrict")))
    columns += [
        Column("residents", book.text("residents_total"), INTEGER),
        Column("population", book.text("population_total"), INTEGER),
        Column("coverage:", book.text("whole_circle_coverage"), PERCENT, scale=True),
        Column("not_met:", book.text("whole_circle_not_met"), INTEGER),
    ]
    for requirement_id in requirement_ids:
        name = book.requirement_name(circle_id, requirement_id)
        columns.append(
            Column(
                f"coverage:{requirement_id}",
                book.text("requirement_coverage", requirement=name),
                PERCENT,
                scale=True,
            )
        )
        columns.append(
            Column(
                f"not_met:{requirement_id}",
                book.text("requirement_not_met", requirement=name),
                INTEGER,
            )
        )

    records = {
        (r["requirement_id"], r["scope"], r["community_id"]): r
        for r in book.records
        if r["circle_id"] == circle_id
    }
    areas = [("overall", "")]
    areas += [("subdistrict", name) for name in book.subdistrict_names()]
    areas += [("community", community_id) for community_id in book.community_ids()]
    sheet = Sheet(title, columns)
    for scope, area in areas:
        whole = records.get(("", scope, area))
        if whole is None and not any(records.get((rid, scope, area)) for rid in requirement_ids):
            continue
        if scope == "overall":
            shown = book.text("overall_name")
        elif scope == "community":
            shown = book.community(area)
        else:
            shown = area
        row: dict[str, Any] = {
            "level": book.text(f"level_{scope}"),
            "area": shown,
            "subdistrict": book.subdistrict_of.get(area) if scope == "community" else None,
        }
        present = [
            r for r in (whole, *(records.get((q, scope, area)) for q in requirement_ids)) if r
        ]
        row["residents"] = max_of(present, "residents_total")
        row["population"] = max_of(present, "population_total")
        styles = {}
        for requirement_id in ["", *requirement_ids]:
            found = records.get((requirement_id, scope, area))
            row[f"coverage:{requirement_id}"] = None if found is None else found["coverage_ratio"]
            row[f"not_met:{requirement_id}"] = population_not_met(found)
            if found is not None and is_true(found.get("is_gap")):
                styles[f"coverage:{requirement_id}"] = GAP
        sheet.add(row, styles)
    return sheet
