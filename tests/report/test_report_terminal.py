"""Tests for circles.report.terminal: the rich rendering of an audit."""

from __future__ import annotations

import copy
import re

import pandas as pd
import pytest
from rich.cells import cell_len
from rich.console import Console

from circles.report.terminal import render
from circles.report.terminal_brief import render_brief, render_warnings
from circles.report.terminal_communities import wrap_id
from tests.report_fixture import DESTINATIONS, JIANGHAN, RIVERSIDE, UNASSIGNED

# the three Wuhan circles the fixture lacks, added as copies of life_15min for width tests
EXTRA_CIRCLES = ["culture_sport_12min", "commute_1h", "national_3h"]

# --- helpers -------------------------------------------------------------------------------------


def _render(audit, *, width: int = 160, styles: bool = False, **kwargs) -> str:
    summary, coverage = audit
    console = Console(record=True, width=width, color_system="standard" if styles else None)
    render(console, summary, coverage, **kwargs)
    return console.export_text(styles=styles)


def _part(text: str, start: str, end: str | None = None) -> str:
    """The text from the line starting with ``start`` up to the one starting with ``end``."""
    begin = text.index(f"\n{start}") + 1 if not text.startswith(start) else 0
    stop = text.index(f"\n{end}", begin) + 1 if end is not None else len(text)
    return text[begin:stop]


def _communities_part(text: str) -> str:
    """The text from the communities table on (the header also says 'unassigned')."""
    return text[text.index("Communities, worst first") :]


def _circles_part(text: str) -> str:
    return _part(text, "Circles", "Communities, worst first")


def _line(text: str, *needles: str) -> str:
    return next(line for line in text.splitlines() if all(n in line for n in needles))


def _with_seven_circles(audit):
    """The fixture with three more circles (copies of life_15min): all seven Wuhan circle ids."""
    summary, coverage = audit
    summary = copy.deepcopy(summary)
    life = next(c for c in summary["circles"] if c["circle_id"] == "life_15min")
    rows = [coverage]
    for circle_id in EXTRA_CIRCLES:
        summary["circles"].append({**copy.deepcopy(life), "circle_id": circle_id})
        rows.append(coverage[coverage["circle_id"] == "life_15min"].assign(circle_id=circle_id))
    return summary, pd.concat(rows, ignore_index=True)


# --- tests ---------------------------------------------------------------------------------------


def test_header_counts_and_warnings(audit):
    text = _render(audit)
    assert "10 read · 8 ok · 1 off network · 1 no geometry; 1 in no community" in text
    assert "1,620 read · 1,500 ok · 80 off network · 40 no geometry; 0 in no community" in text
    assert (
        "10 read = 8 evaluated + 1 off network + 1 no geometry; of which 1 in no community" in text
    )
    assert "6 read · 5 used" in text
    assert "1,234 nodes · 2,345 edges · 123.4 km" in text
    # warnings go to stderr, printed by render_warnings
    assert "warning:" not in text


def test_warnings_are_yellow(audit):
    summary, _ = audit
    console = Console(record=True, width=160, color_system="standard")
    render_warnings(console, summary)
    text = console.export_text(styles=True)
    assert "\x1b[33mwarning: 1 resident farther than 250 m from the network (max_snap_m)" in text


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


def test_community_headers_are_circle_ids(audit):
    part = _communities_part(_render(audit))
    header = _line(part, "community")
    for circle_id in ("life_15min", "activity_10min", "ems", "metro_area_2h"):
        assert circle_id in header
    assert "15-minute life circle" not in part


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


def test_header_lists_every_network(audit):
    text = _render(audit)
    assert "walk: 1,234 nodes · 2,345 edges · 123.4 km" in text
    assert "drive1: 1,100 nodes · 2,050 edges · 110.2 km" in text


def test_circles_table_shows_modes(audit):
    circles = _circles_part(_render(audit))
    assert "walk 60 m/min*" in _line(circles, "life_15min", "all requirements")
    # activity_10min is walked but sets no speed (its threshold is a distance)
    assert re.search(r"all requirements +│ +– +│", _line(circles, "activity_10min"))
    assert "drive" in _line(circles, "ems", "all requirements")
    assert "hub" in _line(circles, "metro_area_2h", "all requirements")


