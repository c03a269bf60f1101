"""The audit's steps that are more than one call.

The capacity checks, the hub circles' reach per destination, the service areas and their
preparation, and the residents and facilities tables. Called by :func:`circles.audit.run_audit`
only, in its order.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from circles.errors import InputDataError
from circles.evaluate.requirements import Checks
from circles.evaluate.summary import destination_reach
from circles.inputs.place import Placed
from circles.network.attach import Attachment
from circles.network.networks import AuditNetwork, network_key
from circles.projection import to_metric
from circles.rules.load import LoadedCircle
from circles.rules.schema import Requirement
from circles.settings import Settings as AuditOptions
from circles.traveltime.costs import TravelCosts, walking_speeds

if TYPE_CHECKING:
    from circles.areas.build import AreaMemo, Preparation
    from circles.reuse import Reuse


def capacity_checks(
    options: AuditOptions,
    loaded: list[LoadedCircle],
    nets: dict[str, AuditNetwork],
    placed: Placed,
    checks: Checks,
    evaluable: dict[str, np.ndarray],
    costs: TravelCosts,
    warnings: list[str],
) -> tuple[dict[tuple[str, str], dict[str, np.ndarray]], pd.DataFrame | None]:
    """Check the capacity requirements by supply (see circles.evaluate.supply_checks).

    Returns the units per resident of each capacity requirement and, per facility, its
    capacity and the load the nearest-first allocation gives it.
    """
    from circles.evaluate.capacity import capacities
    from circles.evaluate.supply_checks import check_supply
    from circles.evaluate.zones import limits
    from circles.traveltime.supply import supply_pairs

    facilities = placed.facilities
    types = facilities["facility_type"].to_numpy(dtype=object)
    population = placed.residents["population"].to_numpy(dtype=float)
    units = {}
    loads: list[pd.DataFrame] = []
    for lc in loaded:
        c = lc.circle
        for r in c.requirements:
            if r.capacity is None or c.mode not in ("walk", "drive"):
                continue
            field = r.capacity.field
            if field not in facilities.columns:
                raise InputDataError(
                    f"{capacity_position(lc, r)}: capacity.field {field!r}: no such column in "
                    f"facilities file {options.facilities.name}; available: "
                    f"{', '.join(str(x) for x in facilities.columns if x != 'geometry')}"
                )
            mine = np.isin(types, r.facility_types)
            supply, empty = capacities(
                facilities[field].to_numpy(dtype=object),
                mine,
                field,
                f"facilities file {options.facilities.name}",
            )
            if empty:
                warnings.append(
                    f"{c.id}/{r.id}: {empty} facilities of {', '.join(r.facility_types)} have "
                    f"no {field} value; they count as capacity 0"
                )
            net = nets[network_key(c)]
            rows = np.flatnonzero(mine & net.snapped()[1].on_network)
            zones = checks.zone_columns.get(f"{c.id}_zone", np.full(len(population), "", object))
            on = evaluable[c.id]
            limit = limits(c, r, zones, costs.speeds_m_s.get(c.id), on)
            direction = "to_facility" if c.mode == "walk" else c.direction
            pairs = supply_pairs(net, rows, direction, np.flatnonzero(on), limit)
            units[(c.id, r.id)] = found = check_supply(
                c, r, pairs, supply[rows], population, limit, on, checks
            )
            load = found.pop("facility_load")
            with np.errstate(divide="ignore", invalid="ignore"):
                use = np.where(supply[rows] > 0, load / supply[rows], np.nan)
            loads.append(
                pd.DataFrame(
                    {
                        "circle_id": c.id,
                        "requirement_id": r.id,
                        "facility_id": facilities["facility_id"].to_numpy(dtype=object)[rows],
                        "facility_type": types[rows],
                        "capacity": supply[rows],
                        "residents_in_reach": pairs.sizes,
                        "load": np.round(load, 3),
                        "utilisation": np.round(use, 4),
                    }
                )
            )
    return units, pd.concat(loads, ignore_index=True) if loads else None


def capacity_position(loaded: LoadedCircle, requirement: Requirement) -> str:
    """``file:line`` of a requirement's capacity field in its rule file."""
    from circles.rules.positions import position, read_yaml

    index = [r.id for r in loaded.circle.requirements].index(requirement.id)
    try:
        tree = read_yaml(loaded.path, [])
        line, _ = position(tree, ["requirements", index, "capacity", "field"])
    except Exception:  # the message still names the file
        line = 1
    return f"{loaded.path}:{line}"


def destination_reach_by_circle(
    loaded: list[LoadedCircle],
    costs: TravelCosts,
    attached: Attachment,
    placed: Placed,
    *,
    spent: bool,
) -> dict[str, list[dict]]:
    """Each hub circle's reach per destination, for the summary.

    Then, when the audit is ``spent``, the door-to-door times are released (residents ×
    destinations: 0.4 GB for a million residents) before coverage and the summary reach the
    audit's memory peak; the checks hold what the report needs of them.
    """
    status = attached.status_by_network[attached.status_key]
    population = placed.residents["population"].to_numpy(dtype=float)
    out = {
        lc.circle.id: destination_reach(lc.circle, costs.hubs[lc.circle.id], status, population)
        for lc in loaded
        if lc.circle.id in costs.hubs
    }
    for result in costs.hubs.values() if spent else ():
        result.pop("times_s", None)
    return out


