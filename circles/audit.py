"""The audit pipeline: rules → layers → networks → travel costs → checks → coverage → summary.

``run_audit`` is the one function the CLI and the tests call. It reads files but never prints or
writes: reports are written by :mod:`circles.report.files` from the :class:`AuditResult`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from circles.catalogue.classify import classify, looks_like_poi_table, poi_columns, unmapped_summary
from circles.catalogue.load import load_catalogue
from circles.errors import InputDataError
from circles.evaluate.checks import circle_met, coverage, facility_met, walk_threshold_m
from circles.evaluate.summary import build_summary, issues_lonlat
from circles.evaluate.zones import circle_zone_ids, threshold_minutes, zone_values
from circles.inputs.coordsys import infer_system
from circles.inputs.read import read_layer, refuse_osm_xml, split_layer
from circles.inputs.validate import (
    STATUS_OFF_NETWORK,
    STATUS_OK,
    UNASSIGNED,
    assign_communities,
    communities_table,
    facilities_table,
    residents_table,
)
from circles.network import snap
from circles.network.build import Network
from circles.network.roads import release_osm
from circles.network.snap import snap_xy
from circles.projection import (
    metric_xy,
    point_coordinates,
    to_metric,
    to_wgs84_coords,
    xy_points,
)
from circles.rules.load import LoadedCircle, load_rules
from circles.runtime import collector_paused
from circles.traveltime import dijkstra, hub
from circles.traveltime import graph as traveltime
from circles.traveltime.hub import destinations_met
from circles.traveltime.plan import (
    build_networks,
    drive_groups,
    hub_circle,
    network_key,
    report_speeds,
    search,
    walk_groups,
)

DEFAULT_MAX_SNAP_M = 250.0
DEFAULT_MIN_COMPONENT_NODES = 50
# China's 7th population census (2020): 2.62 persons per family household on average
# (source and tag recorded in summary.json, see circles.evaluate.summary).
DEFAULT_PERSONS_PER_HOUSEHOLD = 2.62
LAYER_ROLES = ("facilities", "residents", "communities", "zones", "planned")
COORD_NAMES = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)", "wgs84": "WGS 84"}

Progress = Callable[[str], None]
#: The stages ``run_audit`` reports to its ``progress`` callback, in order, with their labels.
STAGES = {
    "rules": "validating the rules",
    "read": "reading residents, facilities and communities",
    "network": "building the street networks",
    "snap": "snapping to the networks",
    "travel": "computing travel times",
    "evaluate": "evaluating the circles",
}


@dataclass
class AuditOptions:
    """Everything an audit needs; mirrors the ``circles audit`` options."""

    network: Path
    facilities: Path
    residents: Path
    communities: Path | None = None
    zones: Path | None = None
    planned: Path | None = None
    rules: list[Path | str] = field(default_factory=list)
    circle_ids: list[str] = field(default_factory=list)
    facility_type_field: str | None = None
    facility_id_field: str | None = "id"
    facility_name_field: str | None = "name"
    population_field: str = "population"
    households_field: str | None = None
    persons_per_household: float = DEFAULT_PERSONS_PER_HOUSEHOLD
    resident_id_field: str | None = "id"
    community_field: str = "community"
    subdistrict_field: str | None = None
    zone_field: str = "zone"
    coords: dict[str, str] = field(default_factory=dict)
    walk_speed_m_per_min: float | None = None
    crs: str | None = None
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES
    split_crossings: bool | None = None  # None: when the lines look drawn without junctions
    join_ends_m: float = 0.0
    road_class_field: str | None = None
    speed_field: str | None = None
    oneway_field: str | None = None
    engine: str = "builtin"
    cache: bool = True


@dataclass
class AuditResult:
    """What an audit produces; the report writers render it."""

    residents: pd.DataFrame
    facilities: pd.DataFrame
    coverage: pd.DataFrame
    network_issues: pd.DataFrame
    summary: dict
    circles: list[LoadedCircle]
    geo: AuditGeometry | None = None


@dataclass
class AuditGeometry:
    """The audit's layers as geometries in the metric CRS, for maps.

    ``residents`` carries the residents table's columns (one 0/1 column per circle), built on
    first use from the table and the points (only maps need it); ``network`` is the walking
    network (the driving one when no circle walks).
    """

    resident_table: pd.DataFrame
    resident_xy: np.ndarray
    facility_table: pd.DataFrame
    facility_points: np.ndarray
    communities: gpd.GeoDataFrame | None
    network: Network
    crs: object

    @functools.cached_property
    def residents(self) -> gpd.GeoDataFrame:
        """The residents table with each resident's point."""
        points = xy_points(self.resident_xy)
        return gpd.GeoDataFrame(self.resident_table, geometry=points, crs=self.crs)

    @functools.cached_property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facilities table with each facility's point."""
        return gpd.GeoDataFrame(self.facility_table, geometry=self.facility_points, crs=self.crs)


