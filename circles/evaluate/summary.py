"""The audit summary: counts that reconcile every row, circle models, coverage, destinations.

Builds the dict written as ``summary.json`` (and rendered by the terminal and Excel reports) from
the audit's tables. Pure: no files, no clock, no terminal (provenance comes in gathered).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from circles import __version__
from circles.evaluate.counts import NETWORK_KEYS, classification_record, counts, network_records
from circles.evaluate.stats import weighted_median
from circles.inputs.provenance import Provenance
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK
from circles.network.build import Network
from circles.network.unnoded import topology_warnings
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle

PERSONS_PER_HOUSEHOLD_SOURCE = {
    "ref": "第七次全国人口普查公报 (2020): 平均每个家庭户的人口为2.62人 (national average)",
    "tag": "recalled",
}


def _cov_record(row: pd.Series) -> dict:
    ratio = row["coverage_ratio"]
    return {
        "residents_total": int(row["residents_total"]),
        "residents_met": int(row["residents_met"]),
        "population_total": float(row["population_total"]),
        "population_met": float(row["population_met"]),
        "coverage_ratio": None if pd.isna(ratio) else round(float(ratio), 6),
    }


def _gap(value: object) -> bool | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else bool(value)


def model_text(lc: LoadedCircle, speed_m_min: float | None) -> str:
    """One line saying exactly what a circle measures."""
    c = lc.circle
    if c.mode == "walk":
        return f"walk on the street network at {speed_m_min:g} m/min; access legs walked"
    if c.mode == "drive":
        assert c.drive is not None
        types = sorted({t for r in c.requirements for t in r.facility_types})
        way = "from" if c.direction == "from_facility" else "to"
        zones = _zone_text(c)
        return (
            f"drive {way} {', '.join(types)} on the directed road network (one-way streets "
            f"respected): road-class speeds{' or tagged maxspeed' if c.drive.use_maxspeed else ''}"
            f" × congestion {c.drive.congestion_factor:g}; access legs at the service-road speed"
            + (f"; {zones}" if zones else "")
        )
    assert c.hub is not None
    access = (
        f"walk at {speed_m_min:g} m/min" if c.hub.access == "walk" else "drive on the road network"
    )
    tags = sorted({row.source.tag.value for row in lc.hub_table})
    return (
        f"{access} (≤ {c.hub.access_max_min:g} min) to a {' or '.join(c.hub.hub_types)}, + "
        f"{c.hub.transfer_min:g} min transfer, + line-haul minutes from {c.hub.table} "
        f"({len(lc.hub_table)} rows, tags: {', '.join(tags)})"
    )


def model_parts(lc: LoadedCircle, speed_m_min: float | None) -> dict[str, Any]:
    """What :func:`model_text` says, as plain values, for a report to word in its language.

    ``kind`` is the mode of the model (walk, drive, hub); the other keys are the numbers,
    ids and names the line is made of (zone names in both languages; ``zones`` has one item
    per requirement with thresholds by zone).
    """
    c = lc.circle
    if c.mode == "walk":
        return {"kind": "walk", "speed_m_per_min": speed_m_min}
    if c.mode == "drive":
        assert c.drive is not None
        zones = [
            {
                "zones": [
                    {"zone": zone, "name": c.zones[zone].name.model_dump(), "minutes": minutes}
                    for zone, minutes in r.max_time_min_by_zone.items()
                ],
                "elsewhere_min": r.max_time_min,
            }
            for r in c.requirements
            if r.max_time_min_by_zone
        ]
        return {
            "kind": "drive",
            "direction": c.direction,
            "facility_types": sorted({t for r in c.requirements for t in r.facility_types}),
            "use_maxspeed": c.drive.use_maxspeed,
            "congestion_factor": c.drive.congestion_factor,
            "zones": zones,
        }
    assert c.hub is not None
    return {
        "kind": "hub",
        "access": c.hub.access,
        "speed_m_per_min": speed_m_min,
        "access_max_min": c.hub.access_max_min,
        "hub_types": list(c.hub.hub_types),
        "transfer_min": c.hub.transfer_min,
        "table": c.hub.table,
        "table_rows": len(lc.hub_table),
        "tags": sorted({row.source.tag.value for row in lc.hub_table}),
    }


def _zone_text(c: Circle) -> str:
    parts = []
    for r in c.requirements:
        if r.max_time_min_by_zone:
            zones = " / ".join(
                f"{m:g} min {c.zones[z].name.en}" for z, m in r.max_time_min_by_zone.items()
            )
            parts.append(f"{zones}, {r.max_time_min:g} min elsewhere")
    return "; ".join(parts)


def _warn_facilities(loaded, by_type, catalogue, facilities_path, warnings) -> None:
    for lc in loaded:
        for req in lc.circle.requirements:
            types = req.facility_types or tuple(lc.circle.hub.hub_types if lc.circle.hub else ())
            if types and not any(by_type.get(t, {}).get("ok") for t in types):
                warnings.append(
                    f"{lc.circle.id}/{req.id}: no usable facility of type {' or '.join(types)} "
                    f"in {facilities_path.name}, so nobody meets it; check "
                    "--facility-type-field and the type values"
                )
    unknown = sorted(set(by_type) - set(catalogue.types))
    if unknown:
        listed = []
        for ftype in unknown[:8]:
            close = difflib.get_close_matches(ftype, list(catalogue.types), n=1, cutoff=0.75)
            hint = f", did you mean {close[0]!r}?" if close else ""
            listed.append(f"{ftype!r} ({by_type[ftype]['read']}{hint})")
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        warnings.append(
            "facility types not in the catalogue (rules/facilities.yaml) are not used: "
            f"{', '.join(listed)}{more}"
        )


def _zone_counts(zone_ids: np.ndarray | None, table: pd.DataFrame, c: Circle) -> list[dict]:
    if zone_ids is None:
        return []
    out = []
    for zone in [*c.zones, ""]:
        mask = zone_ids == zone
        out.append(
            {
                "zone": zone or "(default)",
                "name": c.zones[zone].name.model_dump() if zone else None,
                "residents": int(mask.sum()),
                "population": float(table.loc[mask, "population"].sum()),
            }
        )
    return out


def destination_reach(c: Circle, hub: dict, status: np.ndarray, pop: np.ndarray) -> list[dict]:
    """Per requirement and destination of a hub circle: population reaching it in time.

    ``hub`` is the circle's travel result (door-to-door ``times_s``, ``n × destinations``),
    ``status`` and ``pop`` each resident's status and population. ``median_min`` is the
    population-weighted median door-to-door time of the evaluated residents who have any route
    to the destination (within the threshold or not); ``tags`` are the verification tags of
    the line-haul rows behind it. Worked out before coverage, so that the city-sized times
    can be released before the audit's peak.
    """
    by_dest = np.ascontiguousarray(hub["times_s"].T)  # one row per destination
    dests = hub["destinations"]
    ok = status == STATUS_OK
    total = float(pop.sum())
    out = []
    for r in c.requirements:
        assert r.max_time_min is not None
        for d in r.destinations or []:
            times = by_dest[dests.index(d)]
            reach = ok & (times <= r.max_time_min * 60.0 + 1e-6)
            routed = ok & np.isfinite(times)
            median = weighted_median(times[routed], pop[routed], step=0.6)
            out.append(
                {
                    "requirement_id": r.id,
                    "destination_id": d,
                    "name": c.hub.destinations[d].model_dump() if c.hub else None,
                    "population_reached": float(pop[reach].sum()),
                    "share_reached": round(float(pop[reach].sum()) / total, 6) if total else None,
                    "median_min": None if median is None else round(median / 60.0, 2),
                    "tags": sorted(hub["tags"].get(d, [])),
                }
            )
    return out


@dataclass
class SummaryInputs:
    """What the summary is built from: the audit's tables, results and provenance."""

    options: Any
    loaded: list[LoadedCircle]
    networks: dict[str, Network]
    residents: pd.DataFrame
    facilities: pd.DataFrame
    coverage: pd.DataFrame
    warnings: list[str]
    speeds_m_min: dict[str, float]
    zone_ids: dict[str, np.ndarray | None]
    hub_results: dict[str, dict]
    engine: str
    reach_min: dict[str, float]
    column_speed: dict[str, float]
    provenance: Provenance
    classified: pd.DataFrame | None = None
    converted: list[str] | None = None
    subdistricts: dict[str, str] | None = None
    #: per hub circle, :func:`destination_reach`
    destinations: dict[str, list[dict]] = field(default_factory=dict)


