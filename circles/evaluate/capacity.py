"""Capacity: two-step floating catchments on the facility–resident pairs within the threshold.

Pure numpy. Given every (facility, resident) pair whose cost lies within the resident's
threshold (one bounded search per facility: :mod:`circles.traveltime.reach`), each facility's
supply ``S_j`` (seats, beds, m²) and each resident's population ``P_i``:

1. each facility's supply per person of its catchment: ``R_j = S_j / Σ_i w_ij P_i``;
2. each resident's supply per person: ``A_i = Σ_j w_ij R_j``.

The supply ratio is ``A_i`` over the need per person (``demand_per_1000 / 1000``): 1.0 is
exactly enough, and the requirement is met at 1 or more. Weights ``w`` fall with the cost as a
share ``t`` of the threshold: ``2sfca`` 1 throughout; ``e2sfca`` 1, 0.68 and 0.22 in the first,
second and last third (the Gaussian-derived weights of Luo and Qi 2009 for three travel-time
zones); ``gaussian`` ``(e^(-t²/2) − e^(-1/2)) / (1 − e^(-1/2))``, 1 at the door and 0 at the
threshold (Dai 2010). Per community the need (``Σ P_i · need``), the supply reaching its
residents (``Σ P_i A_i``) and the shortfall (``Σ P_i · max(need − A_i, 0)``, in seats or beds).
"""

from __future__ import annotations

import numba
import numpy as np

from circles.errors import InputDataError

METHODS = ("2sfca", "e2sfca", "gaussian")
E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)  # first, second and last third of the threshold


def weights(share: np.ndarray, method: str) -> np.ndarray:
    """Distance-decay weight of each pair from its cost as a share of the threshold (0–1)."""
    share = np.clip(share, 0.0, 1.0)
    if method == "2sfca":
        return np.ones(len(share))
    if method == "e2sfca":
        band = np.clip(np.ceil(share * 3).astype(np.int64) - 1, 0, 2)  # upper ends included
        return np.asarray(E2SFCA_WEIGHTS)[band]
    if method == "gaussian":
        edge = np.exp(-0.5)
        return (np.exp(-0.5 * share**2) - edge) / (1.0 - edge)
    raise ValueError(f"unknown floating-catchment method {method!r}")


def supply_per_person(
    facility: np.ndarray,
    resident: np.ndarray,
    share: np.ndarray,
    supply: np.ndarray,
    population: np.ndarray,
    method: str,
) -> np.ndarray:
    """``A_i`` for every resident from the pairs (facility index, resident index, cost share).

    ``supply`` is per facility, ``population`` per resident; residents in no pair get 0.
    """
    w = weights(share, method)
    demand = np.bincount(facility, weights=w * population[resident], minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, supply / np.where(demand > 0, demand, 1.0), 0.0)
    return np.bincount(resident, weights=w * ratio[facility], minlength=len(population))


def capacities(
    values: np.ndarray, rows: np.ndarray, field: str, where: str
) -> tuple[np.ndarray, int]:
    """The capacity column as numbers where ``rows`` (a mask) says; elsewhere 0.

    An empty cell counts 0; returned with the capacities: how many of ``rows`` were empty.

    Raises
    ------
    InputDataError
        On text that is not a number or a negative capacity, naming the row (from 1).
    """
    out = np.zeros(len(values))
    empty = 0
    for i in np.flatnonzero(rows):
        value = values[i]
        text = "" if value is None else str(value).strip()
        if text in ("", "nan", "NaN", "<NA>", "None"):
            empty += 1
            continue
        try:
            out[i] = float(text.replace(",", ""))
        except ValueError:
            raise InputDataError(
                f"{where}, row {i + 1}: {field} = {text!r} is not a number; give each "
                "facility's capacity as a number (empty counts 0)"
            ) from None
        if not np.isfinite(out[i]) or out[i] < 0:
            raise InputDataError(
                f"{where}, row {i + 1}: {field} = {text} is not a capacity (it must be a "
                "finite number ≥ 0)"
            )
    return out, empty


@numba.njit(cache=True, nogil=True)
def _allocate(order, facility, resident, need, capacity):  # pragma: no cover (compiled)
    need_left = need.copy()
    capacity_left = capacity.copy()
    load = np.zeros(len(capacity))
    for k in order:
        i, j = resident[k], facility[k]
        if need_left[i] <= 0.0 or capacity_left[j] <= 0.0:
            continue
        take = min(need_left[i], capacity_left[j])
        need_left[i] -= take
        capacity_left[j] -= take
        load[j] += take
    return load, need_left


def allocate(
    facility: np.ndarray,
    resident: np.ndarray,
    cost: np.ndarray,
    need: np.ndarray,
    capacity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest first: the closest (resident, facility) pairs are served first, up to capacity.

    Every pair within the threshold, cheapest first (ties by resident, then facility), gives
    the resident's remaining need (units: population × need per person) to the facility's
    remaining capacity. Returns each facility's load and each resident's need left unserved.
    """
    order = np.lexsort((facility, resident, cost))
    return _allocate(
        order.astype(np.int64),
        facility.astype(np.int64),
        resident.astype(np.int64),
        need.astype(np.float64),
        capacity.astype(np.float64),
    )
