"""The report model: one typed view of an audit that the terminal, Excel and map writers read.

Built once from the summary (the content of summary.json) and the coverage table by
:func:`build_report_model`. It holds what several writers need and must agree on: the circles
and their order, each circle's whole-circle and requirement rows with their gap state, each
circle's effective target, the whole-circle coverage of every community, the gaps in one
order (basic requirements first, the largest population not met first) and the communities
worst first. Writers format; they do not re-derive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from circles.report.values import (
    BASIC_TIER,
    coverage_records,
    gap_state,
    is_true,
    number,
    requirement_tier,
    requirement_tiers,
)

__all__ = [
    "CommunityRow",
    "Gap",
    "ReportModel",
    "RequirementRow",
    "build_report_model",
    "population_not_met",
]


def population_not_met(record: Mapping[str, Any] | None) -> float | None:
    """Population not meeting a requirement (total - met), or None when either is missing."""
    if record is None:
        return None
    total, met = number(record.get("population_total")), number(record.get("population_met"))
    return None if total is None or met is None else total - met


@dataclass(frozen=True)
class Gap:
    """A (community, requirement) below its target.

    Attributes
    ----------
    community_id, circle_id, requirement_id : str
        Where the gap is.
    tier : str
        The requirement's tier ("basic" counts towards the whole circle).
    population_total : float or None
        Population of the community.
    population_not_met : float or None
        Population not meeting the requirement (None when the coverage row lacks it).
    record : mapping
        The coverage row itself (coverage ratio, target, median minutes of those not met).
    """

    community_id: str
    circle_id: str
    requirement_id: str
    tier: str
    population_total: float | None
    population_not_met: float | None
    record: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def target(self) -> Any:
        """The target the coverage row was held to (``target_coverage``), as given."""
        return self.record.get("target_coverage")

    @property
    def is_basic(self) -> bool:
        """Whether the requirement counts towards its circle's whole-circle coverage."""
        return self.tier == BASIC_TIER

    def sort_key(self) -> tuple[bool, float, str, str, str]:
        """Basic requirements first, then the largest population not met, then the ids."""
        return (
            not self.is_basic,
            -(self.population_not_met or 0.0),
            self.community_id,
            self.circle_id,
            self.requirement_id,
        )


@dataclass(frozen=True)
class RequirementRow:
    """A circle's whole-circle row or one of its requirements, as the summary gives it.

    Attributes
    ----------
    circle_id : str
        The circle.
    requirement_id : str
        The requirement; ``""`` for the whole circle.
    tier : str or None
        The requirement's tier ("basic" unless said otherwise); the circle's as given.
    target : Any
        ``target_coverage`` as given (None when the circle has no target of its own).
    overall : mapping
        The overall population, population met, coverage ratio and gap flag.
    gap : bool or None
        The gap flag as given, else coverage < target; None without a target or people.
    item : mapping
        The summary's circle or requirement itself (names, thresholds, sources).
    """

    circle_id: str
    requirement_id: str
    tier: str | None
    target: Any
    overall: Mapping[str, Any] = field(repr=False)
    gap: bool | None
    item: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CommunityRow:
    """A community's residents, population, lowest whole-circle coverage and people not met.

    ``residents`` and ``population`` are the summary's, else the largest of its coverage rows.
    ``worst_coverage`` is ``inf`` when no circle has a coverage there. ``population_not_met``
    is the population not meeting a whole circle, summed over the circles (a resident missing
    two circles counts twice).
    """

    community_id: str
    residents: float | int | None
    population: float | int | None
    worst_coverage: float
    population_not_met: float = 0.0

    def sort_key(self) -> tuple[bool, float, float, str]:
        """Communities with population first, the lowest coverage, the most not met, the id."""
        return (
            not self.population,
            self.worst_coverage,
            -self.population_not_met,
            self.community_id,
        )

    def not_met_key(self) -> tuple[float, float, str]:
        """The most population not met first, then the lowest coverage, then by id."""
        return (-self.population_not_met, self.worst_coverage, self.community_id)


