"""The content of the audit workbook's sheets: columns, rows and cell styles, without openpyxl.

Each ``*_sheet`` function turns the summary and the coverage table into a :class:`Sheet`, a
plain table that :mod:`circles.report.excel` writes. Numbers stay numbers (ratios with a
percentage format); missing values are None; every text comes from the labels of the
workbook's language, names from the summary's ``name.en`` / ``name.zh``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from circles.report.model import ReportModel, max_of, population_not_met
from circles.report.values import (
    VERIFIED_TAG,
    SourceText,
    gap_state,
    is_true,
    requirement_tier,
    source_text,
    threshold_source_text,
)

GENERAL = "General"
PERCENT = "0.0%"
INTEGER = "#,##0"
DECIMAL = "0.0"
#: Integers with thousands separators, other numbers as they are (key/value columns).
AUTO = "auto"

# cell styles
UNVERIFIED = "unverified"  # a number not tagged verified
UNVERIFIED_TAG = "unverified_tag"  # the tag text of such a number
GAP = "gap"  # coverage below target

_UNASSIGNED = "unassigned"
_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """One worksheet column: the row key it shows, its header, number format, colour scale."""

    key: str
    header: str
    number_format: str = GENERAL
    scale: bool = False
    #: wider content wraps (None: the writer's default)
    max_width: int | None = None


@dataclass
class Sheet:
    """A table to write: a header row of ``columns``, then ``rows`` with optional cell styles."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    styles: list[dict[str, str]] = field(default_factory=list)

    def add(self, row: dict[str, Any], styles: Mapping[str, str] | None = None) -> None:
        """Append a row and the styles of its cells (by column key)."""
        self.rows.append(row)
        self.styles.append(dict(styles or {}))


class Book:
    """The summary and coverage of one audit, with the lookups every sheet needs."""

    def __init__(self, model: ReportModel, labels: Mapping[str, str], lang: str) -> None:
        self.model = model
        self.summary = model.summary
        self.labels = labels
        self.lang = lang
        self.records = model.records
        self.circles: list[Mapping[str, Any]] = list(model.circles.values())
        self.circle_ids = model.circle_ids
        self._circles = model.circles
        self._requirements = model.requirements
        self.community_info = model.community_info
        #: community id -> sub-district, where the summary's communities name one
        self.subdistrict_of = {
            key: str(info["subdistrict"])
            for key, info in self.community_info.items()
            if info.get("subdistrict")
        }
        self.has_subdistricts = any(r["scope"] == "subdistrict" for r in self.records)

    # texts
    def text(self, key: str, **values: Any) -> str:
        """A label, formatted."""
        return self.labels[key].format(**values) if values else self.labels[key]

    def word(self, prefix: str, value: Any) -> Any:
        """A known word translated (``mode_walk`` -> "步行"), anything else as it is."""
        if value is None:
            return None
        return self.labels.get(f"{prefix}_{value}", value)

    def name(self, item: Mapping[str, Any] | None, fallback: Any) -> Any:
        """The item's name in the workbook language, else in the other, else ``fallback``."""
        names = (item or {}).get("name") or {}
        if not isinstance(names, Mapping):
            return str(names)
        other = "zh" if self.lang == "en" else "en"
        return names.get(self.lang) or names.get(other) or fallback

    def circle_name(self, circle_id: str) -> Any:
        """A circle's name in the workbook language (its id without a name)."""
        return self.name(self._circles.get(circle_id), circle_id)

    def requirement_name(self, circle_id: str, requirement_id: str) -> Any:
        """A requirement's name in the workbook language (its id without a name)."""
        return self.name(self._requirements.get((circle_id, requirement_id)), requirement_id)

    def requirement(self, circle_id: str, requirement_id: str) -> Mapping[str, Any]:
        """A requirement of the summary (empty when unknown)."""
        return self._requirements.get((circle_id, requirement_id), {})

    def community(self, community_id: str) -> str:
        """A community id as shown: "unassigned" in the workbook language."""
        return self.text("community_unassigned") if community_id == _UNASSIGNED else community_id

    def join(self, items: Iterable[Any]) -> str | None:
        """Items as one text ("a, b" / "a、b"); None for no items."""
        return self.text("list_join").join(str(item) for item in items) or None

    def yes_no(self, value: bool | None) -> str:
        """Yes, no, or not applicable (None)."""
        if value is None:
            return self.text("not_applicable")
        return self.text("yes") if value else self.text("no")

    def source(self, source: Mapping[str, Any] | None, value: Any) -> SourceText:
        """The reference and tag text of a number shown in the workbook."""
        return source_text(source, value, self.labels)

    # coverage lookups
    def community_ids(self) -> list[str]:
        """Community ids in summary order, then others of the coverage table; unassigned last."""
        ids = self.model.community_ids
        return sorted(ids, key=lambda community_id: community_id == _UNASSIGNED)

    def subdistrict_names(self) -> list[str]:
        """Sub-district names in the order of the coverage table."""
        names: list[str] = []
        for record in self.records:
            if record["scope"] == "subdistrict" and record["community_id"] not in names:
                names.append(record["community_id"])
        return names

    def by_area(self, scope: str, requirement_id: str | None = "") -> dict[tuple, dict]:
        """Records of a scope keyed (circle, area) for one requirement, or (circle, req, area)."""
        out: dict[tuple, dict] = {}
        for record in self.records:
            if record["scope"] != scope:
                continue
            if requirement_id is None:
                out[(record["circle_id"], record["requirement_id"], record["community_id"])] = (
                    record
                )
            elif record["requirement_id"] == requirement_id:
                out[(record["circle_id"], record["community_id"])] = record
        return out


