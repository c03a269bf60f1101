"""Render an audit on a rich console: counts, circles, hub destinations, worst communities."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circles.report.model import Gap, ReportModel, build_report_model
from circles.report.values import (
    BASIC_TIER,
    THRESHOLD_WORDS,
    gap_state,
    number,
    requirement_tier,
    threshold_parts,
)

__all__ = ["render"]

_VERIFIED_TAG = "verified"
_UNVERIFIED_MARK = "*"
_DASH = "–"
_WIDE_CONSOLE = 120  # narrower consoles list the largest gaps below the communities table
_LARGEST_GAPS = 10  # gaps listed below the communities table on a narrow console
_PERCENT_WIDTH = len("100.0%")
_MIN_GAP_WIDTH = 20  # the "largest gap" column wraps down to this width before others shrink

_GOOD = "green"
_WARN = "yellow"
_BAD = "red"


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
    The circles table is followed by one line per circle saying what it measures (its model)
    and, for each hub circle, a table of its destinations.

    Communities are listed worst first: by their lowest whole-circle coverage across circles,
    ascending, communities without population last. A coverage cell is red when a basic
    requirement of that circle is below its target in the community, yellow when every basic
    requirement meets its target but the share meeting all of them is below target, green at
    or above target (quality-tier requirements do not count towards whole-circle coverage).
    The communities table has one column per circle headed by its id; on a console of at least
    120 columns it also shows each community's largest gap, on a narrower one the ten largest
    gaps are listed below it. Numbers whose source is not tagged "verified" carry a ``*``.
    """
    _render_header(console, summary)
    _render_circles(console, summary)
    _render_destinations(console, summary)
    _render_communities(console, build_report_model(summary, coverage), max_rows)


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
    statuses = [
        ("read", "read"),
        ("ok", "ok"),
        ("off_network", "off network"),
        ("no_geometry", "no geometry"),
    ]
    for title, values in (("Residents", residents), ("Population", population)):
        # in no community: a community, not a status (those residents are among the ok ones)
        grid.add_row(
            title,
            " · ".join(f"{_count(values.get(key))} {label}" for key, label in statuses)
            + f"; {_count(values.get('unassigned'))} in no community",
        )
    facility_text = f"{_count(facilities.get('read'))} read · {_count(facilities.get('ok'))} used"
    if facilities.get("not_used"):
        facility_text += f" · {_count(facilities.get('not_used'))} of types no circle here needs"
    problems = [
        f"{_count(facilities.get(key))} {label}"
        for key, label in (("off_network", "off network"), ("no_geometry", "no geometry"))
        if facilities.get(key)
    ]
    if problems:
        facility_text += f" ({', '.join(problems)})"
    reconcile = counts.get("reconcile")
    if reconcile:
        parts = [
            f"{_count(reconcile.get(key, {}).get('residents'))} {label}"
            for key, label in (
                ("evaluated", "evaluated"),
                ("off_network", "off network"),
                ("no_geometry", "no geometry"),
            )
        ]
        line = f"{_count(residents.get('read'))} read = " + " + ".join(parts)
        if residents.get("unassigned"):
            line += f"; of which {_count(residents.get('unassigned'))} in no community"
        grid.add_row("Reconciled", line)
    grid.add_row("Facilities", facility_text)
    converted = ((summary.get("run") or {}).get("parameters") or {}).get("coords_converted")
    if converted:
        grid.add_row("Coordinates", "; ".join(str(c) for c in converted))
    networks = summary.get("networks") or {}
    if networks:
        for index, (name, network) in enumerate(networks.items()):
            grid.add_row("Network" if index == 0 else "", f"{name}: {_network_text(network)}")
    elif summary.get("network"):
        grid.add_row("Network", _network_text(summary["network"]))
    console.print(grid)
    for warning in summary.get("warnings") or []:
        console.print(Text(f"warning: {warning}", style="yellow"))


def _network_text(network: Mapping[str, Any]) -> str:
    length_km = number((network or {}).get("length_km"))
    length = _DASH if length_km is None else f"{length_km:,.1f} km"
    return f"{_count(network.get('nodes'))} nodes · {_count(network.get('edges'))} edges · {length}"


# --------------------------------------------------------------------------------------------
# circles


