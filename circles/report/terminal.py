"""Render an audit on a rich console: counts, circles, hub destinations, worst communities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circles.report.model import ReportModel, build_report_model
from circles.report.terminal_cells import (
    DASH,
    UNVERIFIED_MARK,
    count_text,
    gap_marker,
    marked,
    percent_or_none,
    percent_text,
    word,
)
from circles.report.terminal_communities import render_communities
from circles.report.values import (
    BASIC_TIER,
    THRESHOLD_WORDS,
    number,
    threshold_parts,
)

__all__ = ["render"]


def render(console: Console, summary: dict, coverage: pd.DataFrame, *, max_rows: int = 30) -> None:
    """Print an audit on a console: a header, circles, hub destinations and communities.

    Parameters
    ----------
    console : rich.console.Console
        Console to print to (the CLI's stderr or stdout console; a recording console in tests).
    summary : dict
        The audit summary (the content of summary.json) as described in the data contract.
    coverage : pandas.DataFrame
        Coverage by circle, requirement (``""`` for the whole circle), scope
        (``"overall"`` or ``"community"``) and community.
    max_rows : int, default 30
        Most communities to list; the rest are counted in a "… N more communities" line.

    Notes
    -----
    This is the long report of ``circles audit -v``; the default is the one-screen summary of
    :func:`circles.report.terminal_brief.render_brief`. Warnings are not printed here: the CLI
    prints them on stderr (:func:`circles.report.terminal_brief.render_warnings`).

    The circles table is followed by one line per circle saying what it measures (its model)
    and, for each hub circle, a table of its destinations.

    Communities are listed worst first: by their lowest whole-circle coverage across circles,
    ascending, then by the most population not meeting a whole circle, communities without
    population last. A coverage cell is red when a basic
    requirement of that circle is below its target in the community, yellow when every basic
    requirement meets its target but the share meeting all of them is below target, green at
    or above target (quality-tier requirements do not count towards whole-circle coverage).
    The communities table has one column per circle headed by its id; on a console of at least
    120 columns it also shows each community's largest gap, on a narrower one the ten largest
    gaps are listed below it. Numbers whose source is not tagged "verified" carry a ``*``.
    """
    model = build_report_model(summary, coverage)
    _render_header(console, summary)
    _render_circles(console, model)
    _render_destinations(console, model)
    render_communities(console, model, max_rows)


# --------------------------------------------------------------------------------------------
# header


def _render_header(console: Console, summary: Mapping[str, Any]) -> None:
    counts = summary.get("counts") or {}
    residents = counts.get("residents") or {}
    population = counts.get("population") or {}
    facilities = counts.get("facilities") or {}

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    statuses = ("read", "ok", "off_network", "no_geometry")
    for title, values in (("residents", residents), ("population", population)):
        # in no community: a community, not a status (those residents are among the ok ones)
        grid.add_row(
            word(title),
            word("status_join").join(_counted(values.get(key), key) for key in statuses)
            + word("in_no_community", count=count_text(values.get("unassigned"))),
        )
    facility_text = word(
        "facilities_line",
        read=count_text(facilities.get("read")),
        used=count_text(facilities.get("ok")),
    )
    if facilities.get("not_used"):
        facility_text += word("not_used", count=count_text(facilities.get("not_used")))
    problems = [
        _counted(facilities.get(key), key)
        for key in ("off_network", "no_geometry")
        if facilities.get(key)
    ]
    if problems:
        facility_text += word("problems", items=word("list_join").join(problems))
    reconcile = counts.get("reconcile")
    if reconcile:
        parts = [
            _counted(reconcile.get(key, {}).get("residents"), key)
            for key in ("evaluated", "off_network", "no_geometry")
        ]
        line = word(
            "reconcile_line",
            read=count_text(residents.get("read")),
            parts=word("reconcile_join").join(parts),
        )
        if residents.get("unassigned"):
            line += word("reconcile_unassigned", count=count_text(residents.get("unassigned")))
        grid.add_row(word("reconciled"), line)
    grid.add_row(word("facilities"), facility_text)
    converted = ((summary.get("run") or {}).get("parameters") or {}).get("coords_converted")
    if converted:
        grid.add_row(word("coordinates"), "; ".join(str(c) for c in converted))
    networks = summary.get("networks") or {}
    if networks:
        for index, (name, network) in enumerate(networks.items()):
            grid.add_row(
                word("network") if index == 0 else "",
                word("named", name=name, text=_network_text(network)),
            )
    elif summary.get("network"):
        grid.add_row(word("network"), _network_text(summary["network"]))
    console.print(grid)


def _counted(value: Any, status: str) -> str:
    """'1,234 off network': a count and its status."""
    return word("count_status", count=count_text(value), status=word(f"status_{status}"))


def _network_text(network: Mapping[str, Any]) -> str:
    length_km = number((network or {}).get("length_km"))
    length = DASH if length_km is None else word("km", value=f"{length_km:,.1f}")
    nodes, edges = count_text(network.get("nodes")), count_text(network.get("edges"))
    return word("network_text", nodes=nodes, edges=edges, length=length)


# --------------------------------------------------------------------------------------------
# circles


def _render_circles(console: Console, model: ReportModel) -> None:
    """The circles table: each circle's whole-circle row, then its requirements."""
    table = Table(title=word("circles"), title_justify="left")
    table.add_column(word("circle"))
    table.add_column(word("requirement"), overflow="fold")
    table.add_column(word("threshold"))
    table.add_column(word("coverage"), justify="right")
    table.add_column(word("target"), justify="right")
    table.add_column(word("gap"))
    any_unverified = any_quality = False
    for whole, *requirements in model.circle_rows.values():
        circle = whole.item
        name = circle.get("name") or {}
        label = Text(str(circle.get("circle_id")), style="bold")
        if name.get("en"):
            label.append(f"\n{name['en']}", style="dim")
        mode_text, unverified = _mode_text(circle)
        any_unverified |= unverified
        target_text, unverified = marked(
            percent_or_none(whole.target), (circle.get("sources") or {}).get("target_coverage")
        )
        any_unverified |= unverified
        table.add_row(
            label,
            Text(word("all_requirements"), style="bold"),
            mode_text,
            percent_text(whole.overall.get("coverage_ratio")),
            target_text,
            gap_marker(whole.gap),
            end_section=not requirements,
        )
        for index, row in enumerate(requirements):
            requirement = row.item
            sources = requirement.get("sources") or {}
            threshold_text, unverified = _threshold_text(requirement)
            any_unverified |= unverified
            target_text, unverified = marked(
                percent_or_none(row.target), sources.get("target_coverage")
            )
            any_unverified |= unverified
            requirement_text = Text(str(requirement.get("requirement_id")))
            min_count = requirement.get("min_count")
            if min_count is not None and min_count != 1 and not requirement.get("destinations"):
                requirement_text.append(word("min_count", count=min_count), style="dim")
            if row.tier != BASIC_TIER:
                requirement_text.append(word("tier", tier=row.tier), style="dim")
                any_quality = True
            table.add_row(
                "",
                requirement_text,
                threshold_text,
                percent_text(row.overall.get("coverage_ratio")),
                target_text,
                gap_marker(row.gap),
                end_section=index == len(requirements) - 1,
            )
    notes = []
    if any_unverified:
        notes.append(word("note_unverified", mark=UNVERIFIED_MARK))
    if any_quality:
        notes.append(word("note_quality"))
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    if not model.circle_rows:
        return
    console.print(table)
    for circle in model.circles.values():
        if circle.get("model"):
            text = word("named", name=circle.get("circle_id"), text=circle["model"])
            console.print(Text(text, style="dim"))


def _mode_text(circle: Mapping[str, Any]) -> tuple[Text, bool]:
    """'walk 60 m/min', 'drive', 'hub' or 'hub, walk 60 m/min' (access on foot)."""
    mode = circle.get("mode")
    speed = number(circle.get("speed_m_per_min"))
    walk = None if speed is None else word("walk", speed=f"{speed:g}")
    if mode == "drive":
        return Text(word("drive")), False
    if mode == "hub":
        text = Text(word("hub"))
        if walk is None:
            return text, False
        speed_text, unverified = marked(walk, circle.get("speed_source"))
        return text + Text(word("hub_then_walk")) + speed_text, unverified
    return marked(walk, circle.get("speed_source"))


def _threshold_text(requirement: Mapping[str, Any]) -> tuple[Text, bool]:
    """The threshold with each unverified number marked, and whether any is unverified."""
    parts = threshold_parts(requirement, THRESHOLD_WORDS)
    if not parts:
        return Text(DASH, style="dim"), False
    sources = requirement.get("sources") or {}
    text = Text()
    any_unverified = False
    for part in parts:
        if part.source_key is None:
            text.append(part.text)
            continue
        piece, unverified = marked(part.text, sources.get(part.source_key))
        text.append_text(piece)
        any_unverified |= unverified
    return text, any_unverified


# --------------------------------------------------------------------------------------------
# hub destinations


def _render_destinations(console: Console, model: ReportModel) -> None:
    """One compact table per hub circle: each destination's reach, in the summary's order."""
    for circle_id, circle in model.circles.items():
        destinations = circle.get("destinations") or []
        if not destinations:
            continue
        table = Table(
            title=word("destinations_title", circle=circle.get("circle_id")),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        table.add_column(word("destination"), overflow="fold")
        table.add_column(word("requirement"), overflow="fold")
        table.add_column(word("reached"), justify="right", no_wrap=True)
        table.add_column(word("share"), justify="right", no_wrap=True)
        table.add_column(word("median"), justify="right", no_wrap=True)
        for destination in destinations:
            name = destination.get("name") or {}
            label = " ".join(str(n) for n in (name.get("zh"), name.get("en")) if n)
            requirement_id = str(destination.get("requirement_id"))
            requirement = Text(requirement_id)
            tier = model.tiers.get((circle_id, requirement_id), BASIC_TIER)
            if tier != BASIC_TIER:
                requirement.append(word("tier", tier=tier), style="dim")
            median_min = number(destination.get("median_min"))
            table.add_row(
                Text(label or str(destination.get("destination_id"))),
                requirement,
                count_text(destination.get("population_reached")),
                percent_text(destination.get("share_reached")),
                Text(DASH, style="dim")
                if median_min is None
                else word("minutes", value=f"{median_min:,.1f}"),
            )
        table.caption = word("destinations_caption")
        table.caption_justify = "left"
        console.print(table)
