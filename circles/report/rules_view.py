"""Rich tables of rule files: the circles of a rule set and the requirements of one circle."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text

from circles.report.text import say
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle, Requirement, Source

#: The language of the view (its words are the ``view_*`` keys of the text table).
LANG = "en"


def _word(key: str, /, **values: object) -> str:
    return say(LANG, f"view_{key}", **values)


def _tagged(text: str, source: Source | None) -> Text:
    """``text`` marked with a ``*`` and italics when its source is not verified."""
    if source is None:
        return Text(_word("no_source", text=text), style="red")
    if source.tag == "verified":
        return Text(text)
    return Text(f"{text}*", style="italic")


def _model(circle: Circle) -> str:
    if circle.mode == "walk":
        return _word("walk", speed=f"{circle.speed_m_per_min:g}")
    if circle.mode == "drive":
        assert circle.drive is not None
        return _word(
            "drive",
            classes=len(circle.drive.road_class_km_per_h),
            factor=f"{circle.drive.congestion_factor:g}",
            direction=circle.direction.replace("_", " "),
        )
    assert circle.hub is not None
    return _word(
        "hub",
        access=circle.hub.access,
        minutes=f"{circle.hub.access_max_min:g}",
        types="/".join(circle.hub.hub_types),
        transfer=f"{circle.hub.transfer_min:g}",
    )


def circles_table(loaded: Sequence[LoadedCircle], base: Path | None = None) -> Table:
    """One row per circle: id, names, mode and model, tier, requirements, file."""
    table = Table(title=_word("circles"), title_justify="left")
    for key in ("id", "name", "model", "tier", "requirements", "file"):
        table.add_column(_word(key), overflow="fold")
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
            _word("list_join").join(r.id for r in c.requirements),
            str(path),
        )
    return table


def _threshold(r: Requirement) -> Text:
    out = Text()
    if r.max_time_min is not None:
        timed = _word("minutes", value=f"{r.max_time_min:g}")
        out.append_text(_tagged(timed, r.sources.get("max_time_min")))
    if r.max_distance_m is not None:
        metres = _word("metres", value=f"{r.max_distance_m:g}")
        out.append_text(_tagged(metres, r.sources.get("max_distance_m")))
    for zone, minutes in (r.max_time_min_by_zone or {}).items():
        out.append("\n")
        zoned = _word("zone_minutes", zone=zone, value=f"{minutes:g}")
        out.append_text(_tagged(zoned, r.sources.get("max_time_min_by_zone")))
    return out


def requirements_table(lc: LoadedCircle) -> Table:
    """The requirements of one circle with thresholds, counts, targets and their sources."""
    c = lc.circle
    table = Table(
        title=_word("requirements_title", id=c.id, zh=c.name.zh, en=c.name.en, model=_model(c)),
        title_justify="left",
        caption=_word("caption"),
        caption_justify="left",
    )
    table.expand = True
    table.add_column(_word("requirement"), no_wrap=True)
    table.add_column(_word("reaches"), overflow="fold", ratio=2)
    table.add_column(_word("threshold"), overflow="fold", ratio=2)
    table.add_column(_word("count"), no_wrap=True)
    table.add_column(_word("target"), no_wrap=True)
    table.add_column(_word("tier"), no_wrap=True)
    table.add_column(_word("sources"), overflow="fold", ratio=5)
    for r in c.requirements:
        reaches = _word("list_join").join(r.facility_types or r.destinations or [])
        count = _word("min_count", count=r.min_count)
        if r.min_share is not None:
            count += _word("min_share", share=f"{r.min_share:.0%}")
        sources = Text("\n").join(
            Text(
                _word("source_line", key=key, tag=s.tag, ref=s.ref),
                style="" if s.tag == "verified" else "italic",
            )
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
