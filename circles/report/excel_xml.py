"""Worksheet rows as SpreadsheetML text, built in bulk, and spliced into openpyxl's package.

openpyxl writes every part of the workbook (styles, sheet properties, column widths, frozen
panes, filters, conditional formats, print setup) and each sheet's header row; the rows below
the header are written here as text: the small sheets cell by cell (:func:`cell_xml`), a large
table (the Residents sheet) column by column with Arrow (:func:`table_rows`). :func:`write_package`
puts them into each sheet's ``<sheetData>`` as it copies the package to its file.

The cells read back as openpyxl writes them: numbers as ``"%.16g"`` (so a whole float reads back
as an integer), booleans as ``t="b"``, texts as inline strings (``xml:space="preserve"`` when
they start or end with white space, cut at 32,767 characters), a text starting with ``=`` as a
formula and an error code (``#N/A``) as an error, as openpyxl does. Unlike openpyxl, cells carry
no ``r`` reference: they follow one another, an empty cell being ``<c/>`` (the reference is
optional in SpreadsheetML; Excel, LibreOffice and openpyxl count the cells).
"""

from __future__ import annotations

import io
import math
import numbers
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.cell.cell import ERROR_CODES

from circles.report.excel_cells import cell_value

__all__ = ["cell_xml", "row_xml", "table_rows", "write_package"]

_MAX_TEXT = 32_767  # characters of a cell; openpyxl cuts longer texts
_SHEET_DATA_END = b"</sheetData>"
# the control characters an xlsx file cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE)
_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
# Python's white space (str.strip) once the control characters are gone
_SPACE = r"[\t\n\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_LARGE_INTEGER = 10**16  # from here "%.16g" writes an exponent: the number reads back a float
_SHORTEST_16 = 16  # characters of a float's shortest text that surely has at most 16 digits
_EMPTY = "<c/>"
# deflate's fastest level: a third of the time of the default (6) for 40 % larger sheets (of
# the residents' 300 MB of XML: 45 MB against 32 MB, where openpyxl's cell references made 74 MB)
_COMPRESS_LEVEL = 1
_LOOKUP_INTEGERS = 4_096  # integer columns of a smaller range: each value's cell made once


def _text(value: str) -> pa.Scalar:
    """A literal text for Arrow's functions on large_string arrays."""
    return pa.scalar(value, pa.large_string())


# --------------------------------------------------------------------------------------------
# one cell at a time


