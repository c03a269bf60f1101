"""Service areas of every walking and driving requirement (and, on request, of every facility).

For each requirement: the cost from every search-graph node to its ``min_count``-th nearest
facility of its types (one bounded search, as the checks did), the cost at every network sample
(:mod:`circles.areas.samples`), the budget left at each sample for the walk to a door (the
threshold minus that cost, in metres of access leg, at most the max snap), and the raster cells
that budget reaches (:mod:`circles.areas.raster`), traced into a MultiPolygon. Zoned thresholds
give one area per zone, clipped to the zone's polygons (the default threshold outside them).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.areas.raster import (
    MAX_CELLS,
    Raster,
    cell_size,
    make_raster,
    multi,
    raster_arrays,
    raster_from,
    reached,
    street_budget,
    trace,
    widen,
)
from circles.areas.samples import Samples, sample_costs, sample_network, samples_at
from circles.network.cache import derived
from circles.network.networks import AuditNetwork, network_key
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle, Requirement
from circles.traveltime.plan import make_engine

#: the columns of the service-area layer, before its geometry
AREA_COLUMNS = [
    "circle_id",
    "requirement_id",
    "facility_type",
    "min_count",
    "mode",
    "minutes",
    "max_distance_m",
    "zone",
    "area_km2",
]
#: the per-facility layer adds the facility
FACILITY_AREA_COLUMNS = ["facility_id", *AREA_COLUMNS]
MODES = ("requirement", "per-facility", "none")
FACILITIES_PER_PASS = 32  # facilities searched at once for per-facility areas


@dataclass
class ServiceAreaOptions:
    """What the audit passes in: the engine, the max snap, the zones (metric CRS) if any."""

    engine: str = "builtin"
    max_snap_m: float = 250.0
    per_facility: bool = False
    zones: gpd.GeoDataFrame | None = None
    zone_values: np.ndarray | None = None


@dataclass
class _Prepared:
    """One network's samples and raster, built once for all its requirements."""

    samples: Samples
    raster: Raster


@dataclass
class AreaMemo:
    """Service areas kept for a later audit of the same rules and networks (:mod:`circles.reuse`).

    The first audit fills it: each network's samples and raster, and each requirement's rows
    (requirement and per-facility layers). A later audit whose facilities add facilities of
    ``changed_types`` only takes the rows of every requirement using none of these types, and
    the samples and raster (their anchors are found again on its own search graph).
    """

    prepared: dict[str, _Prepared] = field(default_factory=dict)
    rows: dict[tuple[str, str], tuple[list[dict], list[dict]]] = field(default_factory=dict)
    changed_types: frozenset[str] | None = None


class Preparation:
    """The first traced network's samples and raster, made on a thread while the audit goes on.

    Building the raster of a city (cold) or reading it from the network cache (warm) is mostly
    numpy and the distance transform, which run without Python's lock: started as soon as the
    networks are built, it is ready when the service areas are traced. Only the first network
    is prepared ahead, so that one raster at a time is held, as :func:`service_areas` does.
    Nothing is prepared when ``memo`` gives that network's (the planned audit's).
    """

    def __init__(
        self,
        loaded: list[LoadedCircle],
        nets: dict[str, AuditNetwork],
        max_snap_m: float,
        memo: AreaMemo | None = None,
    ):
        traced = _traced(loaded)
        self.key = network_key(traced[0]) if traced else None
        self._future: Future[_Prepared] | None = None
        if self.key is None or (memo is not None and self.key in memo.prepared):
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="circles-areas")
        self._future = pool.submit(_prepare, nets[self.key], max_snap_m)
        pool.shutdown(wait=False)

    def take(self, key: str) -> _Prepared | None:
        """``key``'s samples and raster when prepared ahead (re-raises what went wrong), once."""
        if key != self.key or self._future is None:
            return None
        future, self._future = self._future, None
        return future.result()

    def close(self) -> None:
        """Wait for the thread (no thread outlives the audit) and drop what it made."""
        if self._future is not None:
            future, self._future = self._future, None
            future.exception()  # waits; an error no one takes is the audit's error already


@dataclass
class _Target:
    """One requirement on its network: its facility rows and the direction of travel."""

    c: Circle
    r: Requirement
    net: AuditNetwork
    prep: _Prepared
    rows: np.ndarray
    direction: str