def _quiet(_: str) -> None:
    return None


def _read_inputs(options: AuditOptions, warnings: list[str]) -> dict:
    """Read and validate the point and polygon layers, converting GCJ-02/BD-09 to WGS 84."""
    layers: dict[str, gpd.GeoDataFrame | None] = {}
    converted: list[str] = []
    for role in LAYER_ROLES:
        path = getattr(options, role)
        if path is None:
            layers[role] = None
            continue
        explicit = role in options.coords
        system = options.coords.get(role, options.coords.get("*"))
        if not explicit and str(path).lower().endswith((".pbf", ".osm")):
            system = None  # OSM is WGS 84: a bare --coords names the exports' system
        layer = read_layer(
            path, role, crs="EPSG:4326" if system else options.crs, warnings=warnings
        )
        if system is None:
            inferred = infer_system(layer)
            if inferred is not None and inferred[0] != "wgs84":
                system, reason = inferred
                explicit = True
                warnings.append(
                    f"{role} file {path.name}: coordinates read as {COORD_NAMES[system]} and "
                    f"converted to WGS 84, as {reason}; pass --coords {role}=wgs84 if they are "
                    "WGS 84 already"
                )
        projected = layer.crs is not None and CRS.from_user_input(layer.crs).is_projected
        if system and (explicit or not projected):
            # a bare --coords names the system of the lon/lat layers; projected ones keep theirs
            layer = to_wgs84_coords(layer, system, role=role, path=str(path))
            if system != "wgs84":
                converted.append(f"{role}: {system} → wgs84")
        layers[role] = layer
    residents = residents_table(
        layers["residents"],
        options.residents,
        id_field=options.resident_id_field,
        population_field=options.population_field,
        households_field=options.households_field,
        persons_per_household=options.persons_per_household,
        warnings=warnings,
    )
    fac_layer, type_field, classified = _facility_types(layers["facilities"], options, warnings)
    name_field = options.facility_name_field
    if name_field == "name" and "name" not in fac_layer.columns:
        name_field = poi_columns(fac_layer).name
    facilities = facilities_table(
        fac_layer,
        options.facilities,
        id_field=options.facility_id_field,
        type_field=type_field,
        name_field=name_field,
        warnings=warnings,
    )
    facilities["planned"] = False
    if layers["planned"] is not None:
        facilities = _add_planned(facilities, layers["planned"], options, warnings)
    communities = None
    if layers["communities"] is not None:
        assert options.communities is not None  # a layer is read only from a path
        communities = communities_table(
            layers["communities"],
            options.communities,
            field=options.community_field,
            warnings=warnings,
        )
    zones = layers["zones"]
    if zones is not None and options.zone_field not in zones.columns:
        available = ", ".join(str(c) for c in zones.columns if c != zones.geometry.name)
        assert options.zones is not None  # a layer is read only from a path
        raise InputDataError(
            f"column {options.zone_field!r} not found in zones file {options.zones.name}; "
            f"available: {available}; pass --zone-field"
        )
    return {
        "raw_residents": layers["residents"],
        "residents": residents,
        "facilities": facilities,
        "communities": communities,
        "zones": zones,
        "classified": classified,
        "raw_communities": layers["communities"],
        "converted": converted,
    }


def _add_planned(
    facilities: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    options: AuditOptions,
    warnings: list[str],
) -> gpd.GeoDataFrame:
    """The facilities with the planned ones added (same formats and checks, ids kept apart)."""
    planned_path = options.planned
    assert planned_path is not None
    layer, type_field, _ = _facility_types(layer, options, warnings)
    planned = facilities_table(
        layer,
        planned_path,
        id_field=options.facility_id_field,
        type_field=type_field,
        name_field=options.facility_name_field,
        warnings=warnings,
    )
    clash = sorted(set(planned["facility_id"]) & set(facilities["facility_id"]))
    if clash:
        raise InputDataError(
            f"planned facilities file {planned_path.name}: id {clash[0]!r} is already a "
            f"facility of {options.facilities.name}; give planned facilities ids of their own"
        )
    planned["planned"] = True
    planned = planned.to_crs(facilities.crs)
    return gpd.GeoDataFrame(pd.concat([facilities, planned], ignore_index=True), crs=facilities.crs)


