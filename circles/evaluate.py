"""Rule checks and coverage: costs → met per resident → population-weighted coverage and gaps.

Pure pandas/numpy: no files, no terminal. A resident meets a requirement when at least
``min_count`` distinct facilities of its types lie within the threshold (walking time at the
circle's speed, or network distance); it meets a circle when it meets every basic requirement.
Residents that could not be evaluated (off the network, no geometry) meet nothing but still count
in every population total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from circles.schema import Circle, Requirement

TOLERANCE_M = 1e-6
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
]


def threshold_m(requirement: Requirement, speed_m_s: float) -> float:
    """The requirement's threshold as a network distance in metres."""
    if requirement.max_distance_m is not None:
        return float(requirement.max_distance_m)
    assert requirement.max_time_s is not None
    return float(requirement.max_time_s * speed_m_s)


def requirement_met(cost_m: np.ndarray, requirement: Requirement, speed_m_s: float) -> np.ndarray:
    """Boolean per resident: the ``min_count``-th nearest facility lies within the threshold.

    Parameters
    ----------
    cost_m
        ``n_residents × k`` distances to the nearest distinct facilities, best first, NaN where
        none within reach; ``k`` must be at least ``min_count``.
    requirement
        The requirement to check.
    speed_m_s
        The circle's speed, turning a time threshold into metres.
    """
    kth = cost_m[:, requirement.min_count - 1]
    with np.errstate(invalid="ignore"):
        return kth <= threshold_m(requirement, speed_m_s) + TOLERANCE_M


def checks(
    circles: Sequence[Circle],
    costs: dict[tuple[str, ...], np.ndarray],
    speeds_m_s: dict[str, float],
) -> dict[tuple[str, str], np.ndarray]:
    """Met arrays keyed by ``(circle_id, requirement_id)``; ``""`` is the whole circle.

    A resident meets the whole circle when it meets every basic requirement (every
    requirement of a quality-tier circle).
    """
    out: dict[tuple[str, str], np.ndarray] = {}
    for circle in circles:
        speed = speeds_m_s[circle.id]
        for req in circle.requirements:
            out[(circle.id, req.id)] = requirement_met(costs[req.facility_types], req, speed)
        gating = [out[(circle.id, req.id)] for req in circle.gating()]
        out[(circle.id, "")] = np.logical_and.reduce(gating)
    return out


def _is_gap(ratio: np.ndarray, target: float | None) -> list[bool | None]:
    if target is None:
        return [None] * len(ratio)
    return [None if np.isnan(r) else bool(r < target - 1e-12) for r in ratio]


def coverage(
    residents: pd.DataFrame,
    circles: Sequence[Circle],
    met: dict[tuple[str, str], np.ndarray],
    community_ids: Sequence[str],
) -> pd.DataFrame:
    """Population-weighted coverage, overall and per community, for circles and requirements.

    Parameters
    ----------
    residents
        Columns ``community_id`` and ``population``, aligned with the met arrays.
    circles
        The circles evaluated.
    met
        Output of :func:`checks`.
    community_ids
        Every community to report, in order (including those with no residents); residents in
        other communities (``unassigned``) are appended.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`.
    """
    communities = list(dict.fromkeys([*community_ids, *residents["community_id"].unique()]))
    codes = pd.Categorical(residents["community_id"], categories=communities).codes
    population = residents["population"].to_numpy(dtype=float)
    n_comm = len(communities)
    res_total = np.bincount(codes, minlength=n_comm)
    pop_total = np.bincount(codes, weights=population, minlength=n_comm)
    frames = []
    for circle in circles:
        targets = {"": circle.target_coverage} | {
            r.id: r.target_coverage for r in circle.requirements
        }
        for req_id in ["", *(r.id for r in circle.requirements)]:
            m = met[(circle.id, req_id)]
            res_met = np.bincount(codes, weights=m.astype(float), minlength=n_comm)
            pop_met = np.bincount(codes, weights=population * m, minlength=n_comm)
            target = targets[req_id]
            all_total, all_met = float(pop_total.sum()), float(pop_met.sum())
            tot = np.concatenate([[all_total], pop_total])
            got = np.concatenate([[all_met], pop_met])
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(tot > 0, got / np.where(tot > 0, tot, 1), np.nan)
            frames.append(
                pd.DataFrame(
                    {
                        "circle_id": circle.id,
                        "requirement_id": req_id,
                        "scope": ["overall"] + ["community"] * n_comm,
                        "community_id": ["", *communities],
                        "residents_total": np.concatenate([[res_total.sum()], res_total]).astype(
                            int
                        ),
                        "residents_met": np.rint(np.concatenate([[res_met.sum()], res_met])).astype(
                            int
                        ),
                        "population_total": tot,
                        "population_met": got,
                        "coverage_ratio": ratio,
                        "target_coverage": np.nan if target is None else float(target),
                        "is_gap": _is_gap(ratio, target),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["is_gap"] = out["is_gap"].astype(object)
    return out[COVERAGE_COLUMNS]
