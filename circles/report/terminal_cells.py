"""Cells of the terminal report: numbers, percentages and marks as rich Text, with their styles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

from circles.report.text import say
from circles.report.values import VERIFIED_TAG, number

#: The language of the terminal report (its words are the ``term_*`` keys of the text table).
LANG = "en"

UNVERIFIED_MARK = "*"
DASH = "–"
GOOD = "green"
WARN = "yellow"
BAD = "red"


def word(key: str, /, **values: object) -> str:
    """A word of the terminal report (``term_<key>`` of the text table), formatted."""
    return say(LANG, f"term_{key}", **values)


def marked(text: str | None, source: Mapping[str, Any] | None) -> tuple[Text, bool]:
    """Return a value's text, italic and marked when its source is not tagged verified."""
    if text is None:
        return Text(DASH, style="dim"), False
    if (source or {}).get("tag") == VERIFIED_TAG:
        return Text(text), False
    return Text(f"{text}{UNVERIFIED_MARK}", style="italic"), True


def percent_or_none(value: Any) -> str | None:
    """A ratio as '12.3%', or None when missing."""
    ratio = number(value)
    return None if ratio is None else f"{ratio:.1%}"


def percent_text(value: Any, *, style: str = "") -> Text:
    """A ratio as '12.3%' in ``style`` (a dim dash when missing)."""
    ratio = number(value)
    if ratio is None:
        return Text(DASH, style="dim")
    return Text(f"{ratio:.1%}", style=style)


def gap_marker(gap: bool | None) -> Text:  # noqa: FBT001 (the value shown, not a flag)
    """GAP (bold red), ok (green) or a dim dash when unknown."""
    if gap is None:
        return Text(DASH, style="dim")
    return Text(word("gap_marker"), style=f"bold {BAD}") if gap else Text(word("ok"), style=GOOD)


def count_text(value: Any) -> str:
    """A count as '1,234' (a dash when missing)."""
    count = number(value)
    return DASH if count is None else f"{count:,.0f}"


def print_table_and_rest(console: Any, table: Any, hidden: int) -> None:
    """Print a table of communities and, dimmed, how many more were left out."""
    console.print(table)
    if hidden > 0:
        more = word("more_community" if hidden == 1 else "more_communities", count=f"{hidden:,}")
        console.print(Text(more, style="dim"))
