"""The workbook writer as it was before circles.report.excel_xml: openpyxl writing every cell.

A frozen copy of circles/report/excel.py at the time (the sheets' content still comes from the
package), the reference that tests/report/test_report_excel_xml.py compares the writer with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from circles.report.excel_book import (
    GAP,
    GENERAL,
    HEADING,
    NOTE,
    TOTAL,
    UNVERIFIED,
    UNVERIFIED_TAG,
    Book,
    Column,
    Sheet,
    sheet_title,
)
from circles.report.excel_cells import (
    cell_value,
    display_text,
    display_width,
    legal_text,
    number_format_of,
    wrapped_lines,
)
from circles.report.excel_checkup import checkup_sheet
from circles.report.excel_circle_sheets import circle_sheet, destinations_sheet, zones_sheet
from circles.report.excel_impact import facilities_sheet
from circles.report.excel_provenance import inputs_sheet, rules_sheet
from circles.report.excel_sheets import (
    communities_sheet,
    gaps_sheet,
    subdistricts_sheet,
    summary_sheet,
)
from circles.report.model import ReportModel, build_report_model
from circles.report.text import TEXT, text_for

#: Every text of the workbook, by language (the report text table).
LABELS = TEXT

__all__ = ["LABELS", "write_workbook"]

_MIN_WIDTH = 6
_MAX_WIDTH = 40  # wider content wraps
_HEADER_MAX_WIDTH = 14  # a longer header wraps rather than widen a column of short numbers
_FILTER_BUTTON_WIDTH = 3
_LINE_HEIGHT = 15  # points per line of the default 11-point font
_EXCEL_MAX_ROWS = 1_048_576
_RESIDENT_CHUNK_ROWS = 10_000  # rows converted at a time
_RESIDENT_WIDTH_SAMPLE = 2_000  # rows whose texts size the columns

_FONT = "Calibri"  # the default font: styled cells must name it, or viewers pick a serif
_HEADER_FONT = Font(name=_FONT, size=11, bold=True)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")  # rows may be several lines high
_CENTRE = Alignment(horizontal="center", vertical="top")
_TOTAL_FONT = Font(name=_FONT, size=11, bold=True)
_UNVERIFIED_FONT = Font(name=_FONT, size=11, italic=True, color="7F7F7F")
_UNVERIFIED_TAG_FONT = Font(name=_FONT, size=11, italic=True, color="9C5700")
_UNVERIFIED_TAG_FILL = PatternFill(fill_type="solid", fgColor="FFEB9C")
_GAP_FONT = Font(name=_FONT, size=11, bold=True, color="9C0006")
_GAP_FILL = PatternFill(fill_type="solid", fgColor="FFC7CE")
_HEADING_FONT = Font(name=_FONT, size=12, bold=True, color="1F3864")
_HEADING_FILL = PatternFill(fill_type="solid", fgColor="DDEBF7")
_NOTE_FONT = Font(name=_FONT, size=11, italic=True, color="595959")
_RUNNING = (HEADING, NOTE)  # rows whose one text runs across the row (no wrap, no width)
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


def write_workbook(
    path: Path,
    summary: dict,
    coverage: pd.DataFrame,
    *,
    lang: str = "en",
    residents: pd.DataFrame | None = None,
    model: ReportModel | None = None,
    facility_impact: pd.DataFrame | None = None,
    checkup: pd.DataFrame | None = None,
) -> None:
    """Write the audit workbook.

    Parameters
    ----------
    path : pathlib.Path
        File to write (``.xlsx``). Overwritten if it exists; the caller handles atomic
        replacement and may pass a temporary path.
    summary : dict
        The audit summary (the content of summary.json).
    coverage : pandas.DataFrame
        Coverage by circle, requirement (``""`` for the whole circle), scope (``"overall"``,
        ``"community"`` or ``"subdistrict"``) and community (or sub-district), with
        ``median_min_not_met`` when the audit computed it.
    lang : {"en", "zh"}
        Language of every sheet name, header and label; circle, requirement, zone and
        destination names come from the summary's ``name.en`` / ``name.zh``.
    residents : pandas.DataFrame, optional
        The residents table (residents.csv); when given, it is written as the last sheet(s),
        every column, streamed in chunks.
    model : ReportModel, optional
        The report model of ``summary`` and ``coverage`` when the caller has built it already
        (one model for every writer of a report); built here otherwise.
    facility_impact : pandas.DataFrame, optional
        The facility-side view (:mod:`circles.suggest.impact`); when given, it is written as
        the Facilities sheet, after the circles' sheets.
    checkup : pandas.DataFrame, optional
        The 城市体检 table (:func:`circles.report.checkup.checkup_table`); when it has rows,
        it is written as the 城市体检 (Urban health check) sheet, after the Gaps sheet.

    Raises
    ------
    ValueError
        When ``lang`` is not "en" or "zh".

    Notes
    -----
    Numbers are written as numbers (coverage and targets as ratios with a percentage format),
    missing values (None, NaN) as empty cells. Numbers whose source is not tagged
    ``"verified"`` are shown in grey italics and their tag carries an "(unverified)" mark.
    The whole workbook is streamed (openpyxl write-only mode): the residents sheet needs
    memory for one chunk of rows and the distinct texts (ids, names) only; each sheet's XML
    passes through a temporary file (about 400 MB for 300,000 residents × 40 columns).
    """
    labels = text_for(lang)
    if model is None:
        model = build_report_model(summary, coverage)
    book = Book(model, labels, lang)
    sheets = [summary_sheet(book), communities_sheet(book)]
    if book.has_subdistricts:
        sheets.append(subdistricts_sheet(book))
    sheets.append(gaps_sheet(book))
    if checkup is not None and len(checkup):
        sheets.append(checkup_sheet(book, checkup))
    sheets += [destinations_sheet(book), zones_sheet(book)]
    fixed_titles = [
        labels[f"sheet_{key}"] for key in ("rules", "inputs", "residents", "facilities")
    ]
    taken = [sheet.title for sheet in sheets] + fixed_titles
    for circle in book.circles:
        title = sheet_title(str(circle.get("circle_id")), taken)
        taken.append(title)
        sheets.append(circle_sheet(book, circle, title))
    if facility_impact is not None:
        sheets.append(facilities_sheet(book, facility_impact, labels["sheet_facilities"]))
    sheets += [rules_sheet(book), inputs_sheet(book)]

    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook.create_sheet(sheet.title), sheet)
    if residents is not None:
        _write_residents(workbook, residents, labels, taken)
    workbook.save(path)


# --------------------------------------------------------------------------------------------
# small sheets


def _write_sheet(ws: WriteOnlyWorksheet, sheet: Sheet) -> None:
    """A header and rows, frozen and filtered, with styled cells, fitted widths, print setup."""
    styles_of = [
        sheet.styles[index] if index < len(sheet.styles) else {} for index in range(len(sheet.rows))
    ]
    running = [any(style in _RUNNING for style in styles.values()) for styles in styles_of]
    fitted = [row for row, run in zip(sheet.rows, running, strict=True) if not run]
    widths, wraps = _fit_widths(sheet.columns, fitted)
    _start(ws, [column.header for column in sheet.columns], widths)
    for index, row in enumerate(sheet.rows):
        styles = styles_of[index]
        if running[index]:
            ws.append(_running_row(ws, sheet.columns, row, styles))
            continue
        texts = [
            display_text(row.get(column.key), GENERAL) if wrap else ""
            for column, wrap in zip(sheet.columns, wraps, strict=True)
        ]
        _set_height(ws, index + 2, texts, widths)
        cells: list[Any] = []
        for column, wrap in zip(sheet.columns, wraps, strict=True):
            value = cell_value(row.get(column.key))
            number_format = number_format_of(column.number_format, value)
            style = styles.get(column.key)
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = number_format
            cell.alignment = _WRAP if wrap else _CENTRE if column.align == "center" else _TOP
            if style == UNVERIFIED:
                cell.font = _UNVERIFIED_FONT
            elif style == UNVERIFIED_TAG:
                cell.font = _UNVERIFIED_TAG_FONT
                cell.fill = _UNVERIFIED_TAG_FILL
            elif style == GAP:
                cell.font = _GAP_FONT
                cell.fill = _GAP_FILL
            elif style == TOTAL:
                cell.font = _TOTAL_FONT
            cells.append(cell)
        ws.append(cells)
    last_row = len(sheet.rows) + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{last_row}"
    if len(sheet.rows):
        for index, column in enumerate(sheet.columns, start=1):
            if column.scale:
                letter = get_column_letter(index)
                ws.conditional_formatting.add(
                    f"{letter}2:{letter}{last_row}", ColorScaleRule(**_COVERAGE_SCALE)
                )


def _running_row(
    ws: WriteOnlyWorksheet,
    columns: Sequence[Column],
    row: Mapping[str, Any],
    styles: Mapping[str, str],
) -> list[Any]:
    """A heading or note row: its text unwrapped (it runs across the empty cells to its right).

    A heading's cells are all filled, so that the block it heads stands out.
    """
    heading = HEADING in styles.values()
    cells: list[Any] = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=cell_value(row.get(column.key)))
        cell.alignment = _TOP
        cell.font = _HEADING_FONT if heading else _NOTE_FONT
        if heading:
            cell.fill = _HEADING_FILL
        cells.append(cell)
    return cells


def _start(ws: WriteOnlyWorksheet, headers: Sequence[str], widths: Sequence[float]) -> None:
    """Widths, frozen header and print setup (all written before the rows), then the header."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    # printed: landscape, all columns on one page width, header row repeated on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"
    _set_height(ws, 1, headers, [width - _FILTER_BUTTON_WIDTH + 1 for width in widths])
    header = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=legal_text(str(text)))
        cell.font = _HEADER_FONT
        cell.alignment = _HEADER_ALIGNMENT
        header.append(cell)
    ws.append(header)


