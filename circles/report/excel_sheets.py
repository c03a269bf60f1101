"""The workbook's Summary, Communities, Sub-districts and Gaps sheets, without openpyxl.

Each ``*_sheet`` function turns the report model into a :class:`~circles.report.excel_book.Sheet`
that :mod:`circles.report.excel` writes. Numbers stay numbers (ratios with a percentage
format); missing values are None; every text comes from the text table in the workbook's
language, names from the summary's ``name.en`` / ``name.zh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from circles.report.excel_book import (
    DECIMAL,
    GAP,
    INTEGER,
    PERCENT,
    UNVERIFIED,
    Book,
    Column,
    Sheet,
)
from circles.report.model import max_of, population_not_met
from circles.report.model_words import model_line
from circles.report.values import (
    VERIFIED_TAG,
    SourceText,
)

# --------------------------------------------------------------------------------------------
# Summary


def summary_sheet(book: Book) -> Sheet:
    """One row per circle (the whole circle, with its model) and per requirement of it."""
    columns = [
        Column("circle_id", book.text("circle_id")),
        Column("circle", book.text("circle")),
        Column("mode", book.text("mode")),
        Column("requirement_id", book.text("requirement_id")),
        Column("requirement", book.text("requirement")),
        Column("tier", book.text("tier")),
        Column("threshold", book.text("threshold")),
        Column("population_total", book.text("population_total"), INTEGER),
        Column("population_met", book.text("population_met"), INTEGER),
        Column("population_not_met", book.text("population_not_met"), INTEGER),
        Column("coverage", book.text("coverage"), PERCENT, scale=True),
        Column("target", book.text("target"), PERCENT),
        Column("gap", book.text("gap")),
        Column("unverified", book.text("unverified_numbers")),
        Column("model", book.text("model")),
    ]
    sheet = Sheet(book.text("sheet_summary"), columns)
    for whole, *requirements in book.model.circle_rows.values():
        circle, circle_id = whole.item, whole.circle_id
        base = {
            "circle_id": circle_id,
            "circle": book.circle_name(circle_id),
            "mode": book.word("mode", circle.get("mode")),
        }
        speed = circle.get("speed_m_per_min")
        speed_text = book.source(circle.get("speed_source"), speed)
        target, gap = whole.target, whole.gap
        target_text = book.source((circle.get("sources") or {}).get("target_coverage"), target)
        model_numbers = _model_numbers(book, circle)
        numbers: dict[str, SourceText | None] = {
            "speed": speed_text,
            **model_numbers,
            "target": target_text,
        }
        row = {
            **base,
            "requirement": book.text("whole_circle"),
            "tier": book.word("tier", whole.tier),
            **_counts(whole.overall),
            "target": target,
            "gap": book.yes_no(gap),
            "unverified": _unverified(book, numbers),
            "model": model_line(circle, book.lang),
        }
        sheet.add(row, _styles(gap=gap, numbers=numbers))

        for requirement_row in requirements:
            requirement = requirement_row.item
            sources = requirement.get("sources") or {}
            threshold, threshold_text = book.threshold(circle, requirement)
            uses_speed = requirement.get("max_time_min") is not None and speed is not None
            target, gap = requirement_row.target, requirement_row.gap
            target_text = book.source(sources.get("target_coverage"), target)
            min_count = requirement.get("min_count")
            numbers = {
                "threshold": threshold_text,
                "speed": speed_text if uses_speed else None,
                **model_numbers,
                "min_count": book.source(sources.get("min_count"), min_count)
                if "min_count" in sources
                else None,
                "target": target_text,
            }
            requirement_id = requirement_row.requirement_id
            row = {
                **base,
                "requirement_id": requirement_id,
                "requirement": book.requirement_name(circle_id, requirement_id),
                "tier": book.word("tier", requirement_row.tier),
                "threshold": threshold,
                **_counts(requirement_row.overall),
                "target": target,
                "gap": book.yes_no(gap),
                "unverified": _unverified(book, numbers),
            }
            sheet.add(row, _styles(gap=gap, numbers=numbers))
    return sheet


def _model_numbers(book: Book, circle: Mapping[str, Any]) -> dict[str, SourceText]:
    """The numbers of a circle's travel model: road speeds, congestion, line-haul times."""
    drive = circle.get("drive") or {}
    sources = drive.get("sources") or {}
    numbers = {
        "road_speeds": book.source(sources.get("road_class_km_per_h"), 1)
        if drive.get("road_class_km_per_h")
        else None,
        "congestion": book.source(sources.get("congestion_factor"), 1)
        if drive.get("congestion_factor") is not None
        else None,
    }
    tags = {str(tag) for d in circle.get("destinations") or [] for tag in d.get("tags") or []}
    if tags:
        numbers["line_haul"] = SourceText(None, None, unverified=tags != {VERIFIED_TAG})
    return {key: text for key, text in numbers.items() if text is not None}


def _counts(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "population_total": record.get("population_total"),
        "population_met": record.get("population_met"),
        "population_not_met": population_not_met(record),
        "coverage": record.get("coverage_ratio"),
    }


def _unverified(book: Book, numbers: Mapping[str, SourceText | None]) -> str | None:
    """The names of a summary row's unverified numbers: "threshold, target" (Rules has why)."""
    return book.join(
        book.text(f"part_{key}")
        for key, text in numbers.items()
        if text is not None and text.unverified
    )