def build_summary(given: SummaryInputs) -> dict:
    """The summary dict written as ``summary.json``.

    Pure: the files' hashes, the clock and the catalogue come in ``provenance``, gathered by
    the audit (:func:`circles.inputs.provenance.gather_provenance`).
    """
    options, loaded, networks = given.options, given.loaded, given.networks
    facilities, warnings, hub_results = given.facilities, given.warnings, given.hub_results
    provenance, subdistricts = given.provenance, given.subdistricts
    speeds_m_min, zone_ids = given.speeds_m_min, given.zone_ids
    engine, reach_min, column_speed = given.engine, given.reach_min, given.column_speed
    classified, converted = given.classified, given.converted
    table, cov = given.residents, given.coverage
    tally = counts(table, facilities)
    _warn_facilities(
        loaded, tally["facilities"]["by_type"], provenance.catalogue, options.facilities, warnings
    )
    not_found = []  # one warning for every hub circle
    for cid, hub in hub_results.items():
        missing = sorted(set(hub["hubs_in_table"]) - set(hub["hubs_found"]))
        if missing:
            not_found.append(
                f"{cid}: {', '.join(missing[:10])}"
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
    if not_found:
        warnings.append(
            "hubs of the line-haul tables not found among the facilities (by id or name, on the "
            "network); no route runs through them: " + "; ".join(not_found)
        )
    off = {
        ("walking" if key == "walk" else "driving"): net.stats.get("residents_off_network", 0)
        for key, net in networks.items()
    }
    off = {which: count for which, count in off.items() if count}
    if off:
        listed = " and ".join(f"{count} from the {which} network" for which, count in off.items())
        warnings.append(
            f"residents farther than {options.max_snap_m:g} m (or nearest to a fragment not "
            f"connected to the rest): {listed}; they count as not covered by the circles on that "
            "network (status off_network; drive_status for the driving network)"
        )
    main = networks.get("walk", next(iter(networks.values())))
    warnings += topology_warnings(main.stats, Path(options.network).name)
    circles_out = []
    for lc in loaded:
        c = lc.circle
        rows = cov[cov["circle_id"] == c.id]
        reqs = []
        for req in c.requirements:
            r_rows = rows[rows["requirement_id"] == req.id]
            overall = r_rows[r_rows["scope"] == "overall"].iloc[0]
            reqs.append(
                {
                    "requirement_id": req.id,
                    "name": None if req.name is None else req.name.model_dump(),
                    "tier": req.tier or c.tier,
                    "facility_types": list(req.facility_types),
                    "destinations": req.destinations,
                    "max_time_min": req.max_time_min,
                    "max_time_min_by_zone": req.max_time_min_by_zone,
                    "max_distance_m": req.max_distance_m,
                    "min_count": req.min_count,
                    "min_share": req.min_share,
                    "target_coverage": req.target_coverage,
                    "sources": {k: v.model_dump(mode="json") for k, v in req.sources.items()},
                    "overall": _cov_record(overall) | {"is_gap": _gap(overall["is_gap"])},
                    "communities": [
                        {"community_id": r["community_id"]}
                        | _cov_record(r)
                        | {"is_gap": _gap(r["is_gap"])}
                        for _, r in r_rows[r_rows["scope"] == "community"].iterrows()
                    ],
                    "subdistricts": [
                        {"subdistrict": r["community_id"]}
                        | _cov_record(r)
                        | {"is_gap": _gap(r["is_gap"])}
                        for _, r in r_rows[r_rows["scope"] == "subdistrict"].iterrows()
                    ],
                }
            )
        whole = rows[rows["requirement_id"] == ""]
        speed = speeds_m_min.get(c.id)
        speed_source = None
        if speed is not None:
            speed_source = (
                {"ref": "--walk-speed given on the command line", "tag": "default"}
                if options.walk_speed_m_per_min is not None
                else c.sources["speed_m_per_min"].model_dump(mode="json")
            )
        record = {
            "circle_id": c.id,
            "name": c.name.model_dump(),
            "description": c.description,
            "mode": c.mode,
            "tier": c.tier,
            "model": model_text(lc, speed),
            "model_parts": model_parts(lc, speed),
            "speed_m_per_min": speed,
            "speed_source": speed_source,
            "rule_file": str(lc.path),
            "target_coverage": c.target_coverage,
            "overall": _cov_record(whole[whole["scope"] == "overall"].iloc[0]),
            "communities": [
                {"community_id": r["community_id"]} | _cov_record(r)
                for _, r in whole[whole["scope"] == "community"].iterrows()
            ],
            "subdistricts": [
                {"subdistrict": r["community_id"]} | _cov_record(r)
                for _, r in whole[whole["scope"] == "subdistrict"].iterrows()
            ],
            "requirements": reqs,
        }
        if c.drive is not None:
            record["drive"] = c.drive.model_dump(mode="json")
        if c.zones:
            record["zones"] = _zone_counts(zone_ids.get(c.id), table, c)
        if c.id in given.destinations:
            record["destinations"] = given.destinations[c.id]
        circles_out.append(record)
    per_comm = table.groupby("community_id", sort=False).agg(
        residents=("resident_id", "size"),
        population=("population", "sum"),
        residents_off_network=("status", lambda s: int((s == STATUS_OFF_NETWORK).sum())),
    )
    off_pop = table[table["status"] == STATUS_OFF_NETWORK].groupby("community_id")["population"]
    off_pop = off_pop.sum()
    comm_order = cov.loc[cov["scope"] == "community", "community_id"].drop_duplicates().tolist()
    communities_out = []
    for cid in comm_order:
        has = cid in per_comm.index
        communities_out.append(
            {
                "community_id": cid,
                "residents": int(per_comm.loc[cid, "residents"]) if has else 0,
                "population": float(per_comm.loc[cid, "population"]) if has else 0.0,
                "residents_off_network": (
                    int(per_comm.loc[cid, "residents_off_network"]) if has else 0
                ),
                "population_off_network": float(off_pop.get(cid, 0.0)),
                "subdistrict": (subdistricts or {}).get(cid),
            }
        )
    return {
        "circles_version": __version__,
        "run": {
            "timestamp": provenance.timestamp,
            "crs": main.crs.to_string(),
            "engine": engine,
            "parameters": {
                **options.run_parameters(),
                "zone_field": options.zone_field if options.zones else None,
                "persons_per_household_source": dict(PERSONS_PER_HOUSEHOLD_SOURCE),
                "coords_converted": list(converted or []),
                "communities_from": "polygons" if options.communities else "residents column",
                "reach_factor": 2.0,
                "reach_min": reach_min,
                "times_reported_at_m_per_min": column_speed,
            },
            "inputs": provenance.inputs,
            "rules": provenance.rules,
        },
        "counts": tally,
        "classification": classification_record(classified),
        "network": {k: main.stats.get(k) for k in NETWORK_KEYS},
        "networks": network_records(networks),
        "warnings": warnings,
        "circles": circles_out,
        "communities": communities_out,
    }