@dataclass
class ReportModel:
    """One audit as the report writers read it.

    Attributes
    ----------
    summary : mapping
        The summary as given (run, counts, networks, warnings, ...).
    records : list of dict
        Coverage rows with ids as strings (missing ids as "").
    circles : dict
        The summary's circles by id, in summary order.
    circle_ids : list of str
        Circle ids in summary order, then those only in the coverage table.
    requirements : dict
        The summary's requirements by (circle_id, requirement_id).
    tiers : dict
        The tier of every (circle_id, requirement_id) of the summary.
    circle_rows : dict
        By circle id, in summary order: the whole-circle row, then one row per requirement.
    effective_targets : dict
        Each circle's own target, else its highest basic requirement target, else None.
    community_info : dict
        The summary's communities by id.
    community_ids : list of str
        Community ids in summary order, then those only in the coverage table.
    whole : dict
        Whole-circle community coverage rows by (community_id, circle_id).
    gap_circles : set
        (community_id, circle_id) pairs where a basic requirement (or the whole circle) is
        below target.
    gaps : list of Gap
        Every (community, requirement) gap, in :meth:`Gap.sort_key` order.
    communities : list of CommunityRow
        Every community, worst first (:meth:`CommunityRow.sort_key`).
    """

    summary: Mapping[str, Any]
    records: list[dict[str, Any]]
    circles: dict[str, Mapping[str, Any]]
    circle_ids: list[str]
    requirements: dict[tuple[str, str], Mapping[str, Any]]
    tiers: dict[tuple[str, str], str]
    circle_rows: dict[str, list[RequirementRow]]
    effective_targets: dict[str, float | None]
    community_info: dict[str, Mapping[str, Any]]
    community_ids: list[str]
    whole: dict[tuple[str, str], dict[str, Any]]
    gap_circles: set[tuple[str, str]]
    gaps: list[Gap]
    communities: list[CommunityRow]
    _community_rows: dict[str, CommunityRow] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._community_rows = {row.community_id: row for row in self.communities}

    def community(self, community_id: str) -> CommunityRow | None:
        """The row of a community (None when unknown)."""
        return self._community_rows.get(community_id)

    def communities_by_not_met(self) -> list[CommunityRow]:
        """Communities with the most population not meeting the circles first."""
        return sorted(self.communities, key=CommunityRow.not_met_key)

    def largest_gap(self) -> dict[str, Gap]:
        """The first gap of each community in gap order (its largest basic one)."""
        out: dict[str, Gap] = {}
        for gap in self.gaps:
            out.setdefault(gap.community_id, gap)
        return out


def build_report_model(summary: Mapping[str, Any], coverage: pd.DataFrame) -> ReportModel:
    """The report model of an audit.

    Parameters
    ----------
    summary : mapping
        The audit summary (the content of summary.json).
    coverage : pandas.DataFrame
        Coverage by circle, requirement (``""`` for the whole circle), scope and community.

    Returns
    -------
    ReportModel
        Circles, targets, gaps and communities, each derived once.
    """
    records = coverage_records(coverage)
    circles = {str(c.get("circle_id")): c for c in summary.get("circles") or []}
    circle_ids = list(circles)
    for record in records:
        if record["circle_id"] not in circle_ids:
            circle_ids.append(record["circle_id"])
    requirements = {
        (circle_id, str(r.get("requirement_id"))): r
        for circle_id, circle in circles.items()
        for r in circle.get("requirements") or []
    }
    tiers = requirement_tiers(summary)
    community_info = {str(c.get("community_id")): c for c in summary.get("communities") or []}
    community_ids = list(community_info)
    for record in records:
        if record["scope"] == "community" and record["community_id"] not in community_ids:
            community_ids.append(record["community_id"])
    whole, gap_circles, gaps = _community_gaps(records, tiers)
    return ReportModel(
        summary=summary,
        records=records,
        circles=circles,
        circle_ids=circle_ids,
        requirements=requirements,
        tiers=tiers,
        circle_rows={key: _circle_rows(key, circle) for key, circle in circles.items()},
        effective_targets={key: effective_target(c) for key, c in circles.items()},
        community_info=community_info,
        community_ids=community_ids,
        whole=whole,
        gap_circles=gap_circles,
        gaps=gaps,
        communities=_communities(community_ids, community_info, circle_ids, whole),
    )


