"""The facility-side view: per existing facility, who it serves and what closing it would cost.

For every walking or driving requirement and every facility of its type(s) (any of them for an
any-of requirement), the residents it reaches within the requirement's threshold (each
resident's own, by zone) as the audit prices them (:mod:`circles.suggest.demand`), and of
those:

- ``population_sole``: the residents for whom it is the only facility of the types within the
  threshold (count 1, whatever ``min_count`` is);
- ``population_lost``: the residents who meet the requirement now and would not without it
  (they have exactly ``min_count`` facilities within the threshold, and it is one of them).
  Closing it lowers the requirement's ``population_met`` by exactly this much, and the
  overall coverage by ``coverage_lost`` (over the same ``population_total``).

Facilities off the requirement's network (or without a location) reach nobody: zeros. Hub
circles (stations and line-haul tables) are not covered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles.evaluate.zones import limits
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK, UNASSIGNED, assign_communities
from circles.suggest.demand import (
    Demand,
    demand_of,
    facility_rows,
    network_of,
    site_graph,
)

if TYPE_CHECKING:
    from circles.audit import AuditResult

#: The columns of the facility-side table, in order.
IMPACT_COLUMNS = [
    "circle_id",
    "requirement_id",
    "facility_id",
    "facility_type",
    "facility_name",
    "community_id",
    "status",
    "residents_within",
    "population_within",
    "population_sole",
    "population_lost",
    "coverage_lost",
]
_NO_SITES = np.zeros((0, 2))


def facility_impact(result: AuditResult) -> pd.DataFrame:
    """One row per (walking or driving requirement, facility of its types): see the module.

    Parameters
    ----------
    result
        An audit run with ``keep_internals`` (``result.internals`` set).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`IMPACT_COLUMNS`; circles and requirements in rule order, and within a
        requirement the largest ``population_lost`` first (then ``population_within``, then
        the facilities file's order). ``community_id`` is the community polygon holding the
        facility (``unassigned`` outside them; empty without community polygons).
    """
    internals = result.internals
    if internals is None:
        raise ValueError("facility_impact needs an audit run with keep_internals=True")
    facilities = internals.placed.facilities
    types = facilities["facility_type"].to_numpy(dtype=object)
    population = internals.placed.residents["population"].to_numpy(dtype=float)
    n_residents = len(population)
    community = _facility_communities(result)
    totals = _population_totals(result.coverage)
    frames = [pd.DataFrame({column: [] for column in IMPACT_COLUMNS})]
    for loaded in result.circles:
        circle = loaded.circle
        if circle.mode not in ("walk", "drive"):
            continue
        net = network_of(internals.nets, circle)
        sites = site_graph(net, circle, _NO_SITES, 0.0)  # no candidate sites: the snap is moot
        status = _status(facilities["status"].to_numpy(dtype=object), net.snapped()[1].on_network)
        zone = internals.checks.zone_columns.get(
            f"{circle.id}_zone", np.full(n_residents, "", dtype=object)
        )
        evaluable = internals.evaluable[circle.id]
        speed_m_s = internals.costs.speeds_m_s.get(circle.id)
        for requirement in circle.requirements:
            limit = limits(circle, requirement, zone, speed_m_s, evaluable)
            rows = facility_rows(facilities, requirement)
            demand = demand_of(circle, requirement, sites, types, population, evaluable, limit)
            residents_within = demand.existing.sizes.astype(np.int64)
            within, sole, lost = _sums(demand)
            del demand  # the reach sets: the largest thing held (a city's EMS: 10^7 entries)
            total = totals.get((circle.id, requirement.id), float(population.sum()))
            frame = pd.DataFrame(
                {
                    "circle_id": circle.id,
                    "requirement_id": requirement.id,
                    "facility_id": facilities["facility_id"].to_numpy(dtype=object)[rows],
                    "facility_type": types[rows],
                    "facility_name": facilities["facility_name"].to_numpy(dtype=object)[rows],
                    "community_id": community[rows],
                    "status": status[rows],
                    "residents_within": residents_within,
                    "population_within": within,
                    "population_sole": sole,
                    "population_lost": lost,
                    "coverage_lost": lost / total if total > 0 else 0.0,
                }
            )
            order = np.lexsort((np.arange(len(rows)), -within, -lost))
            frames.append(frame.iloc[order])
    table = pd.concat(frames, ignore_index=True)
    return table.astype(
        {
            "residents_within": np.int64,
            "population_within": float,
            "population_sole": float,
            "population_lost": float,
            "coverage_lost": float,
        }
    )


def _sums(demand: Demand) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source of the demand's reach sets: population within, sole and lost.

    Each resident's weight for each sum is worked out once (its population where it counts),
    then gathered along the reach sets and summed per source.
    """
    reach = demand.existing
    n_sources = len(reach.sizes)
    owner = np.repeat(np.arange(n_sources, dtype=np.int32), reach.sizes)
    population = demand.population
    sole = np.where(demand.count == 1, population, 0.0)
    lost = np.where(demand.met & (demand.count == demand.k), population, 0.0)
    within, sole_sum, lost_sum = (
        np.bincount(owner, weights=weight[reach.residents], minlength=n_sources)
        for weight in (population, sole, lost)
    )
    return within, sole_sum, lost_sum


def _status(given: np.ndarray, on_network: np.ndarray) -> np.ndarray:
    """A facility's status on one network: its input status, else on or off that network."""
    return np.where(given != STATUS_OK, given, np.where(on_network, STATUS_OK, STATUS_OFF_NETWORK))


def _population_totals(coverage: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Each requirement's overall ``population_total`` (the audit's overall coverage base)."""
    overall = coverage[coverage["scope"] == "overall"]
    return {
        (str(c), str(r)): float(t)
        for c, r, t in zip(
            overall["circle_id"],
            overall["requirement_id"],
            overall["population_total"],
            strict=True,
        )
    }


def _facility_communities(result: AuditResult) -> np.ndarray:
    """The community polygon holding each facility (None without community polygons)."""
    assert result.internals is not None
    placed = result.internals.placed
    n = len(placed.facilities)
    if placed.communities is None:
        return np.full(n, None, dtype=object)
    geometry = placed.facilities.geometry.to_numpy(dtype=object)
    found = assign_communities(geometry, placed.communities, [])  # its warning is about residents
    return np.asarray(found, dtype=object) if len(found) else np.full(n, UNASSIGNED, dtype=object)
