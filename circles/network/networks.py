"""The networks an audit needs: walking, and one driving network per set of drive speeds.

Walking circles share the walking network; driving circles (and hub circles reached by car)
get one driving network per set of speeds. Each :class:`AuditNetwork` keeps its residents' and
facilities' snaps, and later its search graph and engines, so every search reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from circles.network.build import Network, is_pbf
from circles.network.cache import load_network
from circles.network.snap import Snaps
from circles.rules.schema import Circle, DriveSpeeds

if TYPE_CHECKING:
    from circles.audit import AuditOptions
    from circles.traveltime.graph import SearchGraph


@dataclass
class AuditNetwork:
    """One network of the audit with the residents and facilities snapped to it."""

    key: str
    network: Network
    residents: Snaps | None = None
    facilities: Snaps | None = None
    graph: SearchGraph | None = None
    engines: dict = field(default_factory=dict)
    anchors: dict = field(default_factory=dict)
    leg_cost_per_m: float = 1.0

    def snapped(self) -> tuple[Snaps, Snaps]:
        """The residents' and facilities' snaps (the audit snaps both before any search)."""
        assert self.residents is not None and self.facilities is not None, self.key
        return self.residents, self.facilities

    def search_graph(self) -> SearchGraph:
        """The search graph of the network, built on first use from the facilities' snaps."""
        if self.graph is None:
            from circles.traveltime.graph import build_search_graph

            self.graph = build_search_graph(
                self.network, self.snapped()[1], leg_cost_per_m=self.leg_cost_per_m
            )
        return self.graph


def drive_key(drive: DriveSpeeds) -> str:
    """Circles whose speeds agree share one drive network, whatever their sources say."""
    return "drive:" + drive.model_dump_json(exclude={"sources"})


def network_key(circle: Circle) -> str:
    """Which network a circle travels on (hub circles: their access network)."""
    access = circle.hub.access if circle.hub is not None else circle.mode
    if access == "walk":
        return "walk"
    assert circle.drive is not None
    return drive_key(circle.drive)


def build_networks(circles: list[Circle], options: AuditOptions) -> dict[str, AuditNetwork]:
    """The walking network and one driving network per distinct set of drive speeds.

    They are built one after the other in this process, from one parse of the extract: no
    child process (a fork after threads have started can deadlock on a lock a thread held, and
    a child can outlive an interrupted parent).
    """
    keys = list(dict.fromkeys(network_key(c) for c in circles))
    drives = {drive_key(c.drive): c.drive for c in circles if c.drive is not None}
    common: dict[str, Any] = {
        "crs": options.crs,
        "min_component_nodes": options.min_component_nodes,
    }
    if not is_pbf(options.network):  # centre-lines only: OSM ways share their junctions
        common |= {"split_crossings": options.split_crossings, "join_ends_m": options.join_ends_m}
    drive_params = {
        key: {
            **common,
            "mode": "drive",
            "drive": drive,
            "class_field": options.road_class_field,
            "speed_field": options.speed_field,
            "oneway_field": options.oneway_field,
        }
        for key, drive in drives.items()
    }
    nets: dict[str, AuditNetwork] = {}
    walk_crs = None
    if "walk" in keys:
        network = load_network(options.network, use_cache=options.cache, **common)
        nets["walk"] = AuditNetwork("walk", network)
        walk_crs = network.crs
    for key in drive_params:
        if key not in keys:
            continue
        network = load_network(options.network, use_cache=options.cache, **drive_params[key])
        if walk_crs is not None and network.crs != walk_crs:  # measured apart: same CRS
            params = {**drive_params[key], "crs": walk_crs.to_string()}
            network = load_network(options.network, use_cache=options.cache, **params)
        drive = drives[key]
        access_km_h = (
            drive.road_class_km_per_h.get("service", drive.road_class_km_per_h["default"])
            * drive.congestion_factor
        )
        nets[key] = AuditNetwork(key, network, leg_cost_per_m=3.6 / access_km_h)
    return nets
