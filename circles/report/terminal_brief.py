"""The one-screen terminal summary of an audit: counts, one line per circle, worst communities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circles.report.model import ReportModel, RequirementRow, build_report_model
from circles.report.terminal_cells import (
    BAD,
    DASH,
    GOOD,
    count_text,
    percent_or_none,
    percent_text,
    print_table_and_rest,
    word,
)
from circles.report.values import BASIC_TIER, number

__all__ = ["WARNINGS_SHOWN", "render_brief", "render_warnings"]

#: Warnings printed in full on the one-screen summary; the rest are counted.
WARNINGS_SHOWN = 3
#: Communities listed on the one-screen summary.
COMMUNITIES_SHOWN = 10
_COMMUNITY_WIDTH = 24  # longer community names end in "…"


def render_brief(
    console: Console,
    summary: dict,
    coverage: pd.DataFrame,
    *,
    report_dir: str | None = None,
    max_rows: int = COMMUNITIES_SHOWN,
) -> None:
    """Print the one-screen summary of an audit.

    Parameters
    ----------
    console : rich.console.Console
        Console to print to (the CLI's stdout console; a recording console in tests).
    summary : dict
        The audit summary (the content of summary.json).
    coverage : pandas.DataFrame
        Coverage by circle, requirement, scope and community.
    report_dir : str, optional
        The report folder, named on the last line.
    max_rows : int, default 10
        Most communities to list.

    Notes
    -----
    Three lines of counts; one line per circle with its whole-circle coverage, how many of its
    basic requirements are below target and its worst requirement (the lowest coverage, basic
    requirements first); the communities with the most population not meeting a whole circle
    (summed over the circles), with their lowest coverage and largest gap; where the report
    is. Warnings are not printed here (see :func:`render_warnings`). ``circles audit -v``
    prints the long tables of :func:`circles.report.terminal.render` instead.
    """
    model = build_report_model(summary, coverage)
    _render_counts(console, summary)
    _render_circle_lines(console, model)
    _render_worst_communities(console, model, max_rows)
    if report_dir is not None:
        console.print(Text(word("brief_report", folder=report_dir), style="bold"))


def render_warnings(
    console: Console, summary: Mapping[str, Any], *, limit: int | None = WARNINGS_SHOWN
) -> None:
    """Print the audit's warnings (the first ``limit`` of them, the rest counted).

    Parameters
    ----------
    console : rich.console.Console
        Console to print to (the CLI's stderr console).
    summary : mapping
        The audit summary; its ``warnings`` are printed in their order.
    limit : int or None, default 3
        Most warnings printed; None prints them all.
    """
    warnings = [str(w) for w in summary.get("warnings") or []]
    shown = warnings if limit is None else warnings[: max(limit, 0)]
    for warning in shown:
        console.print(Text(word("warning", text=warning), style="yellow"))
    hidden = len(warnings) - len(shown)
    if hidden > 0:
        key = "brief_more_warning" if hidden == 1 else "brief_more_warnings"
        console.print(Text(word(key, count=hidden), style="yellow"))


# --------------------------------------------------------------------------------------------


def _render_counts(console: Console, summary: Mapping[str, Any]) -> None:
    """Residents, population and facilities in one line each; the networks in one."""
    counts = summary.get("counts") or {}
    residents, population = counts.get("residents") or {}, counts.get("population") or {}
    facilities = counts.get("facilities") or {}
    console.print(
        word(
            "brief_residents",
            residents=count_text(residents.get("read")),
            population=count_text(population.get("read")),
            ok=count_text(residents.get("ok")),
            unassigned=count_text(residents.get("unassigned")),
        ),
        overflow="ellipsis",
        no_wrap=True,
    )
    console.print(
        word(
            "brief_facilities",
            read=count_text(facilities.get("read")),
            used=count_text(facilities.get("ok")),
        ),
        overflow="ellipsis",
        no_wrap=True,
    )
    networks = summary.get("networks") or {}
    if networks:
        parts = [
            word("named", name=name, text=_length(network)) for name, network in networks.items()
        ]
        console.print(
            word("brief_networks", items=" · ".join(parts)), overflow="ellipsis", no_wrap=True
        )


def _length(network: Mapping[str, Any]) -> str:
    length_km = number((network or {}).get("length_km"))
    return DASH if length_km is None else word("km", value=f"{length_km:,.1f}")


def _worst_requirement(rows: Sequence[RequirementRow]) -> RequirementRow | None:
    """The requirement with the lowest coverage, basic requirements before quality ones."""
    known = [r for r in rows if number(r.overall.get("coverage_ratio")) is not None]
    if not known:
        return None
    return min(
        known,
        key=lambda r: (r.tier not in (None, BASIC_TIER), number(r.overall["coverage_ratio"])),
    )


def _render_circle_lines(console: Console, model: ReportModel) -> None:
    """One line per circle: coverage, target, requirements below target, worst requirement."""
    if not model.circle_rows:
        return
    table = Table(
        title=word("circles"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column(
        word("circle"), no_wrap=True, min_width=max(map(cell_len, model.circle_rows), default=0)
    )
    table.add_column(
        word("coverage"), justify="right", no_wrap=True, min_width=cell_len(word("coverage"))
    )
    table.add_column(
        word("target"), justify="right", no_wrap=True, min_width=cell_len(word("target"))
    )
    table.add_column(
        word("brief_below"), justify="right", no_wrap=True, min_width=cell_len(word("brief_below"))
    )
    table.add_column(word("brief_worst"), overflow="ellipsis")  # its texts end in "…"
    for circle_id, (whole, *requirements) in model.circle_rows.items():
        target = model.effective_targets.get(circle_id)
        ratio = number(whole.overall.get("coverage_ratio"))
        style = "" if target is None or ratio is None else (GOOD if ratio >= target else BAD)
        basic = [r for r in requirements if r.tier in (None, BASIC_TIER)]
        below = sum(1 for r in basic if r.gap)
        worst = _worst_requirement(requirements)
        worst_text = Text(DASH, style="dim")
        if worst is not None:
            worst_text = Text(worst.requirement_id)
            worst_text.append(
                f" {percent_or_none(worst.overall.get('coverage_ratio'))}",
                style=BAD if worst.gap else "",
            )
            if percent_or_none(worst.target) is not None:
                worst_text.append(
                    word("brief_of_target", target=percent_or_none(worst.target)), style="dim"
                )
            if worst.tier not in (None, BASIC_TIER):
                worst_text.append(word("tier", tier=worst.tier), style="dim")
        table.add_row(
            Text(circle_id, style="bold"),
            percent_text(ratio, style=style),
            percent_text(target),
            Text(word("brief_below_count", below=below, total=len(basic))),
            _one_line(worst_text),
        )
    console.print(table)


def _one_line(text: Text) -> Text:
    """A cell kept on one line, ending in "…" when the terminal is too narrow for it."""
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def _render_worst_communities(console: Console, model: ReportModel, max_rows: int) -> None:
    """The communities with the most population not meeting a whole circle, with their gap."""
    rows = [row for row in model.communities_by_not_met() if row.population_not_met > 0]
    if not rows:
        return
    shown = rows[: max(max_rows, 0)]
    largest_gap = model.largest_gap()
    table = Table(
        title=word("brief_communities_title", count=len(shown)),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    # names and numbers keep their width; only the gap text gives way on a narrow terminal
    names = [cell_len(row.community_id) for row in shown]
    table.add_column(
        word("community"),
        no_wrap=True,
        overflow="ellipsis",
        min_width=min(_COMMUNITY_WIDTH, max([cell_len(word("community")), *names])),
        max_width=_COMMUNITY_WIDTH,
    )
    for header, values in (
        (word("population_short"), [row.population for row in shown]),
        (word("brief_not_met"), [row.population_not_met for row in shown]),
    ):
        widths = [cell_len(count_text(value)) for value in values]
        table.add_column(
            header, justify="right", no_wrap=True, min_width=max([cell_len(header), *widths])
        )
    table.add_column(
        word("brief_lowest"),
        justify="right",
        no_wrap=True,
        min_width=cell_len(word("brief_lowest")),
    )
    table.add_column(word("largest_gap"), overflow="ellipsis")  # its texts end in "…"
    for row in shown:
        gap = largest_gap.get(row.community_id)
        gap_text = Text(DASH, style="dim")
        if gap is not None:
            gap_text = Text(
                word(
                    "gap_text",
                    circle=gap.circle_id,
                    requirement=gap.requirement_id,
                    count=f"{gap.population_not_met or 0.0:,.0f}",
                ),
                style=BAD,
            )
        lowest = None if row.worst_coverage == float("inf") else row.worst_coverage
        table.add_row(
            Text(row.community_id),
            count_text(row.population),
            count_text(row.population_not_met),
            percent_text(lowest),
            _one_line(gap_text),
        )
    table.caption = word("brief_communities_caption")
    table.caption_justify = "left"
    print_table_and_rest(console, table, len(rows) - len(shown))