def test_circles_table_shows_zone_thresholds(audit):
    circles = _circles_part(_render(audit))
    ems = _line(circles, "ems_station")
    # by-zone minutes verified, the minutes elsewhere a default: only they are marked
    assert "10 min central / 12 min new_urban, 12 min elsewhere*" in ems
    assert "86.7%" in ems and "90.0%*" in ems and "GAP" in ems


def test_circles_table_shows_destinations_and_tiers(audit):
    circles = _circles_part(_render(audit))
    basic = _line(circles, "wuhan_1plus8")
    quality = _line(circles, "middle_yangtze")
    # verified minutes, default min share
    assert "120 min · 8 destinations, all*" in basic and "(quality)" not in basic
    assert "93.3%" in basic and "ok" in basic
    assert "120 min · 2 destinations, all*" in quality
    assert "middle_yangtze (quality)" in quality and "GAP" in quality
    assert "(quality): a quality-tier requirement, not counted in 'all requirements'" in circles
    # the whole circle counts the basic requirement only
    assert "93.3%" in _line(circles, "metro_area_2h", "all requirements")


def test_destinations_share_and_minimum_count_texts(audit):
    summary, coverage = audit
    summary = copy.deepcopy(summary)
    metro = summary["circles"][3]
    metro["requirements"][0]["min_share"] = 0.5
    metro["requirements"][1] |= {"min_share": None, "min_count": 2}
    circles = _circles_part(_render((summary, coverage)))
    assert "120 min · 8 destinations, ≥ 50%*" in _line(circles, "wuhan_1plus8")
    quality = _line(circles, "middle_yangtze")
    assert "120 min · 2 destinations, ≥ 2" in quality and "(≥ 2)" not in quality


def test_quality_tier_is_dim(audit):
    text = _render(audit, styles=True)
    assert "\x1b[2m (quality)" in text


def test_model_lines_follow_the_circles_table(audit):
    summary, _ = audit
    text = _render(audit)
    models = _part(text, "life_15min: ", "metro_area_2h: destinations")
    assert text.index("Circles") < text.index(models) < text.index("Communities, worst first")
    words = " ".join(models.split())  # long model lines wrap
    for circle in summary["circles"]:
        assert f"{circle['circle_id']}: {circle['model']}" in words
    styled = _render(audit, styles=True)
    assert "\x1b[2mlife_15min: walk on the street network at 60 m/min" in styled


def test_destinations_table(audit):
    text = _render(audit)
    part = _part(text, "metro_area_2h: destinations", "Communities, worst first")
    lines = [line for line in part.splitlines() if "_" in line and ":" not in line]
    names = [f"{zh} {en}" for _, _, zh, en, _, _ in DESTINATIONS]
    assert len(lines) == len(DESTINATIONS)
    for line, name in zip(lines, names, strict=True):  # in the summary's order
        assert line.startswith(name)
    assert _line(part, "黄石 Huangshi").split()[2:] == [
        "wuhan_1plus8",
        "1,450",
        "96.7%",
        "78.9",
        "min",
    ]
    assert _line(part, "鄂州 Ezhou").split()[2:] == [
        "wuhan_1plus8",
        "1,500",
        "100.0%",
        "58.9",
        "min",
    ]
    assert _line(part, "长沙 Changsha").split()[2:] == [
        "middle_yangtze",
        "(quality)",
        "400",
        "26.7%",
        "121.3",
        "min",
    ]
    # nobody has a route to Nanchang: no median
    assert _line(part, "南昌 Nanchang").split()[-3:] == ["0", "0.0%", "–"]
    # only hub circles have a destinations table
    assert "ems: destinations" not in text and "life_15min: destinations" not in text


def test_quality_gaps_do_not_colour_the_whole_circle(audit):
    text = _render(audit, styles=True)
    riverside = _line(_communities_part(text), RIVERSIDE)
    # metro_area_2h in Riverside: wuhan_1plus8 (basic) on target, middle_yangtze (quality) not
    assert re.search(r"\x1b\[32m *90\.0%", riverside)
    # ems in Riverside: its one (basic) requirement is below target
    assert re.search(r"\x1b\[31m *60\.0%", riverside)


def test_largest_gap_prefers_basic_requirements(audit):
    part = _communities_part(_render(audit))
    # Jianghan's largest shortfall is the quality middle_yangtze (1,000 people)
    assert "middle_yangtze" not in _line(part, JIANGHAN)