def _render_circles(console: Console, summary: Mapping[str, Any]) -> None:
    table = Table(title="Circles", title_justify="left")
    table.add_column("circle")
    table.add_column("requirement", overflow="fold")
    table.add_column("threshold")
    table.add_column("coverage", justify="right")
    table.add_column("target", justify="right")
    table.add_column("gap")
    any_unverified = any_quality = False
    circles = summary.get("circles") or []
    for circle in circles:
        name = circle.get("name") or {}
        label = Text(str(circle.get("circle_id")), style="bold")
        if name.get("en"):
            label.append(f"\n{name['en']}", style="dim")
        mode_text, unverified = _mode_text(circle)
        any_unverified |= unverified
        overall = circle.get("overall") or {}
        target = circle.get("target_coverage")
        target_text, unverified = _marked(
            _percent_or_none(target), (circle.get("sources") or {}).get("target_coverage")
        )
        any_unverified |= unverified
        requirements = circle.get("requirements") or []
        table.add_row(
            label,
            Text("all requirements", style="bold"),
            mode_text,
            _percent_text(overall.get("coverage_ratio")),
            target_text,
            _gap_marker(gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)),
            end_section=not requirements,
        )
        for index, requirement in enumerate(requirements):
            sources = requirement.get("sources") or {}
            threshold_text, unverified = _threshold_text(requirement)
            any_unverified |= unverified
            target = requirement.get("target_coverage")
            target_text, unverified = _marked(
                _percent_or_none(target), sources.get("target_coverage")
            )
            any_unverified |= unverified
            overall = requirement.get("overall") or {}
            requirement_text = Text(str(requirement.get("requirement_id")))
            min_count = requirement.get("min_count")
            if min_count is not None and min_count != 1 and not requirement.get("destinations"):
                requirement_text.append(f" (≥ {min_count})", style="dim")
            tier = requirement_tier(requirement)
            if tier != BASIC_TIER:
                requirement_text.append(f" ({tier})", style="dim")
                any_quality = True
            table.add_row(
                "",
                requirement_text,
                threshold_text,
                _percent_text(overall.get("coverage_ratio")),
                target_text,
                _gap_marker(
                    gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
                ),
                end_section=index == len(requirements) - 1,
            )
    notes = []
    if any_unverified:
        notes.append(
            f"{_UNVERIFIED_MARK} unverified (recalled or default) value: "
            "check it against its source before relying on it"
        )
    if any_quality:
        notes.append("(quality): a quality-tier requirement, not counted in 'all requirements'")
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    if not circles:
        return
    console.print(table)
    for circle in circles:
        if circle.get("model"):
            console.print(Text(f"{circle.get('circle_id')}: {circle['model']}", style="dim"))


def _mode_text(circle: Mapping[str, Any]) -> tuple[Text, bool]:
    """'walk 60 m/min', 'drive', 'hub' or 'hub, walk 60 m/min' (access on foot)."""
    mode = circle.get("mode")
    speed = number(circle.get("speed_m_per_min"))
    walk = None if speed is None else f"walk {speed:g} m/min"
    if mode == "drive":
        return Text("drive"), False
    if mode == "hub":
        text = Text("hub")
        if walk is None:
            return text, False
        speed_text, unverified = _marked(walk, circle.get("speed_source"))
        return text + Text(", ") + speed_text, unverified
    return _marked(walk, circle.get("speed_source"))


def _threshold_text(requirement: Mapping[str, Any]) -> tuple[Text, bool]:
    """The threshold with each unverified number marked, and whether any is unverified."""
    parts = threshold_parts(requirement, THRESHOLD_WORDS)
    if not parts:
        return Text(_DASH, style="dim"), False
    sources = requirement.get("sources") or {}
    text = Text()
    any_unverified = False
    for part in parts:
        if part.source_key is None:
            text.append(part.text)
            continue
        marked, unverified = _marked(part.text, sources.get(part.source_key))
        text.append_text(marked)
        any_unverified |= unverified
    return text, any_unverified


# --------------------------------------------------------------------------------------------
# hub destinations