def sheet_title(name: str, taken: Iterable[str]) -> str:
    """A valid, unused sheet name: at most 31 characters, unique in any case.

    The characters Excel forbids in sheet names (square brackets, colon, star, question mark
    and slashes) become underscores.
    """
    base = _SHEET_NAME_BAD.sub("_", name).strip("'") or "_"
    used = {title.casefold() for title in taken}
    title, number_ = base[:_SHEET_NAME_MAX], 1
    while title.casefold() in used:
        number_ += 1
        suffix = f" ({number_})"
        title = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
    return title


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
    for circle in book.circles:
        circle_id = str(circle.get("circle_id"))
        base = {
            "circle_id": circle_id,
            "circle": book.circle_name(circle_id),
            "mode": book.word("mode", circle.get("mode")),
        }
        speed = circle.get("speed_m_per_min")
        speed_text = book.source(circle.get("speed_source"), speed)
        target = circle.get("target_coverage")
        target_text = book.source((circle.get("sources") or {}).get("target_coverage"), target)
        overall = circle.get("overall") or {}
        gap = gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
        model_numbers = _model_numbers(book, circle)
        numbers = {"speed": speed_text, **model_numbers, "target": target_text}
        row = {
            **base,
            "requirement": book.text("whole_circle"),
            "tier": book.word("tier", circle.get("tier")),
            **_counts(overall),
            "target": target,
            "gap": book.yes_no(gap),
            "unverified": _unverified(book, numbers),
            "model": circle.get("model"),
        }
        sheet.add(row, _styles(gap, numbers))

        for requirement in circle.get("requirements") or []:
            sources = requirement.get("sources") or {}
            threshold, threshold_text = threshold_source_text(requirement, book.labels)
            uses_speed = requirement.get("max_time_min") is not None and speed is not None
            target = requirement.get("target_coverage")
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
            overall = requirement.get("overall") or {}
            gap = gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
            requirement_id = str(requirement.get("requirement_id"))
            row = {
                **base,
                "requirement_id": requirement_id,
                "requirement": book.requirement_name(circle_id, requirement_id),
                "tier": book.word("tier", requirement_tier(requirement)),
                "threshold": threshold,
                **_counts(overall),
                "target": target,
                "gap": book.yes_no(gap),
                "unverified": _unverified(book, numbers),
            }
            sheet.add(row, _styles(gap, numbers))
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


def _styles(gap: bool | None, numbers: Mapping[str, SourceText | None]) -> dict[str, str]:
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
        found = [whole[(c, community_id)] for c in book.circle_ids if (c, community_id) in whole]
        row: dict[str, Any] = {
            "community": book.community(community_id),
            "subdistrict": book.subdistrict_of.get(community_id),
            "residents": info.get("residents", max_of(found, "residents_total")),
            "population": info.get("population", max_of(found, "population_total")),
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
            "target": record.get("target_coverage"),
            "median_min_not_met": record.get("median_min_not_met"),
            "circle_id": gap.circle_id,
            "requirement_id": gap.requirement_id,
        }
        sheet.add(row, dict.fromkeys(("population_not_met", "coverage"), GAP))
    return sheet


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
                    "zone": zone_id,
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
            record = records.get((requirement_id, scope, area))
            row[f"coverage:{requirement_id}"] = None if record is None else record["coverage_ratio"]
            row[f"not_met:{requirement_id}"] = population_not_met(record)
            if record is not None and is_true(record.get("is_gap")):
                styles[f"coverage:{requirement_id}"] = GAP
        sheet.add(row, styles)
    return sheet
