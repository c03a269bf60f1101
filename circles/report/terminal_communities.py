"""The terminal's communities table: worst first, coverage per circle, the largest gaps."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circles.report.model import Gap, ReportModel
from circles.report.terminal_cells import (
    BAD,
    DASH,
    GOOD,
    WARN,
    count_text,
    percent_text,
    print_table_and_rest,
    word,
)
from circles.report.values import number

__all__ = ["render_communities", "wrap_id"]

_WIDE_CONSOLE = 120  # narrower consoles list the largest gaps below the communities table
_LARGEST_GAPS = 10  # gaps listed below the communities table on a narrow console
_PERCENT_WIDTH = len("100.0%")
_MIN_GAP_WIDTH = 20  # the "largest gap" column wraps down to this width before others shrink


def _gap_text(gap: Gap) -> Text:
    """'life_15min/kindergarten: 350 people', with the tier when not basic."""
    not_met = gap.population_not_met or 0.0
    people = f"{not_met:,.0f}"
    text = Text(
        word("gap_text", circle=gap.circle_id, requirement=gap.requirement_id, count=people),
        style=BAD,
    )
    if not gap.is_basic:
        text.append(word("tier", tier=gap.tier), style="dim")
    return text


def render_communities(console: Console, model: ReportModel, max_rows: int) -> None:
    """The communities table, worst first, with each one's largest gap (or a list of gaps)."""
    circle_ids, whole, gaps = model.circle_ids, model.whole, model.gaps
    largest_gap = model.largest_gap()
    if not model.communities:
        return
    rows = model.communities
    shown = rows[: max(max_rows, 0)]

    wide = console.width >= _WIDE_CONSOLE
    headers = (
        (word("residents_header"), word("population_header"))
        if wide
        else (word("residents_short"), word("population_short"))
    )
    cells: list[list[Text | str]] = [
        [Text(row.community_id), count_text(row.residents), count_text(row.population)]
        for row in shown
    ]
    fixed = [
        max([cell_len(word("community")), *(cell_len(str(row[0])) for row in cells)]),
        max([cell_len(headers[0]), *(len(row[1]) for row in cells)]),
        max([cell_len(headers[1]), *(len(row[2]) for row in cells)]),
    ]
    gap_column = None
    if wide:
        texts = [
            str(_gap_text(largest_gap[row.community_id]))
            for row in shown
            if row.community_id in largest_gap
        ]
        gap_column = (
            max([cell_len(word("largest_gap")), *map(cell_len, texts)]),
            max([_MIN_GAP_WIDTH, *(cell_len(token) for text in texts for token in text.split())]),
        )
    header_widths = _circle_header_widths(
        console.width, circle_ids, fixed_widths=fixed, gap_column=gap_column
    )

    table = Table(
        title=word("communities_title"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
    )
    table.add_column(word("community"), no_wrap=True, min_width=fixed[0])
    table.add_column(headers[0], justify="right", no_wrap=True)
    table.add_column(headers[1], justify="right", no_wrap=True)
    for circle_id, header_width in zip(circle_ids, header_widths, strict=True):
        table.add_column(Text(wrap_id(circle_id, header_width)), justify="right", no_wrap=True)
    if wide:
        table.add_column(word("largest_gap"), overflow="fold", min_width=_MIN_GAP_WIDTH)
    for row_cells, community in zip(cells, shown, strict=True):
        community_id = community.community_id
        for circle_id in circle_ids:
            record = whole.get((community_id, circle_id))
            ratio = None if record is None else number(record["coverage_ratio"])
            style = _coverage_style(
                ratio,
                has_gap=(community_id, circle_id) in model.gap_circles,
                target=model.effective_targets.get(circle_id),
            )
            row_cells.append(percent_text(ratio, style=style))
        if wide:
            gap = largest_gap.get(community_id)
            row_cells.append(_gap_text(gap) if gap else Text(DASH, style="dim"))
        table.add_row(*row_cells)
    caption = word("communities_caption")
    if not wide:
        caption += word("short_headers_caption")
    table.caption = caption
    table.caption_justify = "left"
    print_table_and_rest(console, table, len(rows) - len(shown))
    if not wide and gaps:
        console.print(Text(word("largest_gaps"), style="bold"))
        for gap in gaps[:_LARGEST_GAPS]:
            console.print(Text("  ") + Text(gap.community_id) + Text(" — ") + _gap_text(gap))


def _circle_header_widths(
    console_width: int,
    circle_ids: Sequence[str],
    *,
    fixed_widths: Sequence[int],
    gap_column: tuple[int, int] | None,
) -> list[int]:
    """Widest header line of each circle column so that the communities table fits.

    Each id first gets the width of its longest underscore-separated word (so it breaks only
    after underscores), narrowed widest first while the table does not fit (never below a
    percentage); spare room then widens headers to fewer lines, the ones needing least first.
    The "largest gap" column (``gap_column``: its natural and its smallest width) keeps its
    natural width when the words fit beside it, else it wraps down to its smallest width.
    """
    separators = len(fixed_widths) + len(circle_ids) + (0 if gap_column is None else 1) - 1
    left = console_width - sum(fixed_widths) - separators
    full = [max(_PERCENT_WIDTH, cell_len(c)) for c in circle_ids]
    widths = [
        max(_PERCENT_WIDTH, *(cell_len(word.rstrip("_")) for word in _id_words(c)))
        for c in circle_ids
    ]
    gap_width = 0 if gap_column is None else gap_column[0]
    if gap_column is not None and sum(widths) + gap_width > left:
        gap_width = min(gap_column)
    while widths and sum(widths) + gap_width > left and max(widths) > _PERCENT_WIDTH:
        widths[widths.index(max(widths))] -= 1
    spare = left - gap_width - sum(widths)
    for index in sorted(range(len(widths)), key=lambda i: full[i] - widths[i]):
        extra = min(spare, full[index] - widths[index])
        if extra > 0:
            widths[index] += extra
            spare -= extra
    return widths


def _id_words(identifier: str) -> list[str]:
    """'culture_sport_12min' -> ['culture_', 'sport_', '12min']."""
    return re.findall(r"[^_]+_*|_+", identifier)


def wrap_id(identifier: str, width: int) -> str:
    """Break an id into lines of at most ``width`` cells, after underscores where possible."""
    lines: list[str] = []
    line = ""
    for piece in _id_words(identifier):
        if line and cell_len(line + piece) > width:
            lines.append(line)
            line = ""
        line += piece
        while cell_len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    if line:
        lines.append(line)
    return "\n".join(lines)


def _coverage_style(ratio: float | None, *, has_gap: bool, target: float | None) -> str:
    if ratio is None:
        return "dim"
    if has_gap:
        return BAD
    if target is None:
        return ""
    return GOOD if ratio >= target else WARN
