"""The workbook's 城市体检 (Urban health check) sheet, from the checkup table.

Notes first (what a problem community is, how far the indicator names are verified), then one
block per indicator, requirement and method: a heading row naming them, the communities
grouped by sub-district, the sub-district roll-ups and the whole study area. Coverage and
shares are percentages; a problem community's coverage and flag are highlighted.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from circles.report.excel_book import (
    GAP,
    HEADING,
    INTEGER,
    NOTE,
    PERCENT,
    TOTAL,
    Book,
    Column,
    Sheet,
)

__all__ = ["checkup_sheet"]

_BLOCK_KEYS = ["indicator", "circle_id", "requirement_id", "method"]


def _present(value: Any) -> Any:
    """None for missing values (NaN, NA), the value otherwise."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def checkup_sheet(book: Book, table: pd.DataFrame) -> Sheet:
    """The 城市体检 sheet of the workbook.

    Parameters
    ----------
    book : Book
        The workbook's report model and texts.
    table : pandas.DataFrame
        The checkup table (:func:`circles.report.checkup.checkup_table`).

    Returns
    -------
    Sheet
        Notes, then a heading row and the rows of every block.
    """
    columns = [
        Column("level", book.text("checkup_level")),
        Column("subdistrict", book.text("checkup_subdistrict")),
        Column("community", book.text("checkup_community")),
        Column("method", book.text("checkup_method")),
        Column("coverage", book.text("checkup_coverage"), PERCENT),
        *(
            [Column("shortfall", book.text("checkup_shortfall"), INTEGER)]
            if (table["method"] == "seats").any()
            else []
        ),
        Column("target", book.text("checkup_target"), PERCENT),
        Column("problem", book.text("checkup_problem"), align="center"),
        Column("problems", book.text("checkup_problems"), INTEGER),
        Column("evaluated", book.text("checkup_evaluated"), INTEGER),
        Column("share", book.text("checkup_share"), PERCENT),
    ]
    sheet = Sheet(book.text("sheet_checkup"), columns)
    notes = [
        "checkup_note_problem",
        "checkup_note_rollup",
        "checkup_note_names",
        "checkup_note_unassigned",
    ]
    if (table["method"] == "residential_area").any():
        notes.append("checkup_note_area")
    for key in notes:
        sheet.add({"level": book.text(key)}, {"level": NOTE})
    for _, block in table.groupby(_BLOCK_KEYS, sort=False):
        first = block.iloc[0]
        circle_id, requirement_id = str(first["circle_id"]), str(first["requirement_id"])
        official = str(first["indicator_zh"])
        name = book.name({"name": {"en": first["indicator_en"], "zh": official}}, official)
        if name != official:  # the Chinese official name beside a translation
            name = book.text("checkup_name_beside", name=name, official=official)
        heading = book.text(
            "checkup_heading",
            name=name,
            kind=book.text(f"checkup_kind_{first['indicator_kind']}"),
            circle=book.circle_name(circle_id),
            requirement=book.requirement_name(circle_id, requirement_id),
            method=book.text(f"checkup_method_{first['method']}"),
            tag=book.text(f"checkup_tag_{first['verification']}"),
        )
        sheet.add({"level": heading}, {"level": HEADING})
        for record in block.to_dict(orient="records"):
            _add_row(book, sheet, record)
    return sheet


def _add_row(book: Book, sheet: Sheet, record: dict[str, Any]) -> None:
    """One community, sub-district or study-area row of a block."""
    level = record["level"]
    seats = record["method"] == "seats"
    value = _present(record["value"])
    problem = _present(record["is_problem"])
    row: dict[str, Any] = {
        "level": book.text(f"checkup_level_{level}"),
        "subdistrict": _present(record["subdistrict"]) or None,
        "community": _present(record["community_id"]) or None,
        "method": book.text(f"checkup_method_{record['method']}"),
        "shortfall" if seats else "coverage": value,
        "target": _present(record["target_coverage"]),
        "problems": _present(record["communities_problem"]),
        "evaluated": _present(record["communities_total"]),
        "share": _present(record["problem_share"]),
    }
    if level == "community":
        row["problem"] = None if problem is None else book.yes_no(bool(problem))
    styles: dict[str, str] = {}
    if level == "community" and problem:
        styles = {"problem": GAP}
        target = _present(record["target_coverage"])
        if seats or (value is not None and target is not None and value < target):
            styles["shortfall" if seats else "coverage"] = GAP  # the number that fails
    elif level != "community" and (_present(record["communities_problem"]) or 0) > 0:
        styles = {"problems": GAP, "share": GAP}
    if level == "district":
        styles = {key: TOTAL for key in row} | styles
    sheet.add(row, styles)
