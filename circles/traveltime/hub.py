"""The hub model: door-to-door time = access to a hub + transfer + line-haul from a table.

Given each resident's access time to its nearest hubs and a hub × destination table of
line-haul minutes, the time to each destination is the best over the reachable hubs (a small
numba loop: no resident × hub × destination array is ever built).
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from circles.rules.meaning import HubRow
from circles.traveltime.graph import Anchors, via_better_end


def line_haul_matrix(
    rows: Sequence[HubRow], hub_keys: Sequence[str], destinations: Sequence[str]
) -> np.ndarray:
    """``len(hub_keys) × len(destinations)`` line-haul seconds (inf where the table has none).

    Several rows for one hub and destination keep the fastest. Several hubs with the same key
    (two stations named alike) each get the key's rows.
    """
    hub_index: dict[str, list[int]] = {}
    for i, key in enumerate(hub_keys):
        hub_index.setdefault(key, []).append(i)
    dest_index = {d: j for j, d in enumerate(destinations)}
    out = np.full((len(hub_keys), len(destinations)), np.inf)
    for row in rows:
        j = dest_index.get(row.destination)
        if j is None:
            continue
        for i in hub_index.get(row.hub, ()):
            out[i, j] = min(out[i, j], row.minutes * 60.0)
    return out


@numba.njit(cache=True, nogil=True)
def _best_trips(access_s, hub_ids, transfer_s, line_haul_s):
    """``n_destinations × n`` best trip seconds; hubs in the outer loop (columns contiguous)."""
    n, k = access_s.shape
    n_dest = line_haul_s.shape[1]
    out = np.full((n_dest, n), np.inf)
    for j in range(k):
        for i in range(n):
            h = hub_ids[i, j]
            a = access_s[i, j]
            if h < 0 or not np.isfinite(a):
                continue
            for d in range(n_dest):
                trip = a + transfer_s + line_haul_s[h, d]
                out[d, i] = min(out[d, i], trip)
    return out


@numba.njit(cache=True, nogil=True)
def _trips_via_each_hub(  # noqa: PLR0917 (a numba kernel: arrays in, no keyword-only arguments)
    p, q, cost_p, cost_q, leg, on, node_cost, max_cost, per, transfer_s, lh
):
    n = len(p)
    n_hub, n_dest = lh.shape
    out = np.full((n_dest, n), np.inf)
    for i in range(n):
        if not on[i]:
            continue
        a, b = p[i], q[i]
        for h in range(n_hub):
            cost = via_better_end(node_cost, h, a, b, cost_p[i], cost_q[i], leg[i])
            if not cost <= max_cost:
                continue
            access = cost / per
            for d in range(n_dest):
                trip = access + transfer_s + lh[h, d]
                out[d, i] = min(out[d, i], trip)
    return out


def trips_via_each_hub(
    anchors: Anchors,
    node_cost: np.ndarray,
    max_cost: float,
    cost_per_s: float,
    transfer_s: float,
    line_haul_s: np.ndarray,
) -> np.ndarray:
    """:func:`door_to_door` when every hub is considered: straight from the hubs' searches.

    ``node_cost`` is ``n_nodes × n_hubs`` (one search per hub, in ``line_haul_s`` row order);
    a hub is used when the resident's cost to it, access leg included, is at most
    ``max_cost``; ``cost_per_s`` turns that cost into access seconds (metres per second
    walking, 1 driving). No resident × hub array is built.
    """
    return _trips_via_each_hub(
        anchors.p,
        anchors.q,
        anchors.cost_p,
        anchors.cost_q,
        anchors.leg,
        anchors.on_network,
        np.ascontiguousarray(node_cost, dtype=np.float64),
        float(max_cost),
        float(cost_per_s),
        float(transfer_s),
        np.ascontiguousarray(line_haul_s, dtype=np.float64),
    ).T


def warm_up() -> None:
    """Load the hub kernel (as a hub circle will call it) ahead of use."""
    index, one, flag = np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1, dtype=bool)
    grid = np.zeros((1, 1))
    _trips_via_each_hub(index, index, one, one, one, flag, grid, 1.0, 1.0, 1.0, grid)


def door_to_door(
    access_s: np.ndarray,
    hub_ids: np.ndarray,
    transfer_s: float,
    line_haul_s: np.ndarray,
) -> np.ndarray:
    """Seconds from each resident to each destination via its best hub (inf: unreachable).

    The ``n × n_destinations`` result is stored destination by destination (each column is
    contiguous).

    Parameters
    ----------
    access_s
        ``n × k`` access seconds to the resident's nearest hubs (NaN where none).
    hub_ids
        ``n × k`` row of each of those hubs in ``line_haul_s`` (-1 where none).
    transfer_s
        Wait and transfer allowance added to every trip.
    line_haul_s
        ``n_hubs × n_destinations`` line-haul seconds (inf where no service).
    """
    if line_haul_s.shape[0] == 0:
        return np.full((line_haul_s.shape[1], access_s.shape[0]), np.inf).T
    return _best_trips(
        np.asfortranarray(access_s, dtype=np.float64),
        np.asfortranarray(hub_ids, dtype=np.int64),
        float(transfer_s),
        np.ascontiguousarray(line_haul_s, dtype=np.float64),
    ).T


def destinations_met(
    times_s: np.ndarray,
    columns: list[int],
    max_s: np.ndarray,
    min_count: int,
    min_share: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per resident: how many destinations lie within ``max_s``, and whether enough do.

    ``columns`` are the destinations (columns of ``times_s``) to count. Enough means at least
    ``min_count`` of them and, when ``min_share`` is given, at least that share of them.
    """
    limit = max_s + 1e-6
    reached = np.zeros(times_s.shape[0], dtype=np.int64)
    for j in columns:  # destination by destination (the columns of door_to_door are contiguous)
        reached += times_s[:, j] <= limit
    needed = min_count
    if min_share is not None:
        needed = max(needed, int(np.ceil(min_share * len(columns) - 1e-9)))
    return reached, reached >= needed