def _facility_types(
    layer: gpd.GeoDataFrame, options: AuditOptions, warnings: list[str]
) -> tuple[gpd.GeoDataFrame, str, pd.DataFrame | None]:
    """The facility-type column to use: given, a column of catalogue ids, or classified POIs.

    Without ``--facility-type-field``, a ``type`` column of catalogue ids is used as it is; an
    Amap/Baidu-style table (typecode, 大类/中类/小类, or category text) is classified through
    the catalogue, and its unmapped categories are reported.
    """
    if options.facility_type_field is not None:
        return layer, options.facility_type_field, None
    catalogue = load_catalogue()
    if not looks_like_poi_table(layer, catalogue):
        return layer, "type", None
    result = classify(layer, catalogue)
    layer = layer.copy()
    layer["__facility_type"] = result["facility_type"].to_numpy()
    unmapped = unmapped_summary(result)
    if len(unmapped):
        listed = ", ".join(
            f"{r.category or '(no category)'} ({r.count})" for r in unmapped.head(8).itertuples()
        )
        more = f" and {len(unmapped) - 8} more" if len(unmapped) > 8 else ""
        warnings.append(
            f"facilities file {options.facilities.name}: {int(unmapped['count'].sum())} POIs "
            f"match no facility type and are not used: {listed}{more}; run circles facilities "
            "classify to see the mapping, extend rules/facilities.yaml, or pass "
            "--facility-type-field"
        )
    return layer, "__facility_type", result


def run_audit(
    options: AuditOptions,
    progress: Progress = _quiet,
    on_residents: Callable[[pd.DataFrame], None] | None = None,
) -> AuditResult:
    """Run one audit and return its tables and summary.

    ``progress`` is called with each stage's name as it starts; ``on_residents`` with the
    residents table as soon as it is final (before coverage and the summary are worked out),
    so that a caller can start formatting it meanwhile.

    Raises
    ------
    CirclesError
        Any problem the user can fix: rules, inputs, network (see :mod:`circles.errors`).
    """
    # the parsed extract, the one heap of short-lived objects, is collected when released
    with collector_paused():
        return _run(options, progress, on_residents)


def _warm_up_kernels() -> None:
    """Load the compiled kernels from numba's cache while the inputs are read.

    Loading takes a fraction of a second, mostly outside the GIL; the searches then start at
    once.
    """
    for warm_up in (snap.warm_up, traveltime.warm_up, dijkstra.warm_up, hub.warm_up):
        warm_up()


def _run(
    options: AuditOptions,
    progress: Progress,
    on_residents: Callable[[pd.DataFrame], None] | None,
) -> AuditResult:
    warm_up = threading.Thread(target=_warm_up_kernels, name="circles-kernels", daemon=True)
    warm_up.start()
    try:
        warnings: list[str] = []
        progress("rules")
        loaded = load_rules(options.rules or None, circle_ids=options.circle_ids or None)
        circles = [lc.circle for lc in loaded]
        _check_options(options)

        progress("read")
        inputs = _read_inputs(options, warnings)

        progress("network")
        nets = build_networks(circles, options)
        release_osm()
        return _audit(options, loaded, inputs, nets, warnings, progress, on_residents)
    finally:
        warm_up.join()  # no thread of the audit outlives it (a first run compiles a while)


