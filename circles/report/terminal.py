"""Render an audit's summary and coverage on a rich console: counts, circles, worst communities."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circles.report.values import coverage_records, gap_state, is_true, number

__all__ = ["render"]

_VERIFIED_TAG = "verified"
_UNVERIFIED_MARK = "*"
_MAX_HEADER_NAME = 22  # use a circle's English name as column header up to this length
_DASH = "–"

_GOOD = "green"
_WARN = "yellow"
_BAD = "red"


def render(console: Console, summary: dict, coverage: pd.DataFrame, *, max_rows: int = 30) -> None:
    """Print an audit on a console: a header, a table of circles and one of communities.

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
    Communities are listed worst first: by their lowest whole-circle coverage across circles,
    ascending, communities without population last. A coverage cell is red when a requirement
    of that circle is below its target in the community, yellow when every requirement meets
    its target but the share meeting all of them is below target, green at or above target.
    Numbers whose source is not tagged "verified" carry a ``*``.
    """
    _render_header(console, summary)
    _render_circles(console, summary)
    _render_communities(console, summary, coverage_records(coverage), max_rows)


# --------------------------------------------------------------------------------------------
# header


def _render_header(console: Console, summary: Mapping[str, Any]) -> None:
    counts = summary.get("counts") or {}
    residents = counts.get("residents") or {}
    population = counts.get("population") or {}
    facilities = counts.get("facilities") or {}
    network = summary.get("network") or {}

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    statuses = [
        ("read", "read"),
        ("ok", "ok"),
        ("off_network", "off network"),
        ("no_geometry", "no geometry"),
        ("unassigned", "unassigned"),
    ]
    grid.add_row(
        "Residents",
        " · ".join(f"{_count(residents.get(key))} {label}" for key, label in statuses),
    )
    grid.add_row(
        "Population",
        " · ".join(f"{_count(population.get(key))} {label}" for key, label in statuses),
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
    grid.add_row("Facilities", facility_text)
    if network:
        length_km = network.get("length_km")
        length = _DASH if length_km is None else f"{length_km:,.1f} km"
        grid.add_row(
            "Network",
            f"{_count(network.get('nodes'))} nodes · {_count(network.get('edges'))} edges · "
            f"{length}",
        )
    console.print(grid)
    for warning in summary.get("warnings") or []:
        console.print(Text(f"warning: {warning}", style="yellow"))


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
    any_unverified = False
    circles = summary.get("circles") or []
    for circle in circles:
        name = circle.get("name") or {}
        label = Text(str(circle.get("circle_id")), style="bold")
        if name.get("en"):
            label.append(f"\n{name['en']}", style="dim")
        speed = circle.get("speed_m_per_min")
        speed_text, unverified = _marked(
            None if speed is None else f"walk {speed:g} m/min", circle.get("speed_source")
        )
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
            speed_text,
            _percent_text(overall.get("coverage_ratio")),
            target_text,
            _gap_marker(gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)),
            end_section=not requirements,
        )
        for index, requirement in enumerate(requirements):
            sources = requirement.get("sources") or {}
            max_time_min = requirement.get("max_time_min")
            threshold_key = "max_time_min" if max_time_min is not None else "max_distance_m"
            threshold_text, unverified = _marked(
                _threshold_text(max_time_min, requirement.get("max_distance_m")),
                sources.get(threshold_key),
            )
            any_unverified |= unverified
            target = requirement.get("target_coverage")
            target_text, unverified = _marked(
                _percent_or_none(target), sources.get("target_coverage")
            )
            any_unverified |= unverified
            overall = requirement.get("overall") or {}
            requirement_text = Text(str(requirement.get("requirement_id")))
            min_count = requirement.get("min_count")
            if min_count is not None and min_count != 1:
                requirement_text.append(f" (≥ {min_count})", style="dim")
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
    if any_unverified:
        table.caption = (
            f"{_UNVERIFIED_MARK} unverified (recalled or default) value: "
            "check it against its source before relying on it"
        )
        table.caption_justify = "left"
    if circles:
        console.print(table)


# --------------------------------------------------------------------------------------------
# communities


def _render_communities(
    console: Console,
    summary: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    max_rows: int,
) -> None:
    circles = {str(c.get("circle_id")): c for c in summary.get("circles") or []}
    circle_ids = list(circles)
    for record in records:
        if record["circle_id"] not in circle_ids:
            circle_ids.append(record["circle_id"])

    whole: dict[tuple[str, str], Mapping[str, Any]] = {}
    gap_circles: set[tuple[str, str]] = set()
    largest_gap: dict[str, tuple[float, str]] = {}
    for record in records:
        if record["scope"] != "community":
            continue
        community_id, circle_id = record["community_id"], record["circle_id"]
        if record["requirement_id"] == "":
            whole[(community_id, circle_id)] = record
        if not is_true(record["is_gap"]):
            continue
        gap_circles.add((community_id, circle_id))
        if record["requirement_id"] == "":
            continue
        not_met = (number(record["population_total"]) or 0.0) - (
            number(record["population_met"]) or 0.0
        )
        if community_id not in largest_gap or not_met > largest_gap[community_id][0]:
            largest_gap[community_id] = (
                not_met,
                f"{circle_id}/{record['requirement_id']}: {not_met:,.0f} people",
            )

    known = {str(c.get("community_id")): c for c in summary.get("communities") or []}
    community_ids = list(known)
    for record in records:
        if record["scope"] == "community" and record["community_id"] not in community_ids:
            community_ids.append(record["community_id"])
    if not community_ids:
        return

    rows = []
    for community_id in community_ids:
        circle_rows = [whole[(community_id, c)] for c in circle_ids if (community_id, c) in whole]
        info = known.get(community_id, {})
        residents = number(info.get("residents"))
        if residents is None:
            residents = _max_of(circle_rows, "residents_total")
        population = number(info.get("population"))
        if population is None:
            population = _max_of(circle_rows, "population_total")
        ratios = [
            r for r in (number(row["coverage_ratio"]) for row in circle_rows) if r is not None
        ]
        no_population = not population
        worst = min(ratios) if ratios else math.inf
        rows.append((no_population, worst, community_id, residents, population))
    rows.sort(key=lambda row: row[:3])

    table = Table(title="Communities, worst first", title_justify="left")
    table.add_column("community", no_wrap=True)
    table.add_column("residents", justify="right", no_wrap=True)
    table.add_column("population", justify="right", no_wrap=True)
    for circle_id in circle_ids:
        table.add_column(
            Text(_circle_header(circles.get(circle_id), circle_id)), justify="right", no_wrap=True
        )
    table.add_column("largest gap", overflow="fold", min_width=20)
    for _, _, community_id, residents, population in rows[: max(max_rows, 0)]:
        cells: list[Text | str] = [Text(community_id), _count(residents), _count(population)]
        for circle_id in circle_ids:
            record = whole.get((community_id, circle_id))
            ratio = None if record is None else number(record["coverage_ratio"])
            style = _coverage_style(
                ratio,
                has_gap=(community_id, circle_id) in gap_circles,
                target=_effective_target(circles.get(circle_id)),
            )
            cells.append(_percent_text(ratio, style=style))
        gap = largest_gap.get(community_id)
        cells.append(Text(gap[1], style=_BAD) if gap else Text(_DASH, style="dim"))
        table.add_row(*cells)
    table.caption = (
        "coverage of the whole circle; red: a requirement below its target · "
        "yellow: each requirement meets its target, fewer residents meet all · green: on target"
    )
    table.caption_justify = "left"
    console.print(table)
    hidden = len(rows) - max(max_rows, 0)
    if hidden > 0:
        noun = "community" if hidden == 1 else "communities"
        console.print(Text(f"… {hidden:,} more {noun}", style="dim"))


def _circle_header(circle: Mapping[str, Any] | None, circle_id: str) -> str:
    """Return the circle's English name when short, else its id."""
    name = ((circle or {}).get("name") or {}).get("en")
    return name if name and len(name) <= _MAX_HEADER_NAME else circle_id


def _effective_target(circle: Mapping[str, Any] | None) -> float | None:
    """Return the circle's own target, else its highest requirement target, else None."""
    if circle is None:
        return None
    target = number(circle.get("target_coverage"))
    if target is not None:
        return target
    targets = [
        t
        for t in (number(r.get("target_coverage")) for r in circle.get("requirements") or [])
        if t is not None
    ]
    return max(targets) if targets else None


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


def _threshold_text(max_time_min: Any, max_distance_m: Any) -> str | None:
    parts = []
    if max_time_min is not None:
        parts.append(f"{max_time_min:g} min")
    if max_distance_m is not None:
        parts.append(f"{max_distance_m:g} m")
    return " and ".join(parts) or None


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


def _max_of(rows: Iterable[Mapping[str, Any]], key: str) -> float | None:
    values = [v for v in (number(row.get(key)) for row in rows) if v is not None]
    return max(values) if values else None
