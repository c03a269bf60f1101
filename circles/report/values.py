"""Value helpers shared by the report writers: missing numbers, gap flags, threshold text."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


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
