"""Rich tables of rule files: the circles of a rule set and the requirements of one circle."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text

from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle, Requirement, Source


def _tagged(text: str, source: Source | None) -> Text:
    """``text`` marked with a ``*`` and italics when its source is not verified."""
    if source is None:
        return Text(f"{text} (no source)", style="red")
    if source.tag == "verified":
        return Text(text)
    return Text(f"{text}*", style="italic")


def _model(circle: Circle) -> str:
    if circle.mode == "walk":
        return f"walk {circle.speed_m_per_min:g} m/min"
    if circle.mode == "drive":
        assert circle.drive is not None
        return (
            f"drive, {len(circle.drive.road_class_km_per_h)} road-class speeds × "
            f"{circle.drive.congestion_factor:g}, {circle.direction.replace('_', ' ')}"
        )
    assert circle.hub is not None
    return (
        f"hub: {circle.hub.access} ≤ {circle.hub.access_max_min:g} min to "
        f"{'/'.join(circle.hub.hub_types)} + {circle.hub.transfer_min:g} min + table"
    )


def circles_table(loaded: Sequence[LoadedCircle], base: Path | None = None) -> Table:
    """One row per circle: id, names, mode and model, tier, requirements, file."""
    table = Table(title="Circles", title_justify="left")
    for header in ("id", "name", "model", "tier", "requirements", "file"):
        table.add_column(header, overflow="fold")
    for lc in loaded:
        c = lc.circle
        path = lc.path
        if base is not None:
            with contextlib.suppress(ValueError):
                path = lc.path.relative_to(base)
        table.add_row(
            Text(c.id, style="bold"),
            f"{c.name.zh}\n{c.name.en}",
            _model(c),
            c.tier,
            ", ".join(r.id for r in c.requirements),
            str(path),
        )
    return table


def _threshold(r: Requirement) -> Text:
    out = Text()
    if r.max_time_min is not None:
        out.append_text(_tagged(f"{r.max_time_min:g} min", r.sources.get("max_time_min")))
    if r.max_distance_m is not None:
        out.append_text(_tagged(f"{r.max_distance_m:g} m", r.sources.get("max_distance_m")))
    for zone, minutes in (r.max_time_min_by_zone or {}).items():
        out.append("\n")
        out.append_text(_tagged(f"{zone}: {minutes:g} min", r.sources.get("max_time_min_by_zone")))
    return out


def requirements_table(lc: LoadedCircle) -> Table:
    """The requirements of one circle with thresholds, counts, targets and their sources."""
    c = lc.circle
    table = Table(
        title=f"{c.id} — {c.name.zh} / {c.name.en} ({_model(c)})",
        title_justify="left",
        caption="* unverified (recalled or default): check against the source before relying on it",
        caption_justify="left",
    )
    table.expand = True
    table.add_column("requirement", no_wrap=True)
    table.add_column("reaches", overflow="fold", ratio=2)
    table.add_column("threshold", overflow="fold", ratio=2)
    table.add_column("count", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    table.add_column("sources", overflow="fold", ratio=5)
    for r in c.requirements:
        reaches = (
            ", ".join(r.facility_types) if r.facility_types else ", ".join(r.destinations or [])
        )
        count = f"≥ {r.min_count}"
        if r.min_share is not None:
            count += f", share ≥ {r.min_share:.0%}"
        sources = Text("\n").join(
            Text(f"{key} ({s.tag}): {s.ref}", style="" if s.tag == "verified" else "italic")
            for key, s in r.sources.items()
        )
        table.add_row(
            Text(r.id, style="bold") + Text(f"\n{r.label('zh')}", style="dim"),
            reaches,
            _threshold(r),
            count,
            _tagged(f"{r.target_coverage:.0%}", r.sources.get("target_coverage")),
            r.tier or c.tier,
            sources,
        )
    return table
