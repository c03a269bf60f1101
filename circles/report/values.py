"""Value helpers shared by the report writers: missing numbers, gap flags, threshold text."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from circles.report.refs_zh import REFS_ZH
from circles.report.text import THRESHOLD_KEYS
from circles.report.text_en import EN

#: An English word outside a URL: a reference (partly) written in English.
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
_URL = re.compile(r"https?://\S+")

#: The tier of requirements that count towards a circle's whole-circle coverage.
BASIC_TIER = "basic"


def number(value: Any) -> float | None:
    """A finite float, or None for missing values, NaN, booleans and non-numbers."""
    if value is None or value is pd.NA or isinstance(value, bool | str):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def is_nan(value: Any) -> bool:
    """Whether ``value`` is a float NaN."""
    return isinstance(value, float) and math.isnan(value)


def is_true(value: Any) -> bool:
    """Whether a bool-or-None (possibly numpy or pandas) value is true."""
    if value is None or value is pd.NA or is_nan(value):
        return False
    return bool(value)


def gap_state(is_gap: Any, coverage_ratio: Any, target: Any) -> bool | None:
    """The gap flag as given, else coverage < target; None without a target or people."""
    if is_gap is not None and is_gap is not pd.NA and not is_nan(is_gap):
        return bool(is_gap)
    ratio, target_ratio = number(coverage_ratio), number(target)
    if ratio is None or target_ratio is None:
        return None
    return ratio < target_ratio


def coverage_records(coverage: pd.DataFrame) -> list[dict[str, Any]]:
    """Coverage rows as dicts with ids as strings (missing ids as "")."""
    records = coverage.to_dict("records")
    for record in records:
        for key in ("circle_id", "requirement_id", "scope", "community_id"):
            value = record.get(key)
            record[key] = "" if value is None or is_nan(value) else str(value)
    return records


# --- threshold text ----------------------------------------------------------------------------

#: The words of a threshold text, in English; a writer with its own labels passes its own.
THRESHOLD_WORDS: dict[str, str] = {key: EN[key] for key in THRESHOLD_KEYS}


@dataclass(frozen=True)
class ThresholdPart:
    """One piece of a threshold text.

    Attributes
    ----------
    text : str
        The piece as shown.
    source_key : str or None
        Key in the requirement's ``sources`` of the number this piece shows; None for words.
    part : str or None
        Key in the words naming this number ("part_time", "part_zones"...); None for words.
    """

    text: str
    source_key: str | None = None
    part: str | None = None


def threshold_parts(
    requirement: Mapping[str, Any], words: Mapping[str, str]
) -> list[ThresholdPart]:
    """The threshold of a requirement as text pieces, each number with its source key.

    Parameters
    ----------
    requirement : mapping
        One requirement of a circle in the summary.
    words : mapping
        The texts of :data:`THRESHOLD_WORDS` (or a translation of them).

    Returns
    -------
    list of ThresholdPart
        "15 min"; "600 m"; "15 min and 300 m"; "10 min central / 12 min new_urban, 12 min
        elsewhere" for thresholds by zone; "120 min · 8 destinations, all" (or ", ≥ 50%",
        ", any", ", ≥ 2") for requirements on destinations. Empty without a threshold.
    """
    parts: list[ThresholdPart] = []
    max_time_min = number(requirement.get("max_time_min"))
    by_zone = requirement.get("max_time_min_by_zone") or {}
    zone_minutes = [(str(zone), number(value)) for zone, value in by_zone.items()]
    zone_minutes = [(zone, value) for zone, value in zone_minutes if value is not None]
    if zone_minutes:
        text = words["zone_join"].join(
            words["zone_minutes"].format(value=f"{value:g}", zone=zone)
            for zone, value in zone_minutes
        )
        parts.append(ThresholdPart(text, "max_time_min_by_zone", "part_zones"))
        if max_time_min is not None:
            parts.append(ThresholdPart(words["zones_then_elsewhere"]))
            text = words["elsewhere_minutes"].format(value=f"{max_time_min:g}")
            parts.append(ThresholdPart(text, "max_time_min", "part_elsewhere"))
    elif max_time_min is not None:
        text = words["minutes"].format(value=f"{max_time_min:g}")
        parts.append(ThresholdPart(text, "max_time_min", "part_time"))
    max_distance_m = number(requirement.get("max_distance_m"))
    if max_distance_m is not None:
        if parts:
            parts.append(ThresholdPart(words["threshold_and"]))
        text = words["metres"].format(value=f"{max_distance_m:g}")
        parts.append(ThresholdPart(text, "max_distance_m", "part_distance"))

    destinations = requirement.get("destinations")
    if destinations:
        if parts:
            parts.append(ThresholdPart(words["threshold_then_destinations"]))
        parts.append(ThresholdPart(words["destinations"].format(count=len(destinations))))
        min_share = number(requirement.get("min_share"))
        min_count = number(requirement.get("min_count"))
        if min_share is not None:
            text = (
                words["destinations_all"]
                if min_share >= 1
                else words["destinations_share"].format(share=short_percent(min_share))
            )
            parts.append(ThresholdPart(text, "min_share", "part_min_share"))
        elif min_count is None or min_count <= 1:
            parts.append(ThresholdPart(words["destinations_any"]))
        else:
            parts.append(ThresholdPart(words["destinations_count"].format(count=f"{min_count:g}")))
    return parts


def short_percent(ratio: float) -> str:
    """0.5 -> '50%', 0.125 -> '12.5%'."""
    return f"{ratio * 100:.4g}%"


def requirement_tier(requirement: Mapping[str, Any]) -> str:
    """The requirement's tier: "basic" unless the summary says otherwise."""
    return str(requirement.get("tier") or BASIC_TIER)