def service_areas(
    loaded: list[LoadedCircle],
    nets: dict[str, AuditNetwork],
    facilities: pd.DataFrame,
    speeds_m_s: dict[str, float],
    options: ServiceAreaOptions,
    memo: AreaMemo | None = None,
    ahead: Preparation | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The service area of every walking and driving requirement, in the networks' CRS.

    Returns the requirement layer (one row per requirement, one per zone of a zoned one) and,
    with ``options.per_facility``, the facility layer (one row per facility and requirement
    using its type), else None. Hub circles have no service area (their reach is a timetable).
    ``memo`` keeps the areas for a later audit, or gives an earlier audit's (see
    :class:`AreaMemo`); ``ahead`` is the first network's samples and raster being prepared.
    """
    crs = next(iter(nets.values())).network.crs
    types = facilities["facility_type"].to_numpy(dtype=object)
    # an earlier audit's memo is taken from; an empty one is filled for a later audit
    changed = memo.changed_types if memo is not None else None
    taking = memo if changed is not None else None
    keeping = memo if changed is None else None
    traced = _traced(loaded)
    found: dict[int, tuple[list[dict], list[dict]]] = {}
    # network by network, so that one raster at a time is held; the rows in the rules' order
    for key in dict.fromkeys(network_key(c) for c in traced):
        net = nets[key]
        prep: _Prepared | None = None  # made on first need
        for i, c in enumerate(traced):
            if network_key(c) != key:
                continue
            direction = "to_facility" if c.mode == "walk" else c.direction
            found[i] = ([], [])
            for r in c.requirements:
                kept = taking.rows.get((c.id, r.id)) if taking is not None else None
                if kept is not None and changed is not None and not changed & set(r.facility_types):
                    found[i][0].extend(kept[0])
                    found[i][1].extend(kept[1])
                    continue
                if prep is None:
                    if taking is not None and key in taking.prepared:
                        prep = _unanchored(taking.prepared[key])
                    else:
                        prep = ahead.take(key) if ahead is not None else None
                        prep = prep if prep is not None else _prepare(net, options.max_snap_m)
                    if keeping is not None:
                        keeping.prepared[key] = _unanchored(prep)
                on = net.snapped()[1].on_network & np.isin(types, r.facility_types)
                target = _Target(c, r, net, prep, np.flatnonzero(on), direction)
                areas = _requirement_rows(target, speeds_m_s, options)
                per_facility = (
                    _facility_rows(target, facilities, speeds_m_s, options)
                    if options.per_facility
                    else []
                )
                found[i][0].extend(areas)
                found[i][1].extend(per_facility)
                if keeping is not None:
                    keeping.rows[(c.id, r.id)] = (areas, per_facility)
        del prep
    rows = [row for i in sorted(found) for row in found[i][0]]
    facility_rows = [row for i in sorted(found) for row in found[i][1]]
    areas = _frame(rows, AREA_COLUMNS, crs)
    if not options.per_facility:
        return areas, None
    return areas, _frame(facility_rows, FACILITY_AREA_COLUMNS, crs)


def _traced(loaded: list[LoadedCircle]) -> list[Circle]:
    """The circles that have service areas: walking and driving ones, in the rules' order."""
    return [lc.circle for lc in loaded if lc.circle.mode in ("walk", "drive")]


