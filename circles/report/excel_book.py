"""The workbook's plain tables and the lookups every sheet needs: Column, Sheet, Book.

A :class:`Sheet` is a table without openpyxl: columns with headers and number formats, rows
of values and cell styles, which :mod:`circles.report.excel` writes. A :class:`Book` wraps
the report model (:mod:`circles.report.model`) with the workbook language's texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from circles.report.model import ReportModel
from circles.report.values import (
    SourceText,
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
HEADING = "heading"  # a row heading a block of rows (its text runs across the row)
NOTE = "note"  # a row of explanation above the blocks (its text runs across the row)
TOTAL = "total"  # a total row's cell, in bold

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
    #: ``"center"`` centres the column's cells (short flags beside numbers); None: as usual
    align: str | None = None


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
    def text(self, key: str, /, **values: Any) -> str:
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

    def yes_no(self, value: bool | None) -> str:  # noqa: FBT001 (the value shown, not a flag)
        """Yes, no, or not applicable (None)."""
        if value is None:
            return self.text("not_applicable")
        return self.text("yes") if value else self.text("no")

    def source(self, source: Mapping[str, Any] | None, value: Any) -> SourceText:
        """The reference and tag text of a number shown in the workbook."""
        return source_text(source, value, self.labels)

    def threshold(
        self, circle: Mapping[str, Any], requirement: Mapping[str, Any]
    ) -> tuple[str | None, SourceText]:
        """A requirement's threshold text and its source; zones by name outside English."""
        by_zone = requirement.get("max_time_min_by_zone")
        if by_zone and self.lang != "en":
            names = self.zone_names(circle)
            named = {names.get(str(zone), str(zone)): value for zone, value in by_zone.items()}
            requirement = {**requirement, "max_time_min_by_zone": named}
        return threshold_source_text(requirement, self.labels)

    def zone_names(self, circle: Mapping[str, Any]) -> dict[str, str]:
        """Zone id -> zone name in the workbook language, from the circle's zones and model."""
        items = [zone for zone in circle.get("zones") or [] if isinstance(zone, Mapping)]
        parts = circle.get("model_parts") or {}
        for group in parts.get("zones") or [] if isinstance(parts, Mapping) else []:
            items += [zone for zone in group.get("zones") or [] if isinstance(zone, Mapping)]
        names: dict[str, str] = {}
        for zone in items:
            zone_id = zone.get("zone")
            if zone_id is not None and zone.get("name"):
                names.setdefault(str(zone_id), str(self.name(zone, zone_id)))
        return names

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
