"""The audit pipeline: rules → layers → networks → travel costs → checks → coverage → summary.

``run_audit`` is the one function the CLI and the tests call. It reads files but never prints or
writes: reports are written by :mod:`circles.report.files` from the :class:`AuditResult`.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.audit_steps import (
    areas_ahead,
    capacity_checks,
    destination_reach_by_circle,
    facilities_table,
    residents_table,
    traced_areas,
    walking_speeds_of,
    zones_layer,
)
from circles.evaluate.checks import coverage
from circles.evaluate.counts import issues_lonlat
from circles.evaluate.requirements import Checks, evaluate_requirements
from circles.evaluate.summary import SummaryInputs, build_summary
from circles.inputs.layers import check_options, read_layers
from circles.inputs.place import Placed, place_layers
from circles.inputs.provenance import gather_provenance
from circles.network import snap
from circles.network.attach import Names, attach, network_warnings
from circles.network.build import Network
from circles.network.networks import AuditNetwork, build_networks, network_key
from circles.network.roads import release_osm
from circles.projection import xy_points
from circles.rules.load import LoadedCircle, load_rules
from circles.runtime import collector_paused, map_large_blocks, release_memory
from circles.settings import Settings as AuditOptions
from circles.traveltime import dijkstra, hub
from circles.traveltime import graph as traveltime
from circles.traveltime.costs import TravelCosts, travel_costs

if TYPE_CHECKING:
    from circles.reuse import Reuse

Progress = Callable[[str], None]
#: called with the residents table as soon as it is final, their metric points and its CRS
OnResidents = Callable[[pd.DataFrame, np.ndarray, object], None]
#: The stages ``run_audit`` reports to its ``progress`` callback, in order, with their labels.
STAGES = {
    "rules": "validating the rules",
    "read": "reading residents, facilities and communities",
    "network": "building the street networks",
    "snap": "snapping to the networks",
    "travel": "computing travel times",
    "capacity": "sharing out the capacities",
    "evaluate": "evaluating the circles",
    "areas": "tracing the service areas",
    "impact": "weighing each facility",
}


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
    internals: AuditInternals | None = None
    #: the facility-side view (``--facility-impact``), see :mod:`circles.suggest.impact`
    facility_impact: pd.DataFrame | None = None
    #: capacity requirements: per facility its capacity and the nearest-first load
    allocation: pd.DataFrame | None = None


@dataclass
class AuditInternals:
    """What the audit worked with, kept on request for the stages after it.

    ``circles suggest`` and the facility-side view need the networks with their snaps, search
    graphs and engines, the placed layers, the travel costs and the checks.
    """

    nets: dict[str, AuditNetwork]
    placed: Placed
    costs: TravelCosts
    checks: Checks
    evaluable: dict[str, np.ndarray]


@dataclass
class AuditGeometry:
    """The audit's layers as geometries in the metric CRS, for maps.

    ``residents`` carries the residents table's columns (one 0/1 column per circle), built on
    first use from the table and the points (only maps need it); ``network`` is the walking
    network (the driving one when no circle walks); ``drive_network`` the driving network when
    a circle drives (else None); ``zones`` the ``--zones`` polygons with their ``zone`` value
    (else None).
    """

    resident_table: pd.DataFrame
    resident_xy: np.ndarray
    facility_table: pd.DataFrame
    facility_points: np.ndarray
    communities: gpd.GeoDataFrame | None
    network: Network
    crs: object
    drive_network: Network | None = None
    zones: gpd.GeoDataFrame | None = None
    service_areas: gpd.GeoDataFrame | None = None
    facility_areas: gpd.GeoDataFrame | None = None

    @functools.cached_property
    def resident_points(self) -> np.ndarray:
        """Each resident's point (None without geometry), made on first use.

        The planned audit's residents stand where the status quo's do: the scenario hands it
        the status quo's points.
        """
        return xy_points(self.resident_xy)

    @functools.cached_property
    def residents(self) -> gpd.GeoDataFrame:
        """The residents table with each resident's point."""
        return gpd.GeoDataFrame(self.resident_table, geometry=self.resident_points, crs=self.crs)

    @functools.cached_property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facilities table with each facility's point."""
        return gpd.GeoDataFrame(self.facility_table, geometry=self.facility_points, crs=self.crs)


