"""The searches of an audit: which facility groups each network searches, and how far.

Walking circles share one search per facility group on the walking network; driving circles
search their driving network in their direction; hub circles search from every hub. The
engines and anchors are kept on each :class:`~circles.network.networks.AuditNetwork`, so every
search reuses them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from circles.errors import InputDataError
from circles.network.networks import AuditNetwork
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle
from circles.traveltime.graph import (
    Anchors,
    SearchGraph,
    anchor_residents,
    resident_costs,
    resident_costs_each,
)
from circles.traveltime.hub import line_haul_matrix, trips_via_each_hub

REACH_FACTOR = 2.0  # nearest-facility times are reported up to twice the largest threshold
HUBS_PER_PASS = 32  # hubs searched per pass of a hub circle (memory: nodes × this many costs)


ENGINES = ("builtin", "pandana")


def make_engine(name: str, graph: SearchGraph, *, reverse: bool):
    """The travel-time engine called ``name`` for ``graph``."""
    if name == "builtin":
        from circles.traveltime.engine import BuiltinEngine

        return BuiltinEngine(graph, reverse=reverse)
    if name == "pandana":
        from circles.traveltime.engine_pandana import PandanaEngine

        return PandanaEngine(graph, reverse=reverse)
    raise InputDataError(
        f"--engine {name!r} is not an engine circles has; use one of {', '.join(ENGINES)}"
    )


def anchors_for(net: AuditNetwork, direction: str) -> Anchors:
    """The residents' anchors on the network's search graph for a direction (made once)."""
    if direction not in net.anchors:
        net.anchors[direction] = anchor_residents(
            net.network,
            net.search_graph(),
            net.snapped()[0],
            direction=direction,
            leg_cost_per_m=net.leg_cost_per_m,
        )
    return net.anchors[direction]


def search(
    net: AuditNetwork,
    facilities: gpd.GeoDataFrame,
    groups: dict[tuple[str, ...], tuple[int, float]],
    direction: str,
    engine: str,
    given: dict[tuple[str, ...], np.ndarray] | None = None,
) -> dict[tuple[str, ...], np.ndarray]:
    """Costs from every resident to the k nearest facilities of each group on one network.

    ``given`` holds groups whose costs are known already (an earlier audit's, see
    :mod:`circles.reuse`): they are taken as they are, not searched.
    """
    out: dict[tuple[str, ...], np.ndarray] = dict(given or {})
    # the nearest of an any-of group is the nearest of its members, when they reach as far
    derived = {
        key
        for key, (k, horizon) in groups.items()
        if len(key) > 1 and k == 1 and all(groups.get((t,), (0, -1.0))[1] >= horizon for t in key)
    } - set(out)
    searched = [key for key in groups if key not in derived and key not in out]
    if not searched:
        return _derive(out, groups, derived)
    graph = net.search_graph()
    on_network = net.snapped()[1].on_network
    reverse = graph.directed and direction == "from_facility"
    if reverse not in net.engines:
        net.engines[reverse] = make_engine(engine, graph, reverse=reverse)
    anchors = anchors_for(net, direction)
    fac_types = facilities["facility_type"].to_numpy(dtype=object)
    queries = []
    for key in searched:
        k, horizon = groups[key]
        rows = np.flatnonzero(np.isin(fac_types, key) & on_network)
        queries.append((graph.facility_node[rows], rows, k, horizon))
    nearest: list[tuple[str, ...]] = []
    node_costs: list[np.ndarray] = []
    answers = net.engines[reverse].nearest_many(queries)
    for key, (node_cost, node_ids) in zip(searched, answers, strict=True):
        k, horizon = groups[key]
        if k == 1:  # gathered for all such groups at once below
            nearest.append(key)
            node_costs.append(node_cost[:, 0])
        else:
            out[key], _ = resident_costs(anchors, node_cost, node_ids, k, horizon)
    if nearest:
        horizons = np.array([groups[key][1] for key in nearest])
        costs = resident_costs_each(anchors, np.column_stack(node_costs), horizons)
        out.update({key: costs[:, j : j + 1] for j, key in enumerate(nearest)})
    return _derive(out, groups, derived)


def _derive(
    out: dict[tuple[str, ...], np.ndarray],
    groups: dict[tuple[str, ...], tuple[int, float]],
    derived: set[tuple[str, ...]],
) -> dict[tuple[str, ...], np.ndarray]:
    """Add the ``derived`` any-of groups, the nearest of their members' nearest, to ``out``."""
    for key in derived:
        horizon = groups[key][1]
        with np.errstate(invalid="ignore"):
            best = np.fmin.reduce([out[(t,)][:, :1] for t in key])
        out[key] = np.where(best <= horizon, best, np.nan)
    return out


def _add_group(groups: dict, key: tuple[str, ...], k: int, reach: float) -> None:
    old_k, old_reach = groups.get(key, (1, 0.0))
    groups[key] = (max(old_k, k), max(old_reach, reach))


