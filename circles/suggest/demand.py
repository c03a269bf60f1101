"""A requirement's demand and the reach sets of facilities and candidate sites.

Everything is priced as the audit prices it: the sites are snapped to the requirement's network
like facilities, inserted into its search graph (split points and access stubs), and each
resident's cost to a site is the cheaper end of its piece plus the way along the piece and its
access leg, within the resident's own threshold (per zone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from circles.errors import InputDataError
from circles.network.networks import AuditNetwork, network_key
from circles.network.snap import Snaps, snap_xy
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle, Requirement
from circles.traveltime.engine import BuiltinEngine
from circles.traveltime.graph import Anchors, anchor_residents, build_search_graph
from circles.traveltime.reach import ReachSets, reach_sets


@dataclass
class Demand:
    """Who meets a requirement and who needs how many more of its facilities.

    Per resident: ``population``, ``evaluable`` (on the requirement's network), ``limit`` (the
    largest cost a facility may be: the threshold in metres walking or seconds driving, by
    zone; -inf where not evaluable), ``count`` (existing facilities within it) and ``need``
    (``min_count`` minus that, at least 0; residents not evaluable need nothing they can get).
    """

    circle: Circle
    requirement: Requirement
    population: np.ndarray
    evaluable: np.ndarray
    limit: np.ndarray
    count: np.ndarray
    existing: ReachSets

    @property
    def k(self) -> int:
        """How many facilities within the threshold a resident needs (``min_count``)."""
        return int(self.requirement.min_count)

    @property
    def met(self) -> np.ndarray:
        """Per resident: meets the requirement with the existing facilities."""
        return self.evaluable & (self.count >= self.k)

    @property
    def need(self) -> np.ndarray:
        """Per resident: how many more facilities within its threshold it needs."""
        return np.where(self.evaluable, np.maximum(self.k - self.count, 0), 0)


def find_requirement(loaded: list[LoadedCircle], spec: str) -> tuple[Circle, Requirement]:
    """The requirement ``CIRCLE/REQUIREMENT`` among the rules; a walking or driving one."""
    circle_id, _, requirement_id = spec.partition("/")
    circles = {lc.circle.id: lc.circle for lc in loaded}
    if circle_id not in circles:
        raise InputDataError(
            f"--requirement {spec!r}: no circle {circle_id!r} in the rules; "
            f"circles: {', '.join(circles)}"
        )
    circle = circles[circle_id]
    found = {r.id: r for r in circle.requirements}
    if requirement_id not in found:
        raise InputDataError(
            f"--requirement {spec!r}: circle {circle_id} has no requirement {requirement_id!r}; "
            f"give CIRCLE/REQUIREMENT, one of {', '.join(f'{circle_id}/{r}' for r in found)}"
        )
    if circle.mode not in ("walk", "drive"):
        raise InputDataError(
            f"--requirement {spec!r}: {circle_id} is a hub circle (stations and a line-haul "
            "table): a new site cannot be placed by network reach; choose a walking or driving "
            "requirement"
        )
    return circle, found[requirement_id]


@dataclass
class SiteGraph:
    """A requirement's network with its facilities and the candidate sites inserted."""

    csr: tuple[np.ndarray, np.ndarray, np.ndarray]
    anchors: Anchors
    facility_node: np.ndarray  # search-graph node of each facility row (-1 off the network)
    site_node: np.ndarray  # of each candidate site (-1 off the network)
    site_snaps: Snaps


def site_graph(net: AuditNetwork, circle: Circle, site_xy: np.ndarray, max_snap_m: float):
    """Insert the sites beside the facilities into the network's search graph."""
    residents, facilities = net.snapped()
    sites = snap_xy(net.network, site_xy, max_snap_m)
    both = Snaps(
        edge=np.concatenate([facilities.edge, sites.edge]),
        offset_m=np.concatenate([facilities.offset_m, sites.offset_m]),
        snap_m=np.concatenate([facilities.snap_m, sites.snap_m]),
        on_network=np.concatenate([facilities.on_network, sites.on_network]),
    )
    graph = build_search_graph(net.network, both, leg_cost_per_m=net.leg_cost_per_m)
    direction = "to_facility" if circle.mode == "walk" else circle.direction
    reverse = graph.directed and direction == "from_facility"
    engine = BuiltinEngine(graph, reverse=reverse)
    anchors = anchor_residents(
        net.network, graph, residents, direction=direction, leg_cost_per_m=net.leg_cost_per_m
    )
    n_fac = len(facilities.edge)
    return SiteGraph(
        csr=(engine.indptr, engine.indices, engine.weights),
        anchors=anchors,
        facility_node=graph.facility_node[:n_fac],
        site_node=graph.facility_node[n_fac:],
        site_snaps=sites,
    )


def demand_of(
    circle: Circle,
    requirement: Requirement,
    sites: SiteGraph,
    facility_types: np.ndarray,
    population: np.ndarray,
    evaluable: np.ndarray,
    limit: np.ndarray,
) -> Demand:
    """The requirement's demand: the existing facilities' reach over every evaluable resident."""
    rows = np.flatnonzero(np.isin(facility_types, requirement.facility_types))
    existing = reach_sets(
        sites.csr, sites.facility_node[rows], sites.anchors, np.flatnonzero(evaluable), limit
    )
    count = existing.counts(len(population))
    return Demand(
        circle=circle,
        requirement=requirement,
        population=np.asarray(population, dtype=float),
        evaluable=evaluable,
        limit=limit,
        count=count,
        existing=existing,
    )


def network_of(nets: dict[str, AuditNetwork], circle: Circle) -> AuditNetwork:
    """The network a circle is evaluated on."""
    return nets[network_key(circle)]


def facility_rows(facilities: pd.DataFrame, requirement: Requirement) -> np.ndarray:
    """Rows of the facilities table of the requirement's types."""
    types = facilities["facility_type"].to_numpy(dtype=object)
    return np.flatnonzero(np.isin(types, requirement.facility_types))