def _quiet(_: str) -> None:
    return None


def run_audit(
    options: AuditOptions,
    progress: Progress = _quiet,
    on_residents: OnResidents | None = None,
    *,
    keep_internals: bool = False,
    reuse: Reuse | None = None,
) -> AuditResult:
    """Run one audit and return its tables and summary.

    The stages run in a straight line: rules → layers → networks → placement in the metric
    CRS → snaps → travel costs → checks → coverage → summary. ``progress`` is called with each
    stage's name as it starts; ``on_residents`` with the residents table as soon as it is final
    (before coverage and the summary are worked out), each resident's point (``n × 2``, in the
    metric CRS, NaN without one) and that CRS, so that a caller can start writing them
    meanwhile. With ``keep_internals`` the result carries :class:`AuditInternals`. A ``reuse``
    given to the status quo's audit and then to the planned one lets the second take what the
    first found and still holds (see :mod:`circles.reuse`).

    Raises
    ------
    CirclesError
        Any problem the user can fix: rules, inputs, network (see :mod:`circles.errors`).
    """
    # the parsed extract, the one heap of short-lived objects, is collected when released;
    # the compiled kernels load on a thread while the inputs are read (joined before return)
    warm_up = threading.Thread(target=_warm_up_kernels, name="circles-kernels", daemon=True)
    map_large_blocks()  # freed arrays go back to the system (see circles.runtime)
    with collector_paused(), contextlib.ExitStack() as threads:
        warm_up.start()
        threads.callback(warm_up.join)
        result = _run(
            options,
            progress,
            on_residents,
            keep_internals=keep_internals,
            reuse=reuse,
            threads=threads,
        )
        release_memory()  # what the stages worked with, not kept in the result
        return result


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
    on_residents: OnResidents | None,
    *,
    keep_internals: bool = False,
    reuse: Reuse | None = None,
    threads: contextlib.ExitStack,
) -> AuditResult:
    """The stages of :func:`run_audit`; ``threads`` joins the threads they start."""
    warnings: list[str] = []
    progress("rules")
    loaded = (load_rules if reuse is None else reuse.load_rules)(
        options.rules or None, circle_ids=options.circle_ids or None
    )
    circles = [lc.circle for lc in loaded]
    check_options(options)

    progress("read")
    capacity_fields = [r.capacity.field for c in circles for r in c.requirements if r.capacity]
    layers = read_layers(options, warnings, keep_columns=capacity_fields)

    progress("network")
    nets = (
        build_networks(circles, options)
        if reuse is None
        else reuse.build_networks(circles, options)
    )
    release_osm()
    network_warnings(nets, options.network, warnings)
    placed = place_layers(layers, next(iter(nets.values())).network.crs, options, warnings)
    # the layers as read are placed now: only these are needed of them
    zone_layer, classified, converted = layers.zones, layers.classified, layers.converted
    del layers
    # nothing after this audit reads its search costs (no reuse, no internals): each is
    # released once the stage that needs it is done (the city-sized arrays, see _release)
    spent = reuse is None and not (keep_internals or options.facility_impact)
    if spent:  # the residents' points: their coordinates are resident_xy
        placed.residents = pd.DataFrame(placed.residents.drop(columns="geometry", errors="ignore"))

    progress("snap")
    names = Names(
        residents=options.residents.name,
        facilities=options.facilities.name,
        max_snap_m=options.max_snap_m,
        min_component_nodes=options.min_component_nodes,
    )
    attached = (attach if reuse is None else reuse.attach)(
        nets,
        circles,
        placed.resident_xy,
        placed.residents["status"].to_numpy(dtype=object),
        placed.facilities,
        names,
    )

    for net in nets.values() if spent else ():  # every snap is made
        snap.release_pieces(net.network)
    preparing = areas_ahead(options, loaded, nets, reuse, threads)
    progress("travel")
    costs = (travel_costs if reuse is None else reuse.travel_costs)(
        loaded, nets, placed.facilities, walking_speeds_of(options, loaded), options.engine
    )
    # every search is made (the capacity stage anchors the residents again if it needs to)
    _release(*(net.anchors for net in nets.values()), spent=spent)
    evaluable = {c.id: attached.evaluable(network_key(c)) for c in circles}
    checks = evaluate_requirements(
        circles,
        costs,
        evaluable,
        placed.zone_raw,
        zones_given=zone_layer is not None,
        warnings=warnings,
    )
    # the checks hold what the report needs of the groups' costs
    _release(costs.walk.costs, *(found.costs for found in costs.drive.values()), spent=spent)
    reach = destination_reach_by_circle(loaded, costs, attached, placed, spent=spent)

    units: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    allocation = None
    if any(r.capacity is not None for c in circles for r in c.requirements):
        progress("capacity")
        units, allocation = capacity_checks(
            options, loaded, nets, placed, checks, evaluable, costs, warnings
        )

    progress("evaluate")
    table = residents_table(placed, nets, attached, checks, loaded)
    if on_residents is not None:
        crs = nets.get("walk", next(iter(nets.values()))).network.crs
        on_residents(table, placed.resident_xy, crs)
    cov = coverage(
        pd.DataFrame(
            {
                "community_id": placed.residents["community_id"],
                "population": placed.residents["population"],
            }
        ),
        circles,
        checks.met,
        placed.community_ids,
        subdistricts=placed.subdistricts,
        times_min=checks.times_min,
        units=units,
    )
    _release(checks.columns, checks.times_min, spent=spent)  # in the table and the coverage now
    fac_table = facilities_table(placed, attached, capacity_fields)
    main_net = nets.get("walk", next(iter(nets.values()))).network
    zones = zones_layer(zone_layer, main_net.crs, options.zone_field)
    summary = build_summary(
        SummaryInputs(
            options=options,
            loaded=loaded,
            networks={k: n.network for k, n in nets.items()},
            residents=table,
            facilities=fac_table,
            coverage=cov,
            warnings=warnings,
            speeds_m_min={cid: s * 60.0 for cid, s in costs.speeds_m_s.items()},
            zone_ids={c.id: checks.zone_columns.get(f"{c.id}_zone") for c in circles},
            hub_results=costs.hubs,
            engine=options.engine,
            reach_min=checks.reach_min,
            column_speed=checks.column_speed,
            classified=classified,
            provenance=gather_provenance(options, loaded),
            converted=converted,
            subdistricts=placed.subdistricts,
            destinations=reach,
        )
    )
    _release(costs.hubs, spent=spent)  # the hub circles' times: in the checks and the summary now
    areas, facility_areas = None, None
    if options.service_areas != "none":
        progress("areas")
        memo = None if reuse is None else reuse.areas()
        areas, facility_areas = traced_areas(
            options, loaded, nets, placed, zones, costs, memo, preparing
        )
    result = AuditResult(
        residents=table,
        facilities=fac_table,
        coverage=cov,
        network_issues=issues_lonlat(main_net),
        summary=summary,
        circles=loaded,
        geo=AuditGeometry(
            resident_table=table,
            resident_xy=placed.resident_xy,
            facility_table=fac_table,
            facility_points=placed.facilities.geometry.to_numpy(dtype=object),
            communities=placed.communities,
            network=main_net,
            crs=main_net.crs,
            drive_network=next((n.network for k, n in nets.items() if k != "walk"), None),
            zones=zones,
            service_areas=areas,
            facility_areas=facility_areas,
        ),
        allocation=allocation,
        internals=AuditInternals(nets, placed, costs, checks, evaluable)
        if keep_internals or options.facility_impact
        else None,
    )
    if options.facility_impact:
        from circles.suggest.impact import facility_impact

        progress("impact")
        result.facility_impact = facility_impact(result)
        if not keep_internals:
            result.internals = None
    return result


def _release(*holders: dict, spent: bool) -> None:
    """Empty ``holders`` (of city-sized arrays no later stage reads) when the audit is ``spent``.

    Large arrays are mapped on their own (:func:`circles.runtime.map_large_blocks`): freed,
    they go back to the system at once, before the next stage's peak. The heap's smaller holes
    are handed back once, when the audit ends (trimming after every stage cost 0.5 s on Porto).
    """
    if spent:
        for holder in holders:
            holder.clear()
