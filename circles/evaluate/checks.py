"""Rule checks and coverage: costs → met per resident → population-weighted coverage and gaps.

Pure pandas/numpy: no files, no terminal. A resident meets a requirement when at least
``min_count`` distinct facilities of its types lie within the threshold (a walking time at the
circle's speed, a network distance, or a driving time for the resident's zone); it meets a
circle when it meets every basic requirement.
Residents that could not be evaluated (off the network, no geometry) meet nothing but still count
in every population total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from circles.evaluate.stats import group_weighted_medians
from circles.rules.schema import Circle, Requirement

TOLERANCE = 1e-6  # metres or seconds
COVERAGE_COLUMNS = [
    "circle_id",
    "requirement_id",
    "scope",
    "community_id",
    "residents_total",
    "residents_met",
    "population_total",
    "population_met",
    "coverage_ratio",
    "target_coverage",
    "is_gap",
    "median_min_not_met",
]


#: per-resident units of capacity requirements, summed like the populations
UNIT_KEYS = ("need_units", "supply_units", "shortfall_units", "unserved_units")


def walk_threshold_m(requirement: Requirement, speed_m_s: float, minutes: np.ndarray) -> np.ndarray:
    """Walking threshold in metres per resident: the distance, or the minutes at the speed."""
    if requirement.max_distance_m is not None:
        return np.full(len(minutes), float(requirement.max_distance_m))
    return minutes * 60.0 * speed_m_s


def facility_met(cost: np.ndarray, min_count: int, limit: np.ndarray) -> np.ndarray:
    """Boolean per resident: the ``min_count``-th nearest facility lies within ``limit``.

    Parameters
    ----------
    cost
        ``n_residents × k`` costs to the nearest distinct facilities, best first, NaN where
        none within reach; ``k`` must be at least ``min_count``.
    min_count
        How many facilities must be within the limit.
    limit
        Per-resident limit in the same unit as ``cost`` (metres walking, seconds driving).
    """
    kth = cost[:, min_count - 1]
    with np.errstate(invalid="ignore"):
        return kth <= limit + TOLERANCE


def circle_met(circle: Circle, met: dict[tuple[str, str], np.ndarray]) -> np.ndarray:
    """A resident meets a circle when it meets every basic requirement of it.

    (Every requirement, for a circle whose requirements are all quality-tier.)
    """
    return np.logical_and.reduce([met[(circle.id, r.id)] for r in circle.gating()])


def _is_gap(ratio: np.ndarray, target: float | None) -> list[bool | None]:
    if target is None:
        return [None] * len(ratio)
    return [None if np.isnan(r) else bool(r < target - 1e-12) for r in ratio]


def _joined(parts: list) -> np.ndarray | list:
    """One column from its parts: arrays end to end, or lists (texts, gap flags) chained."""
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    return [value for part in parts for value in part]


def coverage(
    residents: pd.DataFrame,
    circles: Sequence[Circle],
    met: dict[tuple[str, str], np.ndarray],
    community_ids: Sequence[str],
    *,
    subdistricts: dict[str, str] | None = None,
    times_min: dict[tuple[str, str], np.ndarray] | None = None,
    units: dict[tuple[str, str], dict[str, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Population-weighted coverage: overall, per community and per sub-district.

    Parameters
    ----------
    residents
        Columns ``community_id`` and ``population``, aligned with the met arrays.
    circles
        The circles evaluated.
    met
        Met arrays keyed by ``(circle_id, requirement_id)``; ``""`` is the whole circle.
    community_ids
        Every community to report, in order (including those with no residents); residents in
        other communities (``unassigned``) are appended.
    subdistricts
        Community id → sub-district (街道); when given, rows with scope ``subdistrict`` roll the
        communities up (their ``community_id`` column holds the sub-district name).
    times_min
        Per requirement, each resident's time to what it needs (NaN when none in reach); gives
        ``median_min_not_met``, the population-weighted median time of those who miss it.
    units
        Capacity requirements: per resident ``need_units``, ``supply_units`` and
        ``shortfall_units`` (seats, beds…); summed into columns of those names (empty for the
        other requirements). Without any, the columns are left out.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`; ``scope`` is overall, community or subdistrict.
    """
    communities = list(dict.fromkeys([*community_ids, *residents["community_id"].unique()]))
    codes = pd.Categorical(residents["community_id"], categories=communities).codes
    population = residents["population"].to_numpy(dtype=float)
    groups: list[tuple[str, list[str], np.ndarray]] = [
        ("overall", [""], np.zeros(len(communities), dtype=np.int64)),
        ("community", communities, np.arange(len(communities))),
    ]
    if subdistricts:
        names = list(dict.fromkeys(v for c in communities if (v := subdistricts.get(c))))
        index = {name: i for i, name in enumerate(names)}
        # communities with no sub-district (and unassigned residents) roll up to none
        parent = np.array([index.get(subdistricts.get(c, ""), -1) for c in communities])
        groups.append(("subdistrict", names, parent))
    columns: dict[str, list] = {}  # each column's parts, joined once at the end
    residents_total = np.bincount(codes, minlength=len(communities)).astype(float)
    population_total = np.bincount(codes, weights=population, minlength=len(communities))
    for circle in circles:
        targets = {"": circle.target_coverage} | {
            r.id: r.target_coverage for r in circle.requirements
        }
        for req_id in ["", *(r.id for r in circle.requirements)]:
            m = met[(circle.id, req_id)]
            extra = {
                key: values
                for key, values in (units or {}).get((circle.id, req_id), {}).items()
                if key in UNIT_KEYS
            }
            per_comm = {
                "residents_total": residents_total,
                "residents_met": np.bincount(
                    codes, weights=m.astype(float), minlength=len(communities)
                ),
                "population_total": population_total,
                "population_met": np.bincount(
                    codes, weights=population * m, minlength=len(communities)
                ),
                **{
                    key: np.bincount(codes, weights=values, minlength=len(communities))
                    for key, values in extra.items()
                },
            }
            target = targets[req_id]
            times = (times_min or {}).get((circle.id, req_id))
            by_value = None
            if times is not None:  # those who miss it and have a time, by time
                missed = ~m.astype(bool)
                rows = np.flatnonzero(missed & np.isfinite(times) & (population > 0))
                by_value = rows[np.argsort(times[rows])]
            for scope, labels, parent in groups:
                if times is None:
                    medians = np.full(len(labels), np.nan)
                else:
                    group = parent[codes]
                    medians = group_weighted_medians(
                        np.where(missed, group, -1), times, population, len(labels), by_value
                    )
                keep = parent >= 0
                sums = {
                    key: np.bincount(parent[keep], weights=values[keep], minlength=len(labels))
                    for key, values in per_comm.items()
                }
                tot, got = sums["population_total"], sums["population_met"]
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio = np.where(tot > 0, got / np.where(tot > 0, tot, 1), np.nan)
                n = len(labels)
                part = {
                    "circle_id": [circle.id] * n,
                    "requirement_id": [req_id] * n,
                    "scope": [scope] * n,
                    "community_id": list(labels),
                    "residents_total": np.rint(sums["residents_total"]).astype(int),
                    "residents_met": np.rint(sums["residents_met"]).astype(int),
                    "population_total": tot,
                    "population_met": got,
                    "coverage_ratio": ratio,
                    "target_coverage": np.full(n, np.nan if target is None else float(target)),
                    "is_gap": _is_gap(ratio, target),
                    "median_min_not_met": np.round(medians, 2),
                    **{
                        key: np.round(sums[key], 3) if key in sums else np.full(n, np.nan)
                        for key in (UNIT_KEYS if units else ())
                    },
                }
                for key, values in part.items():
                    columns.setdefault(key, []).append(values)
    out = pd.DataFrame({key: _joined(parts) for key, parts in columns.items()})
    out["is_gap"] = out["is_gap"].astype(object)
    return out[COVERAGE_COLUMNS + (list(UNIT_KEYS) if units else [])]