def _frame(rows: list[dict], columns: list[str], crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def _prepare(net: AuditNetwork, max_snap_m: float) -> _Prepared:
    """The network's samples and raster, from the network cache when made before."""
    network = net.network
    coords = np.column_stack([network.node_x, network.node_y])
    cell = cell_size(coords, max_snap_m)

    def make() -> dict[str, np.ndarray]:
        edge, offset, xy = sample_network(network, cell)
        raster = make_raster(xy, cell, max_snap_m)
        return {"edge": edge, "offset": offset, "xy": xy} | raster_arrays(raster)

    params = {"cell": cell, "max_snap_m": max_snap_m, "max_cells": MAX_CELLS}
    arrays = derived(network, "areas", params, make)
    samples = samples_at(network, arrays["edge"], arrays["offset"], arrays["xy"])
    return _Prepared(samples=samples, raster=raster_from(arrays))


def _unanchored(prep: _Prepared) -> _Prepared:
    """The samples and raster without the samples' anchors (they belong to a search graph)."""
    return replace(prep, samples=replace(prep.samples, anchors={}))


def _engine(net: AuditNetwork, direction: str, engine: str):
    graph = net.search_graph()
    reverse = graph.directed and direction == "from_facility"
    if reverse not in net.engines:
        net.engines[reverse] = make_engine(engine, graph, reverse=reverse)
    return net.engines[reverse]


def _thresholds(c: Circle, r: Requirement, speeds_m_s: dict[str, float]) -> dict[str, float]:
    """Zone ('' for the default) → threshold in the network's cost (metres walking, s driving)."""
    if r.max_distance_m is not None:
        return {"": float(r.max_distance_m)}
    per_minute = 60.0 * speeds_m_s[c.id] if c.mode == "walk" else 60.0
    out = {"": float(r.max_time_min or 0.0) * per_minute}
    for zone, minutes in (r.max_time_min_by_zone or {}).items():
        out[zone] = float(minutes) * per_minute
    return out


def _row(c: Circle, r: Requirement, zone: str, limit: float, speeds_m_s: dict) -> dict:
    minutes = None
    if r.max_distance_m is None:
        minutes = limit / (60.0 * speeds_m_s[c.id]) if c.mode == "walk" else limit / 60.0
    return {
        "circle_id": c.id,
        "requirement_id": r.id,
        "facility_type": ", ".join(r.facility_types),
        "min_count": int(r.min_count),
        "mode": c.mode,
        "minutes": None if minutes is None else round(minutes, 3),
        "max_distance_m": None if r.max_distance_m is None else float(r.max_distance_m),
        "zone": zone,
    }


def _area(net: AuditNetwork, prep: _Prepared, cost: np.ndarray, limit: float, cap: float):
    """The traced area of samples with ``cost`` (inf beyond) for one threshold ``limit``."""
    budget = ((limit - cost) / net.leg_cost_per_m).astype(np.float32)  # metres of access leg
    raster = prep.raster
    mask = reached(raster, street_budget(raster, budget), cap)
    return trace(mask, raster.x0, raster.y0, raster.cell)


def _zoned(areas: dict[str, object], c: Circle, options: ServiceAreaOptions) -> dict[str, object]:
    """Clip each zone's area to the zone's polygons; the default one to the land outside them."""
    if len(areas) == 1 or options.zones is None or options.zone_values is None:
        return {"": areas[""]}
    from circles.evaluate.zones import circle_zone_ids

    ids, _ = circle_zone_ids(options.zone_values, c)
    polygons = options.zones.geometry.to_numpy()
    out: dict[str, object] = {}
    zoned = []
    for zone, area in areas.items():
        if not zone:
            continue
        shape = shapely.union_all(polygons[ids == zone])
        zoned.append(shape)
        out[zone] = multi(shapely.intersection(area, shape))
    out[""] = multi(shapely.difference(areas[""], shapely.union_all(zoned)))
    return out


def _requirement_rows(
    target: _Target, speeds_m_s: dict[str, float], options: ServiceAreaOptions
) -> list[dict]:
    c, r, net, prep, rows, direction = (
        target.c,
        target.r,
        target.net,
        target.prep,
        target.rows,
        target.direction,
    )
    limits = _thresholds(c, r, speeds_m_s)
    graph = net.search_graph()
    horizon = max(limits.values())
    if len(rows) >= r.min_count:
        node_cost, node_ids = _engine(net, direction, options.engine).nearest(
            graph.facility_node[rows], rows, r.min_count, horizon
        )
        cost = sample_costs(net, prep.samples, node_cost, node_ids, r.min_count, direction)
    else:
        cost = np.full(len(prep.samples.xy), np.inf)
    areas = {z: _area(net, prep, cost, lim, options.max_snap_m) for z, lim in limits.items()}
    out = []
    for zone, area in _zoned(areas, c, options).items():
        row = _row(c, r, zone, limits[zone], speeds_m_s)
        out.append(row | {"area_km2": round(shapely.area(area) / 1e6, 4), "geometry": area})
    return out


def _facility_rows(
    target: _Target,
    facilities: pd.DataFrame,
    speeds_m_s: dict[str, float],
    options: ServiceAreaOptions,
) -> list[dict]:
    """One area per facility of the requirement's types, at the default threshold."""
    c, r, net, prep, rows, direction = (
        target.c,
        target.r,
        target.net,
        target.prep,
        target.rows,
        target.direction,
    )
    limit = _thresholds(c, r, speeds_m_s)[""]
    graph = net.search_graph()
    engine = _engine(net, direction, options.engine)
    ids = facilities["facility_id"].to_numpy(dtype=object) if "facility_id" in facilities else rows
    out = []
    for start in range(0, len(rows), FACILITIES_PER_PASS):
        chunk = rows[start : start + FACILITIES_PER_PASS]
        node_cost = engine.each(graph.facility_node[chunk], limit)
        for j, row in enumerate(chunk):
            column = node_cost[:, j : j + 1]
            cost = sample_costs(
                net, prep.samples, column, np.zeros(column.shape, np.int64), 1, direction
            )
            area = _window_area(net, prep, cost, limit, options.max_snap_m)
            record = _row(c, r, "", limit, speeds_m_s) | {
                "facility_id": ids[row],
                "facility_type": facilities["facility_type"].iloc[row],
            }
            out.append(record | {"area_km2": round(shapely.area(area) / 1e6, 4), "geometry": area})
    return out


def _window_area(net: AuditNetwork, prep: _Prepared, cost: np.ndarray, limit: float, cap: float):
    """:func:`_area` on the part of the raster around the reached samples only."""
    raster = prep.raster
    hit = np.flatnonzero(cost <= limit)
    if not len(hit):
        return shapely.MultiPolygon()
    cells = raster.sample_cell[hit]
    ny, nx = raster.shape
    pad = int(np.ceil(cap / raster.cell)) + 2
    r0, r1 = max(int((cells // nx).min()) - pad, 0), min(int((cells // nx).max()) + pad + 1, ny)
    c0, c1 = max(int((cells % nx).min()) - pad, 0), min(int((cells % nx).max()) + pad + 1, nx)
    budget = np.full(len(cost), -np.inf, dtype=np.float32)
    budget[hit] = (limit - cost[hit]) / net.leg_cost_per_m
    cells_budget = street_budget(raster, budget)
    window = np.add.outer(np.arange(r0, r1) * nx, np.arange(c0, c1)).ravel()
    owner_budget = np.minimum(cells_budget[raster.owner[window]], np.float32(cap))
    mask = widen((raster.dist[window] <= owner_budget).reshape(r1 - r0, c1 - c0))
    return trace(mask, raster.x0 + c0 * raster.cell, raster.y0 + r0 * raster.cell, raster.cell)