def walk_groups(
    circles: list[Circle], speeds_m_s: dict[str, float]
) -> dict[tuple[str, ...], tuple[int, float]]:
    """Walking searches: facility-type group → (k, horizon in metres).

    One per requirement group (k = the largest min_count) and one per facility type for the
    nearest-facility columns; horizons reach twice the largest threshold that uses the group.
    """
    groups: dict[tuple[str, ...], tuple[int, float]] = {}
    for c in circles:
        for r in c.requirements:
            minutes = max([r.max_time_min or 0.0, *(r.max_time_min_by_zone or {}).values()])
            reach = REACH_FACTOR * (
                r.max_distance_m
                if r.max_distance_m is not None
                else minutes * 60 * speeds_m_s[c.id]
            )
            _add_group(groups, r.facility_types, r.min_count, reach)
            for ftype in r.facility_types:
                _add_group(groups, (ftype,), 1, reach)
    return groups


def drive_groups(circle: Circle) -> dict[tuple[str, ...], tuple[int, float]]:
    """Driving searches of one circle: group → (k, horizon in seconds)."""
    groups: dict[tuple[str, ...], tuple[int, float]] = {}
    for r in circle.requirements:
        minutes = max([r.max_time_min or 0.0, *(r.max_time_min_by_zone or {}).values()])
        _add_group(groups, r.facility_types, r.min_count, REACH_FACTOR * minutes * 60.0)
        for ftype in r.facility_types:
            _add_group(groups, (ftype,), 1, REACH_FACTOR * minutes * 60.0)
    return groups


def report_speeds(circles: list[Circle], speeds_m_s: dict[str, float]) -> dict[str, float]:
    """Speed (m/s) of each ``<type>_min`` column: the slowest walking circle using the type."""
    out: dict[str, float] = {}
    for c in circles:
        for r in c.requirements:
            for ftype in r.facility_types:
                out[ftype] = min(out.get(ftype, np.inf), speeds_m_s[c.id])
    return dict(sorted(out.items()))


def hub_circle(
    lc: LoadedCircle,
    net: AuditNetwork,
    facilities: gpd.GeoDataFrame,
    speeds_m_s: dict[str, float],
    engine: str,
) -> dict:
    """Door-to-door seconds from every resident to every destination of a hub circle."""
    c = lc.circle
    assert c.hub is not None
    keys = {row.hub for row in lc.hub_table}
    types = facilities["facility_type"].to_numpy(dtype=object)
    ids = facilities["facility_id"].astype(str).to_numpy(dtype=object)
    names = facilities["facility_name"].astype(str).to_numpy(dtype=object)
    res_snaps, fac_snaps = net.snapped()
    is_hub = np.isin(types, list(c.hub.hub_types)) & fac_snaps.on_network
    key_of = np.where(
        np.isin(ids, list(keys)), ids, np.where(np.isin(names, list(keys)), names, "")
    )
    hub_rows = np.flatnonzero(is_hub & (key_of != ""))
    destinations = list(c.hub.destinations)
    hub_keys = [str(key_of[i]) for i in hub_rows]
    line_haul = line_haul_matrix(lc.hub_table, hub_keys, destinations)
    serving = np.isfinite(line_haul).any(axis=1)  # hubs with no row for a destination serve none
    n = len(res_snaps.edge)
    graph = net.search_graph()
    transfer_s = c.hub.transfer_min * 60.0
    times = None  # destination by destination (each column contiguous), inf where unreached
    if serving.any():
        walking = c.hub.access == "walk"
        per_s = speeds_m_s[c.id] if walking else 1.0  # cost units per second
        horizon = c.hub.access_max_min * 60.0 * per_s
        reverse = False
        if reverse not in net.engines:
            net.engines[reverse] = make_engine(engine, graph, reverse=reverse)
        searcher, anchors = net.engines[reverse], anchors_for(net, "to_facility")
        # exact over every hub within the access limit: one bounded search per hub, in passes
        # of HUBS_PER_PASS hubs, keeping the best trip of each pass (no resident × hub array)
        use = np.flatnonzero(serving)
        for start in range(0, len(use), HUBS_PER_PASS):
            part = use[start : start + HUBS_PER_PASS]
            node_cost = searcher.each(graph.facility_node[hub_rows[part]], horizon)
            trips = trips_via_each_hub(
                anchors, node_cost, horizon, per_s, transfer_s, line_haul[part]
            )
            if times is None:  # the first pass's trips are the times (no second such array)
                times = np.fmin(trips, np.inf, out=trips)
            else:
                np.fmin(times, trips, out=times)  # in place: no third n × destinations array
            del trips  # before the next pass makes its own
    if times is None:
        times = np.full((len(destinations), n), np.inf).T
    tags: dict[str, set[str]] = {}
    for row in lc.hub_table:
        tags.setdefault(row.destination, set()).add(row.source.tag.value)
    return {
        "times_s": times,
        "tags": tags,
        "destinations": destinations,
        "hubs_found": hub_keys,
        "hubs_in_table": sorted(keys),
    }