def escape(text: str) -> str:
    """A text as XML character data (``&``, ``<`` and ``>`` escaped, as ElementTree does)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def cell_xml(value: Any, style_id: int = 0) -> str:  # noqa: PLR0911 (one return a cell kind)
    """One cell as openpyxl writes ``value`` (None, bool, int, float or a legal str), no ``r``.

    ``style_id`` is the cell's index in the workbook's cell formats (0: none).
    """
    style = f' s="{style_id}"' if style_id else ""
    if value is None:
        return f"<c{style}/>"
    kind = type(value)
    if kind is bool:
        return f'<c{style} t="b"><v>{int(value)}</v></c>'
    if kind is float or kind is int or (kind is not str and isinstance(value, numbers.Real)):
        if not math.isfinite(value):
            return f"<c{style}/>"
        return f"<c{style}><v>{'%.16g' % value}</v></c>"  # noqa: UP031 (openpyxl's format)
    text = str(value)[:_MAX_TEXT]
    if not text:
        return f'<c{style} t="inlineStr"/>'
    if len(text) > 1 and text.startswith("="):
        return f"<c{style}><f>{escape(text[1:])}</f><v/></c>"
    if text in ERROR_CODES:
        return f'<c{style} t="e"><v>{escape(text)}</v></c>'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f'<c{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def row_xml(row_index: int, cells: Iterable[str], height: float | None = None) -> str:
    """A ``<row>`` of cells (their XML), with a custom height in points when given."""
    size = f' ht="{height:.16g}" customHeight="1"' if height else ""
    return f'<row r="{row_index}"{size}>{"".join(cells)}</row>'


# --------------------------------------------------------------------------------------------
# a table, column by column


def table_rows(frame: pd.DataFrame, first_row: int, chunk_rows: int) -> Iterator[memoryview]:
    """The rows of a table as ``<row>`` elements, ``chunk_rows`` at a time.

    The first row is numbered ``first_row``; the values are written as
    :func:`circles.report.excel_cells.cell_value` would give them to openpyxl. Columns of
    numbers, booleans and texts are converted whole with Arrow; any other column (objects,
    dates, categories) value by value.
    """
    for start in range(0, len(frame), max(chunk_rows, 1)):
        part = frame.iloc[start : start + chunk_rows]
        numbers_ = pa.array(np.arange(first_row + start, first_row + start + len(part)))
        rows = pc.binary_join_element_wise(
            _text('<row r="'),
            pc.cast(numbers_, pa.large_string()),
            _text('">'),
            *(_column_cells(part.iloc[:, index]) for index in range(part.shape[1])),
            _text("</row>"),
            _text(""),
            null_handling="replace",
            null_replacement=_EMPTY,  # an empty cell
        )
        offsets = np.frombuffer(rows.buffers()[1], np.int64, len(rows) + 1, rows.offset * 8)
        yield memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


def _column_cells(series: pd.Series) -> pa.Array:
    """The cells of one column (a large_string array, null for an empty cell)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = pa.array(series, type=pa.bool_(), from_pandas=True)
        cells = pc.if_else(values, _text('<c t="b"><v>1</v></c>'), _text('<c t="b"><v>0</v></c>'))
    elif pd.api.types.is_integer_dtype(dtype):
        cells = _integer_cells(pa.array(series, from_pandas=True).cast(pa.int64(), safe=False))
        if pd.api.types.is_unsigned_integer_dtype(dtype) and series.max() >= 2**63:
            cells = _python_cells(series)
    elif pd.api.types.is_float_dtype(dtype):
        cells = _float_cells(pa.array(series, type=pa.float64(), from_pandas=True))
    elif isinstance(dtype, pd.StringDtype) or (
        pd.api.types.is_object_dtype(dtype)
        and pd.api.types.infer_dtype(series, skipna=True) == "string"
    ):
        cells = _text_cells(pa.array(series, type=pa.large_string(), from_pandas=True))
    else:
        cells = _python_cells(series)
    return cells.cast(pa.large_string())


def _number_cells(texts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(_text("<c><v>"), texts, _text("</v></c>"), _text(""))


def _integer_cells(values: pa.Array) -> pa.Array:
    """Integers as openpyxl writes them; those of a small range (flags, counts) looked up."""
    low, high = pc.min_max(values).values()
    low, high = low.as_py(), high.as_py()
    if low is not None and high - low < _LOOKUP_INTEGERS:
        cells = pa.array([cell_xml(n) for n in range(low, high + 1)], pa.large_string())
        return cells.take(pc.subtract(values, low))
    cells = _number_cells(pc.cast(values, pa.large_string()))
    large = pc.or_(pc.greater_equal(values, _LARGE_INTEGER), pc.less_equal(values, -_LARGE_INTEGER))
    large = pc.fill_null(large, fill_value=False)
    return _replace(cells, large, values)


def _float_cells(values: pa.Array) -> pa.Array:
    """Numbers as openpyxl writes them; NaN and infinities empty.

    A number's shortest text, where it has at most 16 digits and no exponent, reads back as
    the value and type "%.16g" gives; the others are written with "%.16g" itself.
    """
    values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))
    texts = pc.cast(values, pa.large_string())
    odd = pc.or_(
        pc.greater(pc.binary_length(texts), _SHORTEST_16),  # ASCII: bytes are characters
        pc.match_substring(texts, "e"),
    )
    return _replace(_number_cells(texts), pc.fill_null(odd, fill_value=False), values)