def _styles(*, gap: bool | None, numbers: Mapping[str, SourceText | None]) -> dict[str, str]:
    styles = {key: UNVERIFIED for key, text in numbers.items() if text and text.unverified}
    if gap:
        styles["gap"] = GAP
    if any(text and text.unverified for text in numbers.values()):
        styles["unverified"] = UNVERIFIED
    return styles


# --------------------------------------------------------------------------------------------
# Communities, Sub-districts, Gaps


def communities_sheet(book: Book) -> Sheet:
    """One row per community: residents, population, off-network counts, coverage per circle."""
    with_subdistrict = bool(book.subdistrict_of)
    columns = [Column("community", book.text("community"))]
    if with_subdistrict:
        columns.append(Column("subdistrict", book.text("subdistrict")))
    columns += [
        Column("residents", book.text("residents_total"), INTEGER),
        Column("population", book.text("population_total"), INTEGER),
        Column("residents_off_network", book.text("residents_off_network"), INTEGER),
        Column("population_off_network", book.text("population_off_network"), INTEGER),
    ]
    columns += _circle_coverage_columns(book)
    whole = book.by_area("community")
    sheet = Sheet(book.text("sheet_communities"), columns)
    for community_id in book.community_ids():
        info = book.community_info.get(community_id, {})
        known = book.model.community(community_id)
        row: dict[str, Any] = {
            "community": book.community(community_id),
            "subdistrict": book.subdistrict_of.get(community_id),
            "residents": None if known is None else known.residents,
            "population": None if known is None else known.population,
            "residents_off_network": info.get("residents_off_network"),
            "population_off_network": info.get("population_off_network"),
        }
        row |= _circle_coverages(book, whole, community_id)
        sheet.add(row)
    return sheet


def subdistricts_sheet(book: Book) -> Sheet:
    """One row per sub-district (街道): residents, population, coverage per circle."""
    columns = [
        Column("subdistrict", book.text("subdistrict")),
        Column("residents", book.text("residents_total"), INTEGER),
        Column("population", book.text("population_total"), INTEGER),
        *_circle_coverage_columns(book),
    ]
    whole = book.by_area("subdistrict")
    sheet = Sheet(book.text("sheet_subdistricts"), columns)
    for name in book.subdistrict_names():
        found = [whole[(c, name)] for c in book.circle_ids if (c, name) in whole]
        row = {
            "subdistrict": name,
            "residents": max_of(found, "residents_total"),
            "population": max_of(found, "population_total"),
        }
        sheet.add(row | _circle_coverages(book, whole, name))
    return sheet


def _circle_coverage_columns(book: Book) -> list[Column]:
    return [
        Column(
            f"coverage:{circle_id}",
            book.text("circle_coverage", circle=book.circle_name(circle_id)),
            PERCENT,
            scale=True,
        )
        for circle_id in book.circle_ids
    ]


def _circle_coverages(book: Book, whole: Mapping[tuple, Mapping], area: str) -> dict[str, Any]:
    out = {}
    for circle_id in book.circle_ids:
        record = whole.get((circle_id, area))
        out[f"coverage:{circle_id}"] = None if record is None else record["coverage_ratio"]
    return out


def gaps_sheet(book: Book) -> Sheet:
    """(Community, requirement) rows below target: basic first, largest population not met first."""
    with_subdistrict = bool(book.subdistrict_of)
    columns = [Column("community", book.text("community"))]
    if with_subdistrict:
        columns.append(Column("subdistrict", book.text("subdistrict")))
    columns += [
        Column("circle", book.text("circle")),
        Column("requirement", book.text("requirement")),
        Column("tier", book.text("tier")),
        Column("population_total", book.text("population_total"), INTEGER),
        Column("population_not_met", book.text("population_not_met"), INTEGER),
        Column("share_not_met", book.text("share_not_met"), PERCENT),
        Column("coverage", book.text("coverage"), PERCENT),
        Column("target", book.text("target"), PERCENT),
        Column("median_min_not_met", book.text("median_min_not_met"), DECIMAL),
        Column("circle_id", book.text("circle_id")),
        Column("requirement_id", book.text("requirement_id")),
    ]
    sheet = Sheet(book.text("sheet_gaps"), columns)
    for gap in book.model.gaps:  # one gap order for every writer
        total, missing, record = gap.population_total, gap.population_not_met, gap.record
        row = {
            "community": book.community(gap.community_id),
            "subdistrict": book.subdistrict_of.get(gap.community_id),
            "circle": book.circle_name(gap.circle_id),
            "requirement": book.requirement_name(gap.circle_id, gap.requirement_id),
            "tier": book.word("tier", gap.tier),
            "population_total": total,
            "population_not_met": missing,
            "share_not_met": None if not total or missing is None else missing / total,
            "coverage": record.get("coverage_ratio"),
            "target": gap.target,
            "median_min_not_met": record.get("median_min_not_met"),
            "circle_id": gap.circle_id,
            "requirement_id": gap.requirement_id,
        }
        sheet.add(row, dict.fromkeys(("population_not_met", "coverage"), GAP))
    return sheet