@pytest.mark.parametrize("width", [80, 160])
def test_communities_fit_the_console_with_seven_circles(audit, width):
    text = _render(_with_seven_circles(audit), width=width)
    part = _communities_part(text)
    table = _part(part, "Communities, worst first", "coverage of the whole circle")
    for name in (JIANGHAN, RIVERSIDE, UNASSIGNED):  # whole, at the start of a line
        assert any(line.startswith(f"{name} ") for line in table.splitlines()), name
    assert "…" not in table
    for line in text.splitlines():
        assert cell_len(line.rstrip()) <= width, line
    # one coverage cell per circle on every community row
    riverside = _line(table, RIVERSIDE)
    assert len(re.findall(r"\d+\.\d%", riverside)) == 7
    # circle ids head the columns; when the console is wide they break only after underscores
    header = table.split("─")[0]
    assert "life_" in header and "15min" in header and " ems " in header
    if width >= 120:
        for circle_id in ("activity_10min", "metro_area_2h", *EXTRA_CIRCLES):
            assert all(piece in header for piece in re.findall(r"[^_]+_?", circle_id)), circle_id


def test_wide_console_shows_largest_gap_column(audit):
    text = _render(_with_seven_circles(audit), width=160)
    part = _communities_part(text)
    assert "largest gap" in _line(part, "community")
    # ties (the copies of life_15min) go to the first circle id in alphabetical order
    assert "commute_1h/kindergarten: 350 people" in _line(part, RIVERSIDE)
    assert "commute_1h/primary_school: 300 people" in _line(part, JIANGHAN)
    assert "Largest gaps" not in text
    assert "res.:" not in part


def test_narrow_console_lists_largest_gaps(audit):
    summary, coverage = _with_seven_circles(audit)
    text = _render((summary, coverage), width=80)
    part = _communities_part(text)
    assert "largest gap" not in _line(part, "community")
    assert "res." in _line(part, "community") and "pop." in _line(part, "community")
    gaps = _part(part, "Largest gaps").splitlines()[1:]
    # basic requirements first, largest population not met first; ten at most
    assert [line.strip() for line in gaps] == [
        f"{RIVERSIDE} — commute_1h/kindergarten: 350 people",
        f"{RIVERSIDE} — culture_sport_12min/kindergarten: 350 people",
        f"{RIVERSIDE} — life_15min/kindergarten: 350 people",
        f"{RIVERSIDE} — national_3h/kindergarten: 350 people",
        f"{JIANGHAN} — commute_1h/primary_school: 300 people",
        f"{JIANGHAN} — culture_sport_12min/primary_school: 300 people",
        f"{JIANGHAN} — life_15min/primary_school: 300 people",
        f"{JIANGHAN} — national_3h/primary_school: 300 people",
        f"{RIVERSIDE} — activity_10min/micro_public_space: 200 people",
        f"{RIVERSIDE} — ems/ems_station: 200 people",
    ]


def test_narrow_console_lists_quality_gaps_last(audit):
    text = _render(audit, width=80)
    gaps = [line.strip() for line in _part(text, "Largest gaps").splitlines()[1:]]
    assert gaps == [
        f"{RIVERSIDE} — life_15min/kindergarten: 350 people",
        f"{JIANGHAN} — life_15min/primary_school: 300 people",
        f"{RIVERSIDE} — activity_10min/micro_public_space: 200 people",
        f"{RIVERSIDE} — ems/ems_station: 200 people",
        f"{JIANGHAN} — metro_area_2h/middle_yangtze: 1,000 people (quality)",
        f"{RIVERSIDE} — metro_area_2h/middle_yangtze: 500 people (quality)",
    ]


@pytest.mark.parametrize(
    ("width", "lines"),
    [
        (19, ["culture_sport_12min"]),
        (14, ["culture_sport_", "12min"]),
        (8, ["culture_", "sport_", "12min"]),
        (7, ["culture", "_sport_", "12min"]),
        (6, ["cultur", "e_", "sport_", "12min"]),
    ],
)
def test_circle_ids_break_after_underscores(width, lines):
    assert wrap_id("culture_sport_12min", width).splitlines() == lines