def _render_destinations(console: Console, summary: Mapping[str, Any]) -> None:
    """One compact table per hub circle: each destination's reach, in the summary's order."""
    for circle in summary.get("circles") or []:
        destinations = circle.get("destinations") or []
        if not destinations:
            continue
        tiers = {
            str(r.get("requirement_id")): requirement_tier(r)
            for r in circle.get("requirements") or []
        }
        table = Table(
            title=f"{circle.get('circle_id')}: destinations",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        table.add_column("destination", overflow="fold")
        table.add_column("requirement", overflow="fold")
        table.add_column("reached", justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
        table.add_column("median", justify="right", no_wrap=True)
        for destination in destinations:
            name = destination.get("name") or {}
            label = " ".join(str(n) for n in (name.get("zh"), name.get("en")) if n)
            requirement_id = str(destination.get("requirement_id"))
            requirement = Text(requirement_id)
            tier = tiers.get(requirement_id, BASIC_TIER)
            if tier != BASIC_TIER:
                requirement.append(f" ({tier})", style="dim")
            median_min = number(destination.get("median_min"))
            table.add_row(
                Text(label or str(destination.get("destination_id"))),
                requirement,
                _count(destination.get("population_reached")),
                _percent_text(destination.get("share_reached")),
                Text(_DASH, style="dim") if median_min is None else f"{median_min:,.1f} min",
            )
        table.caption = (
            "reached: population within the requirement's threshold of it, and its share of "
            "all population; median: door-to-door minutes of residents with a route to it"
        )
        table.caption_justify = "left"
        console.print(table)


# --------------------------------------------------------------------------------------------
# communities


def _gap_text(gap: Gap) -> Text:
    """'life_15min/kindergarten: 350 people', with the tier when not basic."""
    not_met = gap.population_not_met or 0.0
    text = Text(f"{gap.circle_id}/{gap.requirement_id}: {not_met:,.0f} people", style=_BAD)
    if not gap.is_basic:
        text.append(f" ({gap.tier})", style="dim")
    return text


def _render_communities(console: Console, model: ReportModel, max_rows: int) -> None:
    """The communities table, worst first, with each one's largest gap (or a list of gaps)."""
    circle_ids, whole, gaps = model.circle_ids, model.whole, model.gaps
    largest_gap = model.largest_gap()
    if not model.communities:
        return
    rows = model.communities
    shown = rows[: max(max_rows, 0)]

    wide = console.width >= _WIDE_CONSOLE
    headers = ("residents", "population") if wide else ("res.", "pop.")
    cells = [
        [Text(row.community_id), _count(row.residents), _count(row.population)] for row in shown
    ]
    fixed = [
        max([cell_len("community"), *(cell_len(str(row[0])) for row in cells)]),
        max([len(headers[0]), *(len(row[1]) for row in cells)]),
        max([len(headers[1]), *(len(row[2]) for row in cells)]),
    ]
    gap_column = None
    if wide:
        texts = [
            str(_gap_text(largest_gap[row.community_id]))
            for row in shown
            if row.community_id in largest_gap
        ]
        gap_column = (
            max([len("largest gap"), *map(cell_len, texts)]),
            max([_MIN_GAP_WIDTH, *(cell_len(word) for text in texts for word in text.split())]),
        )
    header_widths = _circle_header_widths(
        console.width, circle_ids, fixed_widths=fixed, gap_column=gap_column
    )

    table = Table(
        title="Communities, worst first",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 0),
    )
    table.add_column("community", no_wrap=True, min_width=fixed[0])
    table.add_column(headers[0], justify="right", no_wrap=True)
    table.add_column(headers[1], justify="right", no_wrap=True)
    for circle_id, header_width in zip(circle_ids, header_widths, strict=True):
        table.add_column(Text(_wrap_id(circle_id, header_width)), justify="right", no_wrap=True)
    if wide:
        table.add_column("largest gap", overflow="fold", min_width=_MIN_GAP_WIDTH)
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
            row_cells.append(_percent_text(ratio, style=style))
        if wide:
            gap = largest_gap.get(community_id)
            row_cells.append(_gap_text(gap) if gap else Text(_DASH, style="dim"))
        table.add_row(*row_cells)
    caption = (
        "coverage of the whole circle; red: a basic requirement below its target · "
        "yellow: each requirement meets its target, fewer residents meet all · green: on target"
    )
    if not wide:
        caption += " · res.: residents · pop.: population"
    table.caption = caption
    table.caption_justify = "left"
    console.print(table)
    hidden = len(rows) - len(shown)
    if hidden > 0:
        noun = "community" if hidden == 1 else "communities"
        console.print(Text(f"… {hidden:,} more {noun}", style="dim"))
    if not wide and gaps:
        console.print(Text("Largest gaps", style="bold"))
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


def _wrap_id(identifier: str, width: int) -> str:
    """Break an id into lines of at most ``width`` cells, after underscores where possible."""
    lines: list[str] = []
    line = ""
    for word in _id_words(identifier):
        if line and cell_len(line + word) > width:
            lines.append(line)
            line = ""
        line += word
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
        return _BAD
    if target is None:
        return ""
    return _GOOD if ratio >= target else _WARN


# --------------------------------------------------------------------------------------------
# formatting and values


def _marked(text: str | None, source: Mapping[str, Any] | None) -> tuple[Text, bool]:
    """Return a value's text, italic and marked when its source is not tagged verified."""
    if text is None:
        return Text(_DASH, style="dim"), False
    if (source or {}).get("tag") == _VERIFIED_TAG:
        return Text(text), False
    return Text(f"{text}{_UNVERIFIED_MARK}", style="italic"), True


def _percent_or_none(value: Any) -> str | None:
    ratio = number(value)
    return None if ratio is None else f"{ratio:.1%}"


def _percent_text(value: Any, *, style: str = "") -> Text:
    ratio = number(value)
    if ratio is None:
        return Text(_DASH, style="dim")
    return Text(f"{ratio:.1%}", style=style)


def _gap_marker(gap: bool | None) -> Text:
    if gap is None:
        return Text(_DASH, style="dim")
    return Text("GAP", style=f"bold {_BAD}") if gap else Text("ok", style=_GOOD)


def _count(value: Any) -> str:
    count = number(value)
    return _DASH if count is None else f"{count:,.0f}"
