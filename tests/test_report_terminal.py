"""Tests for circles.report.terminal: the rich rendering of an audit."""

from __future__ import annotations

import re

from rich.console import Console

from circles.report.terminal import render
from tests.report_fixture import JIANGHAN, RIVERSIDE, UNASSIGNED

# --- helpers -------------------------------------------------------------------------------------


def _render(audit, **kwargs) -> str:
    summary, coverage = audit
    console = Console(record=True, width=160)
    render(console, summary, coverage, **kwargs)
    return console.export_text()


def _communities_part(text: str) -> str:
    """The text from the communities table on (the header also says 'unassigned')."""
    start = text.index("Communities, worst first")
    return text[start:]


# --- tests ---------------------------------------------------------------------------------------


def test_header_counts_and_warnings(audit):
    text = _render(audit)
    assert "10 read · 8 ok · 1 off network · 1 no geometry · 1 unassigned" in text
    assert "1,620 read · 1,500 ok · 80 off network · 40 no geometry · 0 unassigned" in text
    assert "6 read · 5 used" in text
    assert "1,234 nodes · 2,345 edges · 123.4 km" in text
    assert "warning: 1 resident farther than 250 m from the network (max_snap_m)" in text


def test_warnings_are_yellow(audit):
    summary, coverage = audit
    console = Console(record=True, width=160, color_system="standard")
    render(console, summary, coverage)
    assert "\x1b[33mwarning: 1 resident farther" in console.export_text(styles=True)


def test_circles_table_marks_unverified_values(audit):
    text = _render(audit)
    start = text.index("Circles")
    circles = text[start : text.index("Communities, worst first")]
    lines = circles.splitlines()
    kindergarten = next(line for line in lines if "kindergarten" in line)
    primary = next(line for line in lines if "primary_school" in line)
    micro = next(line for line in lines if "micro_public_space" in line)
    # verified 15 min threshold, default 90 % target, below it
    assert "15 min " in kindergarten and "15 min*" not in kindergarten
    assert "73.3%" in kindergarten and "90.0%*" in kindergarten and "GAP" in kindergarten
    # recalled threshold
    assert "15 min*" in primary
    # default distance threshold, verified target, met
    assert "600 m*" in micro and "80.0% " in micro and "ok" in micro
    assert "walk 60 m/min*" in circles
    assert "unverified (recalled or default)" in circles


def test_communities_worst_first(audit):
    part = _communities_part(_render(audit))
    positions = [part.index(name) for name in (RIVERSIDE, JIANGHAN, UNASSIGNED)]
    assert positions == sorted(positions)
    riverside = next(line for line in part.splitlines() if RIVERSIDE in line)
    assert "30.0%" in riverside and "60.0%" in riverside


def test_largest_gap(audit):
    part = _communities_part(_render(audit))
    riverside = next(line for line in part.splitlines() if RIVERSIDE in line)
    jianghan = next(line for line in part.splitlines() if JIANGHAN in line)
    assert "life_15min/kindergarten: 350 people" in riverside
    assert "life_15min/primary_school: 300 people" in jianghan


def test_headers_use_short_english_names(audit):
    part = _communities_part(_render(audit))
    assert "15-minute life circle" in part  # 21 characters: short enough
    assert "activity_10min" in part  # "10-minute activity circle" is too long


def test_max_rows_truncates(audit):
    part = _communities_part(_render(audit, max_rows=1))
    assert RIVERSIDE in part
    assert JIANGHAN not in part
    assert "… 2 more communities" in part


def test_coverage_colours(audit):
    summary, coverage = audit
    console = Console(record=True, width=160, color_system="standard")
    render(console, summary, coverage)
    text = console.export_text(styles=True)
    part = text[text.index("Communities, worst first") :]
    red, green = r"\x1b\[31m *", r"\x1b\[32m *"  # right-aligned: padding inside the style
    assert re.search(red + r"30\.0%", part)  # Riverside life_15min: a requirement below target
    assert re.search(green + r"95\.0%", part)  # 民族街道江汉社区 activity_10min: on target


def test_empty_coverage_renders(audit):
    summary, coverage = audit
    console = Console(record=True, width=160)
    render(console, {**summary, "communities": []}, coverage.iloc[0:0])
    assert "Communities, worst first" not in console.export_text()