def _fit_widths(
    columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]
) -> tuple[list[float], list[bool]]:
    """Column widths from the displayed content, and which columns wrap (content too wide)."""
    widths: list[float] = []
    wraps: list[bool] = []
    for column in columns:
        content = max(
            (
                display_width(display_text(value, number_format_of(column.number_format, value)))
                for value in (cell_value(row.get(column.key)) for row in rows)
            ),
            default=0,
        )
        max_width = column.max_width or _MAX_WIDTH
        wrap = content > max_width
        content = min(content, max_width)
        header = display_width(column.header) + _FILTER_BUTTON_WIDTH
        width = max(content, min(header, max(content, _HEADER_MAX_WIDTH)))
        widths.append(max(width + 1, _MIN_WIDTH))
        wraps.append(wrap)
    return widths, wraps


def _set_height(
    ws: WriteOnlyWorksheet, row_index: int, texts: Sequence[str], widths: Sequence[float]
) -> None:
    """Give a row the height of its most-wrapped cell; one-line rows keep the default.

    Neither Excel nor LibreOffice reliably grows rows of wrapped text in a file they did not
    write, so the height is estimated from the display width of the texts.
    """
    lines = max(
        (wrapped_lines(text, width - 1) for text, width in zip(texts, widths, strict=True)),
        default=1,
    )
    if lines > 1:
        ws.row_dimensions[row_index].height = _LINE_HEIGHT * lines + 2


