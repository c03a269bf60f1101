"""The run's warnings in the report's language: the common ones through the en/zh text table.

Warnings are written in English where they arise (the summary keeps them so). This module
recognises the common ones by their wording and words them again from the text table
(``warn_*`` keys) with the same values; any other warning is shown as written, marked
(``warn_untranslated``). In English every warning is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from circles.report.text import say

__all__ = ["reword", "warning_text"]

_Convert = Callable[[str, str], str]


def _list(separator: str) -> _Convert:
    """A list joined by ``separator`` in English, joined by the language's list word."""

    def convert(value: str, lang: str) -> str:
        return say(lang, "list_join").join(value.split(separator))

    return convert


def _optional(key: str, group: str) -> Callable[[re.Match[str], str], str]:
    def convert(match: re.Match[str], lang: str) -> str:
        value = match.group(group)
        return say(lang, key, n=value) if value else ""

    return convert


def _off_network(value: str, lang: str) -> str:
    items = re.findall(r"(\d+) from the (walking|driving) network", value)
    return say(lang, "warn_off_network_join").join(
        say(lang, "warn_off_network_item", count=count, network=say(lang, f"warn_{which}"))
        for count, which in items
    )


#: (text key, the English wording as a pattern, converters of named groups, extra fields)
_WARNINGS: list[
    tuple[str, re.Pattern[str], dict[str, _Convert], dict[str, Callable[[re.Match[str], str], str]]]
] = [
    (
        "warn_population_missing",
        re.compile(
            r"residents file (?P<file>.+?): (?P<count>\d+) rows have no '(?P<column>[^']*)' "
            r"value \(first: resident (?P<first>.+)\); each weighs 1"
        ),
        {},
        {},
    ),
    (
        "warn_hubs_missing",
        re.compile(
            r"(?P<circle>\S+): hubs of the line-haul table not found among the facilities "
            r"\(by id or name, on the network\): (?P<hubs>.+?)(?: and (?P<n>\d+) more)?"
        ),
        {"hubs": _list(", ")},
        {"more": _optional("warn_more", "n")},
    ),
    (
        "warn_off_network",
        re.compile(
            r"residents farther than (?P<metres>[\d.]+) m \(or nearest to a fragment not "
            r"connected to the rest\): (?P<listed>.+); they count as not covered by the circles "
            r"on that network \(status off_network; drive_status for the driving network\)"
        ),
        {"listed": _off_network},
        {},
    ),
    (
        "warn_crossings",
        re.compile(
            r"(?P<count>\d+) places where network lines cross or touch without a shared end "
            r"point were NOT joined(?: \((?P<n>\d+) of them on different levels by bridge, "
            r"tunnel or layer\))? \(bridges and tunnels are such places; otherwise split the "
            r"lines there, or pass --split-crossings\): see (?P<file>\S+)"
        ),
        {},
        {"levels": _optional("warn_crossings_levels", "n")},
    ),
    (
        "warn_split",
        re.compile(
            r"network (?P<name>.+?): split (?P<crossings>\d+) crossings, (?P<t>\d+) "
            r"T-junctions and (?P<selfx>\d+) self-crossings \(--split-crossings\): "
            r"see (?P<file>\S+)"
        ),
        {},
        {},
    ),
    (
        "warn_joined_ends",
        re.compile(
            r"network (?P<name>.+?): joined (?P<count>\d+) dangling line ends to lines within "
            r"(?P<metres>[\d.]+) m \(--join-ends\): see (?P<file>\S+)"
        ),
        {},
        {},
    ),
    (
        "warn_no_facility",
        re.compile(
            r"(?P<requirement>\S+): no usable facility of type (?P<types>.+?) in (?P<file>.+?), "
            r"so nobody meets it; check --facility-type-field and the type values"
        ),
        {"types": lambda value, lang: say(lang, "warn_or").join(value.split(" or "))},
        {},
    ),
]


def warning_text(warning: str, lang: str) -> str:
    """A warning of the run in ``lang``: reworded when known, else as written and marked.

    Parameters
    ----------
    warning : str
        The warning as the summary holds it (English).
    lang : str
        ``"en"`` (shown as it is) or ``"zh"``.

    Returns
    -------
    str
        The text to show.
    """
    if lang == "en":
        return warning
    reworded = reword(warning, lang)
    return say(lang, "warn_untranslated", text=warning) if reworded is None else reworded


def reword(warning: str, lang: str) -> str | None:
    """A known warning worded from the text table in ``lang``; None for any other.

    In English the result is the warning itself (the tests hold the text table to that).
    """
    for key, pattern, converters, extras in _WARNINGS:
        match = pattern.fullmatch(warning)
        if match is None:
            continue
        values: Mapping[str, str] = {
            name: converters[name](value, lang) if name in converters else value
            for name, value in match.groupdict().items()
            if value is not None
        }
        values = {**values, **{name: make(match, lang) for name, make in extras.items()}}
        return say(lang, key, **values)
    return None
