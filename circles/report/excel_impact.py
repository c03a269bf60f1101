"""The workbook's Facilities sheet: the facility-side view (``--facility-impact``), no openpyxl.

One row per walking or driving requirement and existing facility of its types, as in
``facility_impact.csv`` (see :mod:`circles.suggest.impact`), the facilities whose closing
would cost most first within each requirement; texts in the workbook's language.
"""

from __future__ import annotations

import math

import pandas as pd

from circles.report.excel_book import INTEGER, Book, Column, Sheet

#: coverage lost is often a fraction of a percent
PERCENT_FINE = "0.00%"
_NUMBERS = {
    "residents_within": INTEGER,
    "population_within": INTEGER,
    "population_sole": INTEGER,
    "population_lost": INTEGER,
    "coverage_lost": PERCENT_FINE,
}
_TEXTS = ("facility_id", "facility_type", "facility_name", "status")


def _cell(value: object) -> object:
    """A table value as a cell: None for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def facilities_sheet(book: Book, table: pd.DataFrame, title: str) -> Sheet:
    """The facility-side table in the workbook language (rows in the table's order)."""
    columns = [
        Column("circle_id", book.text("circle_id")),
        Column("requirement_id", book.text("requirement_id")),
        Column("requirement", book.text("requirement")),
        *(Column(key, book.text(f"impact_{key}")) for key in _TEXTS[:3]),
        Column("community_id", book.text("impact_community")),
        Column("status", book.text("impact_status")),
        *(Column(key, book.text(f"impact_{key}"), fmt) for key, fmt in _NUMBERS.items()),
    ]
    sheet = Sheet(title, columns)
    for record in table.to_dict("records"):
        circle_id, requirement_id = str(record["circle_id"]), str(record["requirement_id"])
        community = _cell(record["community_id"])
        sheet.add(
            {
                "circle_id": circle_id,
                "requirement_id": requirement_id,
                "requirement": book.requirement_name(circle_id, requirement_id),
                **{key: _cell(record[key]) for key in _TEXTS},
                "community_id": None if community is None else book.community(str(community)),
                **{key: _cell(record[key]) for key in _NUMBERS},
            }
        )
    return sheet