def walking_speeds_of(options: AuditOptions, loaded: list[LoadedCircle]) -> dict[str, float]:
    """Each walking circle's speed in m/s (``--walk-speed`` wins over the rule files)."""
    given = options.walk_speed_m_per_min
    return walking_speeds(loaded, given / 60.0 if given else None)


def areas_ahead(
    options: AuditOptions,
    loaded: list[LoadedCircle],
    nets: dict[str, AuditNetwork],
    reuse: Reuse | None,
    threads: contextlib.ExitStack,
) -> Preparation | None:
    """The first network's samples and raster, prepared while the searches run (or None)."""
    if options.service_areas == "none":
        return None
    from circles.areas import Preparation

    memo = None if reuse is None else reuse.areas()
    ahead = Preparation(loaded, nets, options.max_snap_m, memo)
    threads.callback(ahead.close)
    return ahead


def traced_areas(
    options: AuditOptions,
    loaded: list[LoadedCircle],
    nets: dict[str, AuditNetwork],
    placed: Placed,
    zones: gpd.GeoDataFrame | None,
    costs: TravelCosts,
    memo: AreaMemo | None = None,
    ahead: Preparation | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The service areas of the walking and driving requirements (see circles.areas)."""
    from circles.areas import ServiceAreaOptions, service_areas

    return service_areas(
        loaded,
        nets,
        placed.facilities,
        costs.speeds_m_s,
        ServiceAreaOptions(
            engine=options.engine,
            max_snap_m=options.max_snap_m,
            per_facility=options.service_areas == "per-facility",
            zones=zones,
            zone_values=None if zones is None else zones["zone"].to_numpy(dtype=object),
        ),
        memo,
        ahead,
    )


def zones_layer(zones: gpd.GeoDataFrame | None, crs: CRS, field: str) -> gpd.GeoDataFrame | None:
    """The zone polygons in the metric CRS with their ``zone`` value, for maps."""
    if zones is None:
        return None
    frame = gpd.GeoDataFrame(
        {"zone": zones[field].astype("string").fillna("").str.strip().to_numpy(dtype=object)},
        geometry=zones.geometry.to_numpy(),
        crs=zones.crs,
    )
    return to_metric(frame, crs)


def residents_table(
    placed: Placed,
    nets: dict[str, AuditNetwork],
    attached: Attachment,
    checks: Checks,
    loaded: list[LoadedCircle],
) -> pd.DataFrame:
    """One row per input resident: ids, snaps and status per network, times, met flags."""
    residents = placed.residents
    snap_cols: dict[str, np.ndarray] = {}
    status_cols: dict[str, np.ndarray] = {}
    for key, net in nets.items():  # the first drive network stands for all (same roads)
        prefix = "" if key == attached.status_key else "drive_"
        assert net.residents is not None
        snap_cols.setdefault(f"{prefix}snap_m", net.residents.snap_m)
        status_cols.setdefault(f"{prefix}status", attached.status_by_network[key])
    circles = [lc.circle for lc in loaded]
    met = checks.met
    areas = "area_m2" in residents.columns
    return pd.DataFrame(
        {
            "resident_id": residents["resident_id"].reset_index(drop=True),
            "community_id": residents["community_id"].reset_index(drop=True),
            "population": residents["population"].to_numpy(dtype=float),
            # residents given as polygons: their area (land-area coverage, 城市体检)
            **({"area_m2": np.round(residents["area_m2"].to_numpy(float), 1)} if areas else {}),
            **{k: np.round(v, 2) for k, v in snap_cols.items()},
            **status_cols,
            **checks.zone_columns,
            **dict(sorted(checks.columns.items())),
            **{c.id: met[(c.id, "")].astype(np.int8) for c in circles},
            # which requirement a resident misses, for planners and for compare
            **{
                f"{c.id}/{r.id}": met[(c.id, r.id)].astype(np.int8)
                for c in circles
                for r in c.requirements
            },
        }
    )


def facilities_table(
    placed: Placed, attached: Attachment, capacity_fields: list[str]
) -> pd.DataFrame:
    """One row per input facility: id, type, name, planned, snap distance and status.

    The capacity columns the rules read follow, as given.
    """
    facilities = placed.facilities
    return pd.DataFrame(
        {
            "facility_id": facilities["facility_id"].to_numpy(dtype=object),
            "facility_type": facilities["facility_type"].to_numpy(dtype=object),
            "facility_name": facilities["facility_name"].to_numpy(dtype=object),
            "planned": facilities["planned"].to_numpy(dtype=bool),
            "snap_m": np.round(attached.facility_snap_m, 2),
            "status": attached.facility_status,
            **{
                field: facilities[field].to_numpy(dtype=object)
                for field in dict.fromkeys(capacity_fields)
                if field in facilities.columns
            },
        }
    )
