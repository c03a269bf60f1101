"""Tests for circles.report.warning_words: the run's warnings in the workbook's language."""

from __future__ import annotations

import re

import pytest

from circles.report.warning_words import reword, warning_text

KNOWN = [
    "residents file residents.geojson: 2 rows have no 'population' value (first: resident R0015);"
    " each weighs 1",
    "commute_1h: hubs of the line-haul table not found among the facilities (by id or name, on "
    "the network): 中山公园, 光谷广场, 徐家棚",
    "national_3h: hubs of the line-haul table not found among the facilities (by id or name, on "
    "the network): 天河机场, 武汉站 and 3 more",
    "residents farther than 250 m (or nearest to a fragment not connected to the rest): 3 from "
    "the walking network and 3 from the driving network; they count as not covered by the "
    "circles on that network (status off_network; drive_status for the driving network)",
    "2 places where network lines cross or touch without a shared end point were NOT joined "
    "(bridges and tunnels are such places; otherwise split the lines there, or pass "
    "--split-crossings): see network_issues.csv",
    "5 places where network lines cross or touch without a shared end point were NOT joined "
    "(2 of them on different levels by bridge, tunnel or layer) (bridges and tunnels are such "
    "places; otherwise split the lines there, or pass --split-crossings): see network_issues.csv",
    "network roads.geojson: split 4 crossings, 1 T-junctions and 0 self-crossings "
    "(--split-crossings): see network_issues.csv",
    "network roads.geojson: joined 3 dangling line ends to lines within 2.5 m (--join-ends): "
    "see network_issues.csv",
    "life_15min/kindergarten: no usable facility of type kindergarten or nursery in pois.csv, so "
    "nobody meets it; check --facility-type-field and the type values",
]


@pytest.mark.parametrize("warning", KNOWN)
def test_known_warnings_reword_to_themselves_in_english_and_to_chinese(warning: str):
    assert reword(warning, "en") == warning
    zh = reword(warning, "zh")
    assert zh is not None
    allowed = {"off_network", "drive_status", "split", "crossings", "join", "ends", "facility"}
    allowed |= {"type", "field", "network_issues", "csv", "geojson", "residents", "pois"}
    allowed |= {"population", "commute_1h", "national_3h", "life_15min", "kindergarten"}
    allowed |= {"nursery", "roads"}
    words = set(re.findall(r"[A-Za-z_0-9]*[A-Za-z]{3,}[A-Za-z_0-9]*", zh)) - allowed
    assert not words, (zh, words)


def test_a_chinese_rendering():
    assert warning_text(KNOWN[3], "zh") == (
        "距路网超过 250 米（或最近处是与其余路网不连通的碎片）的居民点："
        "步行路网 3 个，驾车路网 3 个；"
        "这些居民点在该路网上计为未被覆盖（状态 off_network；驾车路网见 drive_status）"
    )
    assert warning_text(KNOWN[2], "zh").endswith("天河机场、武汉站 等，另有 3 个")


def test_other_warnings_are_marked_in_chinese_and_kept_in_english():
    assert warning_text("something rare happened", "zh") == "（英文原文）something rare happened"
    assert warning_text("something rare happened", "en") == "something rare happened"
    assert reword("something rare happened", "zh") is None