def requirement_tiers(summary: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """The tier of every (circle_id, requirement_id) in the summary."""
    return {
        (str(circle.get("circle_id")), str(requirement.get("requirement_id"))): requirement_tier(
            requirement
        )
        for circle in summary.get("circles") or []
        for requirement in circle.get("requirements") or []
    }


# --- sources of numbers ------------------------------------------------------------------------

#: The tag of a number checked against its source; every other tag (or none) is unverified.
VERIFIED_TAG = "verified"


@dataclass(frozen=True)
class SourceText:
    """The reference and tag text of a number (or of the numbers of a threshold).

    Attributes
    ----------
    source : str or None
        The reference, as given.
    tag : str or None
        The tag as shown: translated, with an "(unverified)" mark unless it is ``verified``.
    unverified : bool
        Whether the number is shown and not tagged ``verified``.
    """

    source: str | None
    tag: str | None
    unverified: bool


def tag_text(tag: str, words: Mapping[str, str]) -> str:
    """A tag in the words' language ("recalled" -> "凭记忆"); unknown tags as they are."""
    return words.get(f"tag_{tag}", tag)


def ref_text(ref: Any, words: Mapping[str, str]) -> Any:
    """A source reference in the words' language.

    In Chinese, a bundled rule's reference is shown as rendered in
    :data:`circles.report.refs_zh.REFS_ZH`; any other with English words is shown as written,
    marked (``ref_untranslated``). Other references, or a missing one, are shown as they are.
    """
    if not isinstance(ref, str) or words.get("text_language", "en") == "en":
        return ref
    if ref in REFS_ZH:
        return REFS_ZH[ref]
    if _ENGLISH_WORD.search(_URL.sub("", ref)):
        return words["ref_untranslated"].format(ref=ref)
    return ref


def source_text(
    source: Mapping[str, Any] | None, value: Any, words: Mapping[str, str]
) -> SourceText:
    """Reference and tag of one number; a number without a ``verified`` tag is unverified.

    A missing number (None, NaN) is never marked: nothing is shown that could be doubted.
    ``words`` needs ``unverified_tag``, ``missing_tag`` and ``tag_<tag>``.
    """
    source = source or {}
    tag = source.get("tag")
    ref = ref_text(source.get("ref"), words)
    if value is None or is_nan(value):
        return SourceText(ref, None if tag is None else tag_text(str(tag), words), unverified=False)
    if tag == VERIFIED_TAG:
        return SourceText(ref, tag_text(VERIFIED_TAG, words), unverified=False)
    text = (
        words["unverified_tag"].format(tag=tag_text(str(tag), words))
        if tag
        else words["missing_tag"]
    )
    return SourceText(ref, text, unverified=True)


def threshold_source_text(
    requirement: Mapping[str, Any], words: Mapping[str, str]
) -> tuple[str | None, SourceText]:
    """The threshold text of a requirement and the sources of the numbers in it.

    A threshold of one number has that number's reference and tag; one of several (by zone
    and elsewhere, time and minimum share) lists each, named: "by zone: verified; elsewhere:
    default (unverified)". It is unverified when any of its numbers is.
    """
    parts = threshold_parts(requirement, words)
    text = "".join(part.text for part in parts) or None
    sources = requirement.get("sources") or {}
    named = [
        (
            words[part.part or ""],
            source_text(sources.get(part.source_key), requirement.get(part.source_key), words),
        )
        for part in parts
        if part.source_key is not None
    ]
    if not named:
        return text, SourceText(None, None, unverified=False)
    if len(named) == 1:
        return text, named[0][1]
    source = words["part_join"].join(
        words["part_source"].format(part=part, text=cells.source)
        for part, cells in named
        if cells.source
    )
    tag = words["part_join"].join(
        words["part_source"].format(part=part, text=cells.tag) for part, cells in named if cells.tag
    )
    return text, SourceText(
        source or None, tag or None, unverified=any(cells.unverified for _, cells in named)
    )