def _circle_rows(circle_id: str, circle: Mapping[str, Any]) -> list[RequirementRow]:
    """The whole-circle row of a circle, then one row per requirement, in summary order."""
    rows = []
    for requirement_id, tier, item in [
        ("", circle.get("tier"), circle),
        *(
            (str(r.get("requirement_id")), requirement_tier(r), r)
            for r in circle.get("requirements") or []
        ),
    ]:
        overall = item.get("overall") or {}
        target = item.get("target_coverage")
        gap = gap_state(overall.get("is_gap"), overall.get("coverage_ratio"), target)
        rows.append(RequirementRow(circle_id, requirement_id, tier, target, overall, gap, item))
    return rows


def effective_target(circle: Mapping[str, Any] | None) -> float | None:
    """The circle's own target, else its highest basic requirement target, else None."""
    if circle is None:
        return None
    target = number(circle.get("target_coverage"))
    if target is not None:
        return target
    targets = [
        t
        for t in (
            number(r.get("target_coverage"))
            for r in circle.get("requirements") or []
            if requirement_tier(r) == BASIC_TIER
        )
        if t is not None
    ]
    return max(targets) if targets else None


def _community_gaps(
    records: Iterable[dict[str, Any]], tiers: Mapping[tuple[str, str], str]
) -> tuple[dict[tuple[str, str], dict[str, Any]], set[tuple[str, str]], list[Gap]]:
    """Whole-circle rows by (community, circle), circles with a basic gap, requirement gaps."""
    whole: dict[tuple[str, str], dict[str, Any]] = {}
    gap_circles: set[tuple[str, str]] = set()
    gaps: list[Gap] = []
    for record in records:
        if record["scope"] != "community":
            continue
        community_id, circle_id = record["community_id"], record["circle_id"]
        requirement_id = record["requirement_id"]
        if requirement_id == "":
            whole[(community_id, circle_id)] = record
        if not is_true(record.get("is_gap")):
            continue
        tier = tiers.get((circle_id, requirement_id), BASIC_TIER)
        if tier == BASIC_TIER:  # quality requirements do not count towards the whole circle
            gap_circles.add((community_id, circle_id))
        if requirement_id == "":
            continue
        gaps.append(
            Gap(
                community_id,
                circle_id,
                requirement_id,
                tier,
                number(record.get("population_total")),
                population_not_met(record),
                record,
            )
        )
    gaps.sort(key=Gap.sort_key)
    return whole, gap_circles, gaps


def _communities(
    community_ids: Iterable[str],
    info: Mapping[str, Mapping[str, Any]],
    circle_ids: Iterable[str],
    whole: Mapping[tuple[str, str], Mapping[str, Any]],
) -> list[CommunityRow]:
    """Every community with its residents, population and lowest coverage, worst first."""
    circle_ids = list(circle_ids)
    rows = []
    for community_id in community_ids:
        found = [whole[(community_id, c)] for c in circle_ids if (community_id, c) in whole]
        known = info.get(community_id, {})
        residents = known.get("residents")  # as given: counts stay integers
        if number(residents) is None:
            residents = max_of(found, "residents_total")
        population = known.get("population")
        if number(population) is None:
            population = max_of(found, "population_total")
        ratios = [r for r in (number(row["coverage_ratio"]) for row in found) if r is not None]
        worst = min(ratios) if ratios else math.inf
        not_met = sum(n for n in map(population_not_met, found) if n is not None)
        rows.append(CommunityRow(community_id, residents, population, worst, float(not_met)))
    rows.sort(key=CommunityRow.sort_key)
    return rows


def max_of(rows: Iterable[Mapping[str, Any]], key: str) -> float | None:
    """The largest number under ``key`` in ``rows`` (None when there is none)."""
    values = [v for v in (number(row.get(key)) for row in rows) if v is not None]
    return max(values) if values else None
