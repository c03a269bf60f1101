"""Cell values of the workbook: openpyxl-safe values, number formats, shown text and its size."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from circles.report.excel_book import AUTO, GENERAL, INTEGER, PERCENT

_WIDE = "\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef"  # CJK: a line may break before any of them
_TOKENS = re.compile(rf"[{_WIDE}]|[^\s{_WIDE}]+\s*|\s+")


def wrapped_lines(text: str, width: float) -> int:
    """Lines a text takes when wrapped at word (or wide-character) boundaries in ``width``."""
    total = 0
    for paragraph in str(text).splitlines() or [""]:
        lines, used = 1, 0.0
        for token in _TOKENS.findall(paragraph):
            size = display_width(token.rstrip()) or 0
            if used and used + size > width:
                lines += 1
                used = 0.0
            used += display_width(token)
            while used > width:  # a token longer than a line
                lines += 1
                used -= width
        total += lines
    return total


def number_format_of(number_format: str, value: Any) -> str:
    """The format of a cell: the column's for numbers, General for texts and empty cells."""
    kind = type(value)  # the usual values first
    if kind is str or value is None:
        return GENERAL
    if kind is float or kind is int:
        return (INTEGER if kind is int else GENERAL) if number_format == AUTO else number_format
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return GENERAL
    if number_format == AUTO:
        return INTEGER if isinstance(value, numbers.Integral) else GENERAL
    return number_format


def display_text(value: Any, number_format: str) -> str:  # noqa: PLR0911 (one return a format)
    """Approximate the text Excel shows for a value in a number format."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, numbers.Real):
        if number_format == PERCENT:
            return f"{value:.1%}"
        if number_format == INTEGER:
            return f"{value:,.0f}"
        if number_format == "0.0":
            return f"{value:.1f}"
        return f"{value:.10g}"
    return str(value)


def display_width(text: str) -> int:
    """Width of the longest line of a text in character cells (wide characters count two)."""
    if text.isascii() and text.isprintable():  # one line of narrow characters
        return len(text)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
            for line in text.splitlines()
        ),
        default=0,
    )


def cell_value(value: Any) -> Any:  # noqa: PLR0911 (one return a kind of value)
    """Convert a value for openpyxl: native numbers, None for missing values."""
    kind = type(value)  # the usual values first
    if kind is str:
        return legal_text(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int:
        return value
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
        return legal_text(value)
    return legal_text(str(value))


def legal_text(text: str) -> str:
    """A text without the control characters an xlsx file cannot hold (they become spaces)."""
    return ILLEGAL_CHARACTERS_RE.sub(" ", text) if ILLEGAL_CHARACTERS_RE.search(text) else text