def _text_cells(values: pa.Array) -> pa.Array:
    """Texts as inline strings; those openpyxl treats apart one by one.

    Formulas (``=...``), error codes and texts beyond the cell limit are rare.
    """
    texts = pc.replace_substring_regex(values, _ILLEGAL, " ")
    escaped = pc.replace_substring(texts, "&", "&amp;")
    escaped = pc.replace_substring(escaped, "<", "&lt;")
    escaped = pc.replace_substring(escaped, ">", "&gt;")
    preserve = pc.and_(
        pc.match_substring_regex(texts, f"^{_SPACE}|{_SPACE}$"),
        pc.invert(pc.match_substring_regex(texts, f"^{_SPACE}*$")),
    )
    opening = pc.if_else(
        preserve,
        _text('<c t="inlineStr"><is><t xml:space="preserve">'),
        _text('<c t="inlineStr"><is><t>'),
    )
    cells = pc.binary_join_element_wise(opening, escaped, _text("</t></is></c>"), _text(""))
    cells = pc.if_else(pc.equal(texts, ""), _text('<c t="inlineStr"/>'), cells)
    apart = pc.or_(
        pc.or_(
            pc.and_(pc.starts_with(texts, "="), pc.greater(pc.utf8_length(texts), 1)),
            pc.is_in(texts, pa.array(ERROR_CODES, pa.large_string())),
        ),
        pc.greater(pc.utf8_length(texts), _MAX_TEXT),
    )
    return _replace(cells, pc.fill_null(apart, fill_value=False), texts)


def _replace(cells: pa.Array, mask: pa.Array, values: pa.Array) -> pa.Array:
    """``cells`` with the masked ones written by :func:`cell_xml` from ``values``."""
    if not pc.any(mask).as_py():
        return cells
    chosen = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    odd = values.take(pa.array(chosen)).to_pylist()
    replaced = cells.to_pylist()
    for index, value in zip(chosen, odd, strict=True):
        replaced[index] = cell_xml(cell_value(value))
    return pa.array(replaced, pa.large_string())


def _python_cells(series: pd.Series) -> pa.Array:
    """Any column, value by value, as openpyxl is given it (missing values empty)."""
    values = series.astype(object).where(series.notna(), None).tolist()
    return pa.array([cell_xml(cell_value(value)) for value in values], pa.large_string())


# --------------------------------------------------------------------------------------------
# the package


def write_package(
    path: Path,
    package: bytes,
    bodies: Mapping[str, Callable[[], Iterable[bytes | memoryview | str]]],
) -> None:
    """Copy the zip ``package`` to ``path``, each sheet named in ``bodies`` with its rows.

    ``bodies`` maps a worksheet part ("xl/worksheets/sheet3.xml") to a function giving its
    rows' XML, inserted before the part's ``</sheetData>`` (after openpyxl's header row). Rows
    are compressed on another thread while the next ones are built. A sheet beyond 2 GiB of
    XML needs the ZIP64 extension, which Excel may want to repair where it is not needed: the
    package is written again with it for that sheet only.
    """
    large: set[str] = set()
    while True:
        try:
            _write_package(path, package, bodies, large)
        except _TooLargeError as error:
            large.add(error.name)
        else:
            return


class _TooLargeError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _write_package(
    path: Path,
    package: bytes,
    bodies: Mapping[str, Callable[[], Iterable[bytes | memoryview | str]]],
    large: set[str],
) -> None:
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as target,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        for info in source.infolist():
            data = source.read(info)
            name = info.filename  # written with the package's compression, dated now
            if name not in bodies:
                target.writestr(name, data)
                continue
            cut = data.rindex(_SHEET_DATA_END)
            try:
                with target.open(name, "w", force_zip64=name in large) as handle:
                    handle.write(data[:cut])
                    pending: Future | None = None
                    try:
                        for chunk in bodies[name]():
                            block = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                            if pending is not None:
                                pending.result()
                            pending = writer.submit(handle.write, block)
                    finally:
                        if pending is not None:
                            pending.result()
                    handle.write(data[cut:])
            except RuntimeError as error:  # zipfile: "File size too large, try using force_zip64"
                if name in large or "force_zip64" not in str(error):
                    raise
                raise _TooLargeError(name) from error
