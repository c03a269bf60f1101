"""The 城市体检 (urban health check) table: indicators per 社区, rolled up by 街道 and 区.

From an audit's summary, coverage table and (for residential-land-area coverage) residents
table, :func:`checkup_table` builds one row per indicator, requirement, method and area:

- an **indicator** stands for every requirement the audit ran whose facility types include
  one of the indicator's (:mod:`circles.report.checkup_words`); hub requirements have none;
- **methods**: ``population`` (population-weighted coverage, the coverage table's) and, when
  the residents were polygons (an ``area_m2`` column), ``residential_area`` (the share of the
  residents' polygon area whose residents meet the requirement, from the
  ``<circle>/<requirement>`` 0/1 columns; residents given as points, without an area, are
  left out of it); ``seats`` for a seat-shortfall indicator, read
  from the ``shortfall_units`` of a capacity requirement's coverage rows;
- **levels**: ``community`` rows (社区; "unassigned" residents are no community), then
  ``subdistrict`` roll-ups (街道), then the ``district`` row (区, the whole study area);
- a **problem community** is one whose coverage is below the requirement's target, or whose
  seat shortfall is above zero; a community without residents (no coverage) and without a
  shortfall is not evaluated. A roll-up row gives the area's own coverage (or the sum of its
  communities' seat shortfalls), the communities evaluated, the problem communities and
  their share (problem communities / communities evaluated).

Pure: no IO. Columns are those of :data:`CHECKUP_COLUMNS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from circles.report.checkup_words import INDICATORS, SHORTFALL_INDICATORS, Indicator

__all__ = ["CHECKUP_COLUMNS", "LEVELS", "METHODS", "checkup_table"]

#: The columns of the table (and of city_checkup.csv), in order.
CHECKUP_COLUMNS = [
    "indicator",
    "indicator_zh",
    "indicator_en",
    "indicator_kind",
    "verification",
    "circle_id",
    "requirement_id",
    "level",
    "subdistrict",
    "community_id",
    "method",
    "value",
    "unit",
    "target_coverage",
    "is_problem",
    "communities_total",
    "communities_problem",
    "problem_share",
]
#: Row levels, in order: 社区, 街道, 区.
LEVELS = ("community", "subdistrict", "district")
#: Methods: population-weighted, residential-land-area-weighted, seat shortfall.
METHODS = ("population", "residential_area", "seats")

_UNASSIGNED = "unassigned"
_TOLERANCE = 1e-12  # as the coverage table's is_gap: below target by more than rounding
AREA_COLUMN = "area_m2"
SHORTFALL_COLUMN = "shortfall_units"


def _number(value: Any) -> float:
    """A finite float, or NaN (None, NA, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _fails(ratio: float, target: float, shortfall: float) -> bool | None:
    """Whether a community fails: coverage below target or seats short; None if neither known."""
    verdicts = []
    if not math.isnan(ratio) and not math.isnan(target):
        verdicts.append(ratio < target - _TOLERANCE)
    if not math.isnan(shortfall):
        verdicts.append(shortfall > 0)
    return any(verdicts) if verdicts else None


def _ordered() -> list[Indicator]:
    """Every indicator; a seat-shortfall one right after the coverage one of its type."""
    ordered: list[Indicator] = []
    for indicator in INDICATORS:
        ordered.append(indicator)
        ordered += [
            seats
            for seats in SHORTFALL_INDICATORS
            if seats.facility_types & indicator.facility_types and seats not in ordered
        ]
    return ordered + [seats for seats in SHORTFALL_INDICATORS if seats not in ordered]


class _Areas:
    """Communities, their sub-districts and order, from the summary and coverage table."""

    def __init__(self, summary: Mapping[str, Any], coverage: pd.DataFrame) -> None:
        self.subdistrict_of = {
            str(c["community_id"]): str(c.get("subdistrict") or "")
            for c in summary.get("communities") or []
        }
        scopes = coverage["scope"].astype(str)
        ids = coverage.loc[scopes == "community", "community_id"].astype(str)
        communities = [c for c in dict.fromkeys(ids) if c != _UNASSIGNED]
        self.subdistricts = list(
            dict.fromkeys(coverage.loc[scopes == "subdistrict", "community_id"].astype(str))
        )
        for name in self.subdistrict_of.values():
            if name and name not in self.subdistricts:
                self.subdistricts.append(name)
        rank = {name: index for index, name in enumerate(self.subdistricts)}
        # communities grouped by sub-district (those without one last), else in report order
        self.communities = sorted(
            communities,
            key=lambda c: rank.get(self.subdistrict_of.get(c, ""), len(rank)),
        )


def _area_coverage(residents: pd.DataFrame, column: str, groups: pd.Series) -> dict[str, float]:
    """Area-weighted share meeting ``column`` per group (NaN where the group has no area)."""
    area = pd.to_numeric(residents[AREA_COLUMN], errors="coerce").fillna(0.0).to_numpy()
    met = pd.to_numeric(residents[column], errors="coerce").fillna(0.0).to_numpy() > 0
    frame = pd.DataFrame({"group": groups.to_numpy(), "area": area, "met": area * met})
    sums = frame.groupby("group", sort=False)[["area", "met"]].sum()
    return {
        str(group): (row.met / row.area if row.area > 0 else math.nan)
        for group, row in sums.iterrows()
    }


def _has_areas(residents: pd.DataFrame | None) -> bool:
    if residents is None or AREA_COLUMN not in residents.columns:
        return False
    area = pd.to_numeric(residents[AREA_COLUMN], errors="coerce")
    return bool((area > 0).any())


def _requirements(summary: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for circle in summary.get("circles") or []:
        for requirement in circle.get("requirements") or []:
            yield str(circle["circle_id"]), requirement


def checkup_table(
    summary: Mapping[str, Any],
    coverage: pd.DataFrame,
    residents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The 城市体检 table of an audit (see the module docstring for its rows).

    Parameters
    ----------
    summary : mapping
        The audit summary (summary.json): circles, requirements with their facility types,
        communities with their sub-districts.
    coverage : pandas.DataFrame
        The coverage table (coverage.csv); with ``need_units``, ``supply_units`` and
        ``shortfall_units`` for capacity requirements when the audit has them.
    residents : pandas.DataFrame, optional
        The residents table (residents.csv); with an ``area_m2`` column (residents given as
        polygons) the residential-land-area rows are added.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHECKUP_COLUMNS`; no rows when no requirement stands for an indicator.
    """
    areas = _Areas(summary, coverage)
    with_areas = _has_areas(residents)
    rows: list[dict[str, Any]] = []
    requirements = list(_requirements(summary))
    for indicator in _ordered():
        for circle_id, requirement in requirements:
            types = {str(t) for t in requirement.get("facility_types") or []}
            if not indicator.facility_types & types:
                continue
            requirement_id = str(requirement["requirement_id"])
            picked = coverage[
                (coverage["circle_id"].astype(str) == circle_id)
                & (coverage["requirement_id"].astype(str) == requirement_id)
            ]
            if indicator.shortfall:
                methods = ["seats"] if _has_shortfall(picked) else []
            else:
                methods = ["population"] + (["residential_area"] if with_areas else [])
            for method in methods:
                rows += _block(indicator, circle_id, requirement, method, picked, areas, residents)
    frame = pd.DataFrame(rows, columns=CHECKUP_COLUMNS)
    frame["is_problem"] = frame["is_problem"].astype("boolean")
    for column in ("communities_total", "communities_problem"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _has_shortfall(picked: pd.DataFrame) -> bool:
    if SHORTFALL_COLUMN not in picked.columns:
        return False
    return bool(pd.to_numeric(picked[SHORTFALL_COLUMN], errors="coerce").notna().any())


class _Values:
    """Coverage (or seats short) of a community, sub-district or the whole area, by method."""

    def __init__(
        self,
        method: str,
        column: str,
        picked: pd.DataFrame,
        areas: _Areas,
        residents: pd.DataFrame | None,
    ) -> None:
        self.method = method
        self.by_scope = {
            (str(r["scope"]), str(r["community_id"])): r for r in picked.to_dict(orient="records")
        }
        self.by_area: dict[str, dict[str, float]] = {}
        if method == "residential_area":
            assert residents is not None
            community = residents["community_id"].astype(str)
            subdistrict = community.map(areas.subdistrict_of).fillna("")
            self.by_area = {
                "community": _area_coverage(residents, column, community),
                "subdistrict": _area_coverage(residents, column, subdistrict),
                "overall": _area_coverage(residents, column, pd.Series("", index=residents.index)),
            }

    def value(self, scope: str, name: str) -> float:
        """The coverage ratio (seats short for ``seats``) of a scope's area; NaN if unknown."""
        if self.by_area:
            return self.by_area[scope].get(name, math.nan)
        key = SHORTFALL_COLUMN if self.method == "seats" else "coverage_ratio"
        return _number(self.by_scope.get((scope, name), {}).get(key))

    def problem(self, name: str, target: float) -> bool | None:
        """Whether a community fails (None when it cannot be judged)."""
        value = self.value("community", name)
        if self.method == "seats":
            return None if math.isnan(value) else value > 0
        shortfall = math.nan
        if self.method == "population":
            shortfall = _number(self.by_scope.get(("community", name), {}).get(SHORTFALL_COLUMN))
        return _fails(value, target, shortfall)


def _block(
    indicator: Indicator,
    circle_id: str,
    requirement: Mapping[str, Any],
    method: str,
    picked: pd.DataFrame,
    areas: _Areas,
    residents: pd.DataFrame | None,
) -> list[dict[str, Any]]:
    """The rows of one indicator, requirement and method: communities, sub-districts, district."""
    requirement_id = str(requirement["requirement_id"])
    column = f"{circle_id}/{requirement_id}"
    if method == "residential_area" and (residents is None or column not in residents.columns):
        return []
    target = _number(requirement.get("target_coverage"))
    if math.isnan(target) and "target_coverage" in picked.columns and len(picked):
        target = _number(picked["target_coverage"].iloc[0])
    values = _Values(method, column, picked, areas, residents)
    base = {
        "indicator": indicator.key,
        "indicator_zh": indicator.zh,
        "indicator_en": indicator.en,
        "indicator_kind": indicator.kind,
        "verification": indicator.tag,
        "circle_id": circle_id,
        "requirement_id": requirement_id,
        "method": method,
        "unit": "seats" if method == "seats" else "ratio",
        "target_coverage": math.nan if method == "seats" else target,
    }
    rows: list[dict[str, Any]] = []
    problems: dict[str, bool | None] = {}
    for name in areas.communities:
        problems[name] = values.problem(name, target)
        rows.append(
            base
            | {
                "level": "community",
                "subdistrict": areas.subdistrict_of.get(name, ""),
                "community_id": name,
                "value": values.value("community", name),
                "is_problem": problems[name],
            }
        )

    def rollup(level: str, name: str, members: list[str]) -> dict[str, Any]:
        verdicts = [problems[m] for m in members if problems[m] is not None]
        total, failing = len(verdicts), sum(bool(v) for v in verdicts)
        if method == "seats":  # seats short do not offset between communities: a sum
            short = [values.value("community", m) for m in members]
            value = float(np.nansum(short)) if any(not math.isnan(v) for v in short) else math.nan
        else:
            value = values.value("overall" if level == "district" else level, name)
        return base | {
            "level": level,
            "subdistrict": name if level == "subdistrict" else "",
            "community_id": "",
            "value": value,
            "is_problem": None,
            "communities_total": total,
            "communities_problem": failing,
            "problem_share": failing / total if total else math.nan,
        }

    for name in areas.subdistricts:
        members = [c for c in areas.communities if areas.subdistrict_of.get(c, "") == name]
        rows.append(rollup("subdistrict", name, members))
    rows.append(rollup("district", "", list(areas.communities)))
    return rows
