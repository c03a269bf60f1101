"""Capacity requirements checked by supply: the floating catchment on the searched pairs.

Pure numpy: the pairs come from the travel stage (:func:`circles.traveltime.supply.supply_pairs`),
the method from :mod:`circles.evaluate.capacity`. A capacity requirement's met array, its
``<circle>/<requirement>/supply_ratio`` column and its units per resident (need, supply reaching
the resident, shortfall) replace the count check's.
"""

from __future__ import annotations

import numpy as np

from circles.evaluate.capacity import allocate, supply_per_person
from circles.evaluate.checks import TOLERANCE, circle_met
from circles.evaluate.requirements import Checks
from circles.rules.schema import Circle, Requirement
from circles.traveltime.reach import ReachSets


def check_supply(
    circle: Circle,
    requirement: Requirement,
    pairs: ReachSets,
    supply: np.ndarray,
    population: np.ndarray,
    limit: np.ndarray,
    evaluable: np.ndarray,
    checks: Checks,
) -> dict[str, np.ndarray]:
    """Replace the requirement's count check by its supply check; return its units.

    ``pairs`` hold, per facility (``supply`` in the same order), the residents within their
    ``limit`` (costs with the tolerance) and the cost. Per resident: ``need_units``,
    ``supply_units`` (the floating catchment's share), ``shortfall_units`` and, from the
    nearest-first allocation up to capacity, ``unserved_units``; per facility ``facility_load``
    (units allocated to it).
    """
    capacity = requirement.capacity
    assert capacity is not None
    facility = np.repeat(np.arange(len(supply)), pairs.sizes)
    resident = pairs.residents
    threshold = limit[resident] - TOLERANCE
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(threshold > 0, pairs.cost / threshold, 0.0)
    per_person = supply_per_person(facility, resident, share, supply, population, capacity.method)
    need = capacity.demand_per_1000 / 1000.0
    ratio = np.where(evaluable, per_person / need, np.nan)
    met = evaluable & (np.nan_to_num(ratio) >= 1.0 - 1e-9)
    checks.met[(circle.id, requirement.id)] = met
    checks.met[(circle.id, "")] = circle_met(circle, checks.met)
    checks.columns[f"{circle.id}/{requirement.id}/supply_ratio"] = ratio
    reached = np.where(evaluable, per_person, 0.0)
    load, unserved = allocate(facility, resident, pairs.cost, population * need, supply)
    unserved = np.where(evaluable, unserved, population * need)
    return {
        "need_units": population * need,
        "supply_units": population * reached,
        "shortfall_units": population * np.maximum(need - reached, 0.0),
        "unserved_units": unserved,
        "facility_load": load,
    }