@pytest.mark.parametrize("width", [160, 80])
def test_every_terminal_word_comes_from_the_text_table(audit, width, monkeypatch):
    from circles.report import terminal_cells

    monkeypatch.setattr(terminal_cells, "LANG", "zh")
    text = _render(audit, width=width)
    for english in ("Circles", "Communities, worst first", "Residents", "all requirements"):
        assert english not in text
    assert "社区，最差在前" in text and "全部要求" in text


# --- the one-screen summary (the default of circles audit) ---------------------------------------


def _brief(audit, *, width: int = 100, styles: bool = False, **kwargs) -> str:
    summary, coverage = audit
    console = Console(record=True, width=width, color_system="standard" if styles else None)
    render_brief(console, summary, coverage, **kwargs)
    return console.export_text(styles=styles)


@pytest.mark.parametrize("width", [80, 100])
def test_brief_fits_one_screen_with_seven_circles(audit, width):
    text = _brief(_with_seven_circles(audit), width=width, report_dir="circles-report")
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 50, text
    for line in lines:
        assert cell_len(line.rstrip()) <= width, line
    # one line per circle, each id whole
    circles = _part(text, "Circles", "Communities with the most people not met")
    for circle_id in ("life_15min", "activity_10min", "ems", "metro_area_2h", *EXTRA_CIRCLES):
        assert sum(line.startswith(f"{circle_id} ") for line in circles.splitlines()) == 1
    assert lines[-1].startswith("Report in circles-report/")
    # the long tables are for -v
    assert "Communities, worst first" not in text and "destinations" not in text


def test_brief_counts(audit):
    text = _brief(audit)
    assert _line(text, "Residents").split() == [
        *("Residents", "10", "read", "(1,620", "people)", "·", "8", "evaluated", "·"),
        *("1", "in", "no", "community"),
    ]
    assert "Facilities 6 read · 5 used" in text
    assert "walk: 123.4 km · drive1: 110.2 km" in text
    assert "warning" not in text


def test_brief_circle_lines_name_the_worst_requirement(audit):
    text = _brief(audit)
    life = _line(text, "life_15min ")
    assert "kindergarten 73.3% (target 90.0%)" in life
    assert life.split()[1:5] == ["56.7%", "90.0%", "2", "of"]  # whole circle, target, below
    # a quality requirement is the worst only when no basic one is known
    metro = _line(text, "metro_area_2h ")
    assert "wuhan_1plus8 93.3%" in metro and "middle_yangtze" not in metro
    styled = _brief(audit, styles=True)
    assert re.search(r"\x1b\[31m *56\.7%", _line(styled, "life_15min"))  # below target


def test_brief_communities_sorted_by_population_not_met(audit):
    _, coverage = audit
    text = _brief(audit)
    part = text[text.index("Communities with the most people not met") :]
    rows = [line for line in part.splitlines() if line.startswith((RIVERSIDE, JIANGHAN))]
    # recompute the order from the coverage table: whole-circle rows, total - met, summed
    whole = coverage[(coverage["scope"] == "community") & (coverage["requirement_id"] == "")]
    not_met = (
        (whole["population_total"] - whole["population_met"])
        .groupby(whole["community_id"])
        .sum()
        .sort_values(ascending=False)
    )
    expected = [c for c in not_met.index if c in (RIVERSIDE, JIANGHAN) and not_met[c] > 0]
    assert rows and [row.split()[0] for row in rows] == expected
    for row in rows:
        assert f"{not_met[row.split()[0]]:,.0f}" in row.split()


def test_brief_warnings_are_counted_beyond_the_first_three(audit):
    summary, _ = audit
    summary = {**summary, "warnings": [f"problem {i}" for i in range(7)]}
    console = Console(record=True, width=100)
    render_warnings(console, summary)
    assert console.export_text().splitlines() == [
        "warning: problem 0",
        "warning: problem 1",
        "warning: problem 2",
        "… and 4 more warnings in summary.json",
    ]
    console = Console(record=True, width=100)
    render_warnings(console, summary, limit=None)
    assert len(console.export_text().splitlines()) == 7


def test_brief_words_come_from_the_text_table(audit, monkeypatch):
    from circles.report import terminal_cells

    monkeypatch.setattr(terminal_cells, "LANG", "zh")
    text = _brief(audit, report_dir="out")
    for english in ("Circles", "Residents", "not met", "worst requirement", "Report in"):
        assert english not in text
    assert "未达标人口最多的社区" in text
