"""Residents and facilities snapped to every network of the audit, with a status per network.

A resident may be on the walking network and off the driving one (or the reverse): each network
keeps its own snaps, and each circle is evaluated on its own network. Facilities are snapped
only to the networks whose circles use their type. The audit stops when nobody could be placed
on a network at all (a CRS or coordinate mix-up, or lines that are all fragments).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from circles.errors import InputDataError
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK
from circles.network import snap
from circles.network.networks import AuditNetwork, network_key
from circles.network.snap import Snaps, snap_xy
from circles.projection import point_coordinates
from circles.rules.schema import Circle


@dataclass
class Attachment:
    """Where residents and facilities stand on the networks.

    ``status_by_network`` maps each network key to the residents' status on it (``ok``,
    ``off_network``, ``no_geometry``); ``status_key`` is the network whose status is the
    residents' ``status`` column (walking when a circle walks); facility arrays follow the
    facilities table: ``used`` by some circle, the best ``snap_m`` over the networks that want
    it, and its ``status`` (``not_used`` for types no circle needs).
    """

    status_by_network: dict[str, np.ndarray]
    status_key: str
    facility_used: np.ndarray
    facility_snap_m: np.ndarray
    facility_status: np.ndarray

    def evaluable(self, key: str) -> np.ndarray:
        """Residents that can be evaluated on network ``key``."""
        return self.status_by_network[key] == STATUS_OK


@dataclass(frozen=True)
class Names:
    """What messages call the inputs and limits (file names, option values)."""

    residents: str
    facilities: str
    max_snap_m: float
    min_component_nodes: int


def attach(
    nets: dict[str, AuditNetwork],
    circles: list[Circle],
    resident_xy: np.ndarray,
    resident_status: np.ndarray,
    facilities: pd.DataFrame,
    names: Names,
    *,
    known: dict[str, tuple[Snaps, Snaps]] | None = None,
) -> Attachment:
    """Snap residents and the facilities each network needs to every network (in place).

    Each network's ``residents`` and ``facilities`` snaps are set; the networks snap at once,
    on two threads (the kernels run without the GIL). ``known`` gives, per network, snaps made
    before on the same network (the status quo's, see :mod:`circles.reuse`): the residents'
    and those of the first facility rows, which are kept (a point's snap depends on that point
    alone); only the facility rows after them are snapped.

    Raises
    ------
    InputDataError
        When no resident (or no used facility) lies within the snap distance of a network.
    """
    max_snap_m = names.max_snap_m
    fac_types = facilities["facility_type"].to_numpy(dtype=object)
    status = np.asarray(resident_status, dtype=object)
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
    known = known or {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        snapping = {}
        for key, net in nets.items():
            res_snaps, fac_snaps = known.get(key, (None, None))
            first = 0 if fac_snaps is None else len(fac_snaps.edge)
            snapping[key] = (
                pool.submit(snap_xy, net.network, resident_xy, max_snap_m)
                if res_snaps is None
                else None,
                pool.submit(
                    snap_xy,
                    net.network,
                    np.where(wanted_by[key][first:, None], fac_xy[first:], np.nan),
                    max_snap_m,
                ),
            )
        for key, (res_job, fac_job) in snapping.items():
            res_snaps, fac_snaps = known.get(key, (None, None))
            nets[key].residents = res_snaps if res_job is None else res_job.result()
            nets[key].facilities = _joined(fac_snaps, fac_job.result())
    located = status == STATUS_OK
    by_network = {
        key: np.where(located & ~net.snapped()[0].on_network, STATUS_OFF_NETWORK, status)
        for key, net in nets.items()
    }
    for net in nets.values():
        res_snaps, fac_snaps = net.snapped()
        net.network.stats["residents_off_network"] = int((located & ~res_snaps.on_network).sum())
        wanted = wanted_by[net.key]
        fac_status[(fac_status == STATUS_OK) & wanted & ~fac_snaps.on_network] = STATUS_OFF_NETWORK
        fac_snap_m = np.fmin(fac_snap_m, np.where(wanted, fac_snaps.snap_m, np.nan))
    _check_snapping(by_network, nets, fac_status, fac_used, names, resident_xy)
    return Attachment(
        status_by_network=by_network,
        status_key="walk" if "walk" in nets else next(iter(nets)),
        facility_used=fac_used,
        facility_snap_m=fac_snap_m,
        facility_status=fac_status,
    )


def _joined(first: Snaps | None, rest: Snaps) -> Snaps:
    """The snaps of ``first``'s rows followed by those of ``rest``."""
    if first is None:
        return rest
    return Snaps(
        edge=np.concatenate([first.edge, rest.edge]),
        offset_m=np.concatenate([first.offset_m, rest.offset_m]),
        snap_m=np.concatenate([first.snap_m, rest.snap_m]),
        on_network=np.concatenate([first.on_network, rest.on_network]),
    )


def network_warnings(nets: dict[str, AuditNetwork], network: Path, warnings: list[str]) -> None:
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
            f"network file {network.name}: one-way values read as two-way, being none of "
            f"yes/true/1/t/ft (along the line), -1/reverse/tf (against it), no/false/0/f (both "
            f"ways): {listed}; recode them or pass the right --oneway-field"
        )


def _check_snapping(
    net_status: dict[str, np.ndarray],
    nets: dict,
    fac_status: np.ndarray,
    fac_used: np.ndarray,
    names: Names,
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
        if nearest <= names.max_snap_m and res_xy is not None:  # near fragments only
            connected = float(np.nanmin(snap.connected_distance_m(net.network, res_xy)))
            raise InputDataError(
                f"no resident of {names.residents} lies within {names.max_snap_m:g} m "
                f"of the {which} network's connected part (the nearest is {connected:,.0f} m "
                f"away): the nearest lines, {nearest:,.0f} m away, are fragments (components "
                f"under --min-component-nodes {names.min_component_nodes} nodes); the lines "
                "may not share vertices where streets meet: try --split-crossings or "
                "--join-ends, or lower --min-component-nodes"
            )
        raise InputDataError(
            f"no resident of {names.residents} lies within {names.max_snap_m:g} m "
            f"of the {which} network (the nearest is {nearest:,.0f} m away); check that both "
            "are in the same place (CRS, or --coords for GCJ-02/BD-09 data), or raise "
            "--max-snap"
        )
    if fac_used.any() and not (fac_status[fac_used] == STATUS_OK).any():
        near = [np.nanmin(np.append(n.facilities.snap_m, np.inf)) for n in nets.values()]
        if min(near) <= names.max_snap_m:  # near fragments only
            raise InputDataError(
                f"no facility of {names.facilities} that the circles use lies within "
                f"{names.max_snap_m:g} m of the network's connected part: the nearest lines are "
                f"fragments (components under --min-component-nodes "
                f"{names.min_component_nodes} nodes); the lines may not share vertices where "
                "streets meet: try --split-crossings or --join-ends, or lower "
                "--min-component-nodes"
            )
        raise InputDataError(
            f"no facility of {names.facilities} that the circles use lies within "
            f"{names.max_snap_m:g} m of the network; check that both are in the same place "
            "(CRS, or --coords for GCJ-02/BD-09 data), or raise --max-snap"
        )