# --------------------------------------------------------------------------------------------
# residents


def _write_residents(
    workbook: Workbook, residents: pd.DataFrame, labels: Mapping[str, str], taken: list[str]
) -> None:
    """The residents table, every column, streamed in chunks; a new sheet per Excel row limit."""
    headers = [str(column) for column in residents.columns]
    keys = [str(index) for index in range(len(headers))]
    sample = [
        dict(zip(keys, row, strict=True))
        for row in _plain_rows(residents.iloc[:_RESIDENT_WIDTH_SAMPLE])
    ]
    columns = [Column(key, header) for key, header in zip(keys, headers, strict=True)]
    widths, _ = _fit_widths(columns, sample)
    per_sheet = _EXCEL_MAX_ROWS - 1
    starts = range(0, max(len(residents), 1), per_sheet)
    for number_, start in enumerate(starts, start=1):
        base = labels["sheet_residents"]
        if number_ > 1:
            base = labels["sheet_residents_more"].format(number=number_)
        title = sheet_title(base, [t for t in taken if t != labels["sheet_residents"]])
        taken.append(title)
        ws = workbook.create_sheet(title)
        _start(ws, headers, widths)
        part = residents.iloc[start : start + per_sheet]
        for chunk_start in range(0, len(part), _RESIDENT_CHUNK_ROWS):
            for row in _plain_rows(part.iloc[chunk_start : chunk_start + _RESIDENT_CHUNK_ROWS]):
                ws.append(row)
        last = get_column_letter(max(len(headers), 1))
        ws.auto_filter.ref = f"A1:{last}{len(part) + 1}"


def _plain_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of Python values for openpyxl: NaN, NA and NaT as None, numpy scalars unboxed."""
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    for row in values:
        for index, value in enumerate(row):
            if isinstance(value, str):
                row[index] = legal_text(value)
            elif value is not None and not isinstance(value, int | float | bool):
                row[index] = cell_value(value)
            elif isinstance(value, float) and not math.isfinite(value):
                row[index] = None
    return values