def _audit(
    options: AuditOptions,
    loaded: list[LoadedCircle],
    inputs: dict,
    nets: dict,
    warnings: list[str],
    progress: Progress,
    on_residents: Callable[[pd.DataFrame], None] | None = None,
) -> AuditResult:
    """The audit once its inputs are read and its networks built."""
    circles = [lc.circle for lc in loaded]
    residents, facilities = inputs["residents"], inputs["facilities"]
    crs = next(iter(nets.values())).network.crs
    _network_warnings(nets, options, warnings)
    # residents as metric coordinates; their points are made only where polygons need them
    res_xy = metric_xy(residents, crs)
    res_points = functools.cache(lambda: xy_points(res_xy))
    facilities = to_metric(facilities, crs)
    subdistricts: dict[str, str] = {}
    inputs["communities_metric"] = None
    if inputs["communities"] is not None:
        assert options.communities is not None  # a layer is read only from a path
        comms = to_metric(inputs["communities"], crs)
        inputs["communities_metric"] = comms
        residents["community_id"] = assign_communities(res_points(), comms, warnings)
        community_ids = comms["community_id"].tolist()
        if (residents["community_id"] == UNASSIGNED).all():
            raise InputDataError(
                f"no resident lies inside any polygon of communities file "
                f"{options.communities.name}; check that both layers are in the same place "
                "(their CRS, or --coords for GCJ-02/BD-09 data)"
            )
        subdistricts = _subdistricts(inputs["raw_communities"], comms, options)
    else:
        residents["community_id"] = _community_column(inputs["raw_residents"], options, warnings)
        community_ids = [c for c in pd.unique(residents["community_id"]) if c != UNASSIGNED]
    zone_raw = np.full(len(residents), "", dtype=object)
    if inputs["zones"] is not None:
        assert options.zones is not None  # a layer is read only from a path
        zone_raw = zone_values(
            res_points(),
            to_metric(inputs["zones"], crs),
            options.zone_field,
            warnings,
            name=options.zones.name,
        )

    progress("snap")
    fac_types = facilities["facility_type"].to_numpy(dtype=object)
    status = residents["status"].to_numpy(dtype=object).copy()
    needed_types: dict[str, set[str]] = {key: set() for key in nets}
    for c in circles:
        key = network_key(c)
        needed_types[key] |= (
            set(c.hub.hub_types) if c.hub else {t for r in c.requirements for t in r.facility_types}
        )
    fac_used = np.isin(fac_types, sorted(set().union(*needed_types.values())))
    fac_status = facilities["status"].to_numpy(dtype=object).copy()
    fac_status[(fac_status == STATUS_OK) & ~fac_used] = "not_used"
    fac_snap_m = np.full(len(facilities), np.nan)
    fac_xy = point_coordinates(facilities.geometry.to_numpy(dtype=object))
    wanted_by = {key: np.isin(fac_types, sorted(needed_types[key])) for key in nets}
    # the networks snap at once, on two threads (the kernels run without the GIL)
    with ThreadPoolExecutor(max_workers=2) as pool:
        snapping = {
            key: (
                pool.submit(snap_xy, net.network, res_xy, options.max_snap_m),
                pool.submit(
                    snap_xy,
                    net.network,
                    np.where(wanted_by[key][:, None], fac_xy, np.nan),
                    options.max_snap_m,
                ),
            )
            for key, net in nets.items()
        }
        for key, (res_job, fac_job) in snapping.items():
            nets[key].residents, nets[key].facilities = res_job.result(), fac_job.result()
    # status, snap distance and evaluation are per network: a resident may be on the walking
    # network and off the driving one (or the reverse)
    located = status == STATUS_OK
    net_status = {
        key: np.where(located & ~net.residents.on_network, STATUS_OFF_NETWORK, status)
        for key, net in nets.items()
    }
    status_key = "walk" if "walk" in nets else next(iter(nets))
    status = net_status[status_key]
    for net in nets.values():
        net.network.stats["residents_off_network"] = int(
            (located & ~net.residents.on_network).sum()
        )
        wanted = wanted_by[net.key]
        fac_status[(fac_status == STATUS_OK) & wanted & ~net.facilities.on_network] = (
            STATUS_OFF_NETWORK
        )
        fac_snap_m = np.fmin(fac_snap_m, np.where(wanted, net.facilities.snap_m, np.nan))
    evaluable_on = {key: values == STATUS_OK for key, values in net_status.items()}
    _check_snapping(net_status, nets, fac_status, fac_used, options, res_xy)

    progress("travel")
    speeds = {
        c.id: (options.walk_speed_m_per_min or c.speed_m_per_min) / 60.0
        for c in circles
        if c.speed_m_per_min is not None
    }
    met: dict[tuple[str, str], np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    zone_columns: dict[str, np.ndarray] = {}
    hub_results: dict[str, dict] = {}
    reach_min: dict[str, float] = {}
    times_min: dict[tuple[str, str], np.ndarray] = {}
    column_speed: dict[str, float] = {}
    walking = walk_groups([c for c in circles if c.mode == "walk"], speeds)
    if walking:
        net = nets["walk"]
        costs = search(net, facilities, walking, "to_facility", options.engine)
        report_speed = report_speeds([c for c in circles if c.mode == "walk"], speeds)
        for ftype, speed in report_speed.items():
            columns[f"{ftype}_min"] = np.round(costs[(ftype,)][:, 0] / speed / 60.0, 3)
            reach_min[f"{ftype}_min"] = round(walking[(ftype,)][1] / speed / 60.0, 3)
            column_speed[f"{ftype}_min"] = round(speed * 60.0, 3)
    for c in circles:
        zone_ids, unmatched = circle_zone_ids(zone_raw, c)
        if c.zones:
            zone_columns[f"{c.id}_zone"] = zone_ids
            if inputs["zones"] is None:
                warnings.append(
                    f"{c.id}: no --zones given; every resident uses the default threshold"
                )
            elif unmatched:
                warnings.append(
                    f"{c.id}: zone values that name none of its zones (residents "
                    f"there use the default): {', '.join(unmatched[:10])}"
                )
        if c.mode == "walk":
            for r in c.requirements:
                limit = walk_threshold_m(r, speeds[c.id], _minutes(r, zone_ids))
                met[(c.id, r.id)] = facility_met(costs[r.facility_types], r.min_count, limit)
                kth = costs[r.facility_types][:, r.min_count - 1]
                times_min[(c.id, r.id)] = np.where(
                    evaluable_on["walk"], kth / speeds[c.id] / 60.0, np.nan
                )
        elif c.mode == "drive":
            net = nets[network_key(c)]
            groups = drive_groups(c)
            drive_costs = search(net, facilities, groups, c.direction, options.engine)
            for ftype in sorted({t for r in c.requirements for t in r.facility_types}):
                columns[f"{ftype}_drive_min"] = np.round(drive_costs[(ftype,)][:, 0] / 60.0, 3)
                reach_min[f"{ftype}_drive_min"] = round(groups[(ftype,)][1] / 60.0, 3)
            for r in c.requirements:
                limit = threshold_minutes(r, zone_ids) * 60.0
                met[(c.id, r.id)] = facility_met(drive_costs[r.facility_types], r.min_count, limit)
                kth = drive_costs[r.facility_types][:, r.min_count - 1]
                times_min[(c.id, r.id)] = np.where(evaluable_on[net.key], kth / 60.0, np.nan)
        else:
            lc = next(x for x in loaded if x.circle.id == c.id)
            hub_results[c.id] = hub_circle(lc, nets[network_key(c)], facilities, speeds, options)
            times = hub_results[c.id]["times_s"]
            dests = hub_results[c.id]["destinations"]
            for r in c.requirements:
                cols = [dests.index(d) for d in r.destinations or []]
                limit = threshold_minutes(r, zone_ids) * 60.0
                reached, ok = destinations_met(times, cols, limit, r.min_count, r.min_share)
                met[(c.id, r.id)] = ok
                columns[f"{c.id}_{r.id}_reached"] = reached
        evaluable = evaluable_on[network_key(c)]
        for r in c.requirements:
            met[(c.id, r.id)] = met[(c.id, r.id)] & evaluable
        met[(c.id, "")] = circle_met(c, met)

    progress("evaluate")
    snap_cols: dict[str, np.ndarray] = {}
    status_cols: dict[str, np.ndarray] = {}
    for key, net in nets.items():  # the first drive network stands for all (same roads)
        prefix = "" if key == status_key else "drive_"
        snap_cols.setdefault(f"{prefix}snap_m", net.residents.snap_m)
        status_cols.setdefault(f"{prefix}status", net_status[key])
    table = pd.DataFrame(
        {
            "resident_id": residents["resident_id"].reset_index(drop=True),
            "community_id": residents["community_id"].reset_index(drop=True),
            "population": residents["population"].to_numpy(dtype=float),
            **{k: np.round(v, 2) for k, v in snap_cols.items()},
            **status_cols,
            **zone_columns,
            **dict(sorted(columns.items())),
            **{c.id: met[(c.id, "")].astype(np.int8) for c in circles},
            # which requirement a resident misses, for planners and for compare
            **{
                f"{c.id}/{r.id}": met[(c.id, r.id)].astype(np.int8)
                for c in circles
                for r in c.requirements
            },
        }
    )
    if on_residents is not None:
        on_residents(table)
    frame = pd.DataFrame(
        {"community_id": residents["community_id"], "population": residents["population"]}
    )
    cov = coverage(
        frame, circles, met, community_ids, subdistricts=subdistricts, times_min=times_min
    )
    fac_table = pd.DataFrame(
        {
            "facility_id": facilities["facility_id"].to_numpy(dtype=object),
            "facility_type": fac_types,
            "facility_name": facilities["facility_name"].to_numpy(dtype=object),
            "planned": facilities["planned"].to_numpy(dtype=bool),
            "snap_m": np.round(fac_snap_m, 2),
            "status": fac_status,
        }
    )
    main_net = nets.get("walk", next(iter(nets.values()))).network
    summary = build_summary(
        options=options,
        loaded=loaded,
        networks={k: n.network for k, n in nets.items()},
        residents=table,
        facilities=fac_table,
        coverage=cov,
        warnings=warnings,
        speeds_m_min={cid: s * 60.0 for cid, s in speeds.items()},
        zone_ids={c.id: zone_columns.get(f"{c.id}_zone") for c in circles},
        hub_results=hub_results,
        met=met,
        engine=options.engine,
        reach_min=reach_min,
        column_speed=column_speed,
        classified=inputs["classified"],
        converted=inputs["converted"],
        subdistricts=subdistricts,
    )
    return AuditResult(
        residents=table,
        facilities=fac_table,
        coverage=cov,
        network_issues=issues_lonlat(main_net),
        summary=summary,
        circles=loaded,
        geo=AuditGeometry(
            resident_table=table,
            resident_xy=res_xy,
            facility_table=fac_table,
            facility_points=facilities.geometry.to_numpy(dtype=object),
            communities=inputs["communities_metric"],
            network=main_net,
            crs=crs,
        ),
    )


def _subdistricts(
    raw: gpd.GeoDataFrame, comms: gpd.GeoDataFrame, options: AuditOptions
) -> dict[str, str]:
    """Community id → sub-district (街道) name, from ``--subdistrict-field`` of the communities."""
    field = options.subdistrict_field
    assert options.communities is not None  # sub-districts come from the communities file
    columns = [str(c) for c in raw.columns]
    if field is None:
        field = next((c for c in ("subdistrict", "街道", "街道名称") if c in columns), None)
        if field is None:
            return {}
    elif field not in columns:
        raise InputDataError(
            f"column {field!r} not found in communities file {options.communities.name}; "
            f"available: {', '.join(c for c in columns if c != raw.geometry.name)}; pass "
            "--subdistrict-field"
        )
    values = raw[field].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return {cid: str(v) for cid, v in zip(comms["community_id"], values, strict=True) if v}


def _network_warnings(nets: dict, options: AuditOptions, warnings: list[str]) -> None:
    """What the network build read in a way the user should know of."""
    damaged = sorted(
        {
            n.network.stats["cache_damaged"]
            for n in nets.values()
            if "cache_damaged" in n.network.stats
        }
    )
    if damaged:
        warnings.append(
            f"network cache file {damaged[0]} was damaged (a run killed while writing it?); the "
            "network was built again from the extract and the cache entry replaced"
        )
    unknown = next(
        (
            n.network.stats["oneway_unknown"]
            for n in nets.values()
            if "oneway_unknown" in n.network.stats
        ),
        None,
    )
    if unknown:
        listed = ", ".join(f"{value!r} ({count})" for value, count in unknown.items())
        warnings.append(
            f"network file {options.network.name}: one-way values read as two-way, being none of "
            f"yes/true/1/t/ft (along the line), -1/reverse/tf (against it), no/false/0/f (both "
            f"ways): {listed}; recode them or pass the right --oneway-field"
        )


def _check_snapping(
    net_status: dict[str, np.ndarray],
    nets: dict,
    fac_status: np.ndarray,
    fac_used: np.ndarray,
    options: AuditOptions,
    res_xy: np.ndarray | None = None,
) -> None:
    """Stop when nothing could be placed on a network: a CRS or coordinate mix-up, not data."""
    for key, status in net_status.items():
        located = status != "no_geometry"
        if not located.any() or (status == STATUS_OK).any():
            continue
        net = nets[key]
        nearest = float(np.nanmin(net.residents.snap_m))
        which = "walking" if key == "walk" else "driving"
        if nearest <= options.max_snap_m and res_xy is not None:  # near fragments only
            connected = float(np.nanmin(snap.connected_distance_m(net.network, res_xy)))
            raise InputDataError(
                f"no resident of {options.residents.name} lies within {options.max_snap_m:g} m "
                f"of the {which} network's connected part (the nearest is {connected:,.0f} m "
                f"away): the nearest lines, {nearest:,.0f} m away, are fragments (components "
                f"under --min-component-nodes {options.min_component_nodes} nodes); the lines "
                "may not share vertices where streets meet: try --split-crossings or "
                "--join-ends, or lower --min-component-nodes"
            )
        raise InputDataError(
            f"no resident of {options.residents.name} lies within {options.max_snap_m:g} m "
            f"of the {which} network (the nearest is {nearest:,.0f} m away); check that both "
            "are in the same place (CRS, or --coords for GCJ-02/BD-09 data), or raise "
            "--max-snap"
        )
    if fac_used.any() and not (fac_status[fac_used] == STATUS_OK).any():
        near = [np.nanmin(np.append(n.facilities.snap_m, np.inf)) for n in nets.values()]
        if min(near) <= options.max_snap_m:  # near fragments only
            raise InputDataError(
                f"no facility of {options.facilities.name} that the circles use lies within "
                f"{options.max_snap_m:g} m of the network's connected part: the nearest lines are "
                f"fragments (components under --min-component-nodes "
                f"{options.min_component_nodes} nodes); the lines may not share vertices where "
                "streets meet: try --split-crossings or --join-ends, or lower "
                "--min-component-nodes"
            )
        raise InputDataError(
            f"no facility of {options.facilities.name} that the circles use lies within "
            f"{options.max_snap_m:g} m of the network; check that both are in the same place "
            "(CRS, or --coords for GCJ-02/BD-09 data), or raise --max-snap"
        )


def _check_options(options: AuditOptions) -> None:
    if options.walk_speed_m_per_min is not None and options.walk_speed_m_per_min <= 0:
        raise InputDataError(f"--walk-speed {options.walk_speed_m_per_min:g} must be > 0 m/min")
    if options.max_snap_m <= 0:
        raise InputDataError(f"--max-snap {options.max_snap_m:g} must be > 0 metres")
    if options.join_ends_m < 0:
        raise InputDataError(f"--join-ends {options.join_ends_m:g} must be >= 0 metres (0: off)")
    if options.min_component_nodes < 0:
        raise InputDataError(
            f"--min-component-nodes {options.min_component_nodes} must be >= 0 (0 keeps every "
            "component)"
        )
    for role in options.coords:
        if role != "*" and role not in LAYER_ROLES:
            raise InputDataError(
                f"--coords {role}=...: no such layer; use one of {', '.join(LAYER_ROLES)}, or "
                "give a bare system (--coords gcj02) for every layer"
            )
    files = [
        (role, split_layer(Path(path))[0] if role != "network" else Path(path))
        for role, path in (
            ("network", options.network),
            ("facilities", options.facilities),
            ("residents", options.residents),
            ("communities", options.communities),
            ("zones", options.zones),
            ("planned facilities", options.planned),
        )
        if path is not None
    ]
    missing = [f"{role} file {path}" for role, path in files if not path.exists()]
    if missing:
        verb, what = ("does", "path") if len(missing) == 1 else ("do", "paths")
        raise InputDataError(f"{', '.join(missing)} {verb} not exist; check the {what}")
    refuse_osm_xml(Path(options.network))


def _minutes(requirement, zone_ids: np.ndarray) -> np.ndarray:
    if requirement.max_time_min is None:
        return np.full(len(zone_ids), np.nan)
    return threshold_minutes(requirement, zone_ids)


def _community_column(
    layer: gpd.GeoDataFrame, options: AuditOptions, warnings: list[str]
) -> list[str]:
    """Community ids from a column on the residents (all unassigned when there is none)."""
    columns = [str(c) for c in layer.columns]
    if options.community_field in columns:
        values = layer[options.community_field].astype("string").str.strip()
        values = values.mask(values.isna() | (values == ""), UNASSIGNED)
        return values.astype(object).tolist()
    if options.community_field != "community":
        raise InputDataError(
            f"column {options.community_field!r} not found in residents file "
            f"{options.residents.name}; available: {', '.join(columns)}; pass --community-field "
            "or --communities"
        )
    warnings.append(
        "no communities given (no --communities and no 'community' column on the residents); "
        "every resident is reported as unassigned"
    )
    return [UNASSIGNED] * len(layer)
