"""The audit pipeline: rules → layers → network → travel costs → checks → coverage → summary.

``run_audit`` is the one function the CLI and the tests call. It reads files but never prints or
writes: reports are written by :mod:`circles.report.files` from the :class:`AuditResult`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles import __version__
from circles.catalogue import load_catalogue
from circles.errors import InputDataError
from circles.evaluate import checks, coverage, threshold_m
from circles.io import read_layer, sha256
from circles.network import Network, build_network
from circles.projection import WGS84, to_metric
from circles.rules import LoadedCircle, load_rules
from circles.schema import Circle
from circles.snap import snap_points
from circles.traveltime import anchor_residents, build_search_graph, resident_costs
from circles.validate import (
    STATUS_NO_GEOMETRY,
    STATUS_OFF_NETWORK,
    STATUS_OK,
    UNASSIGNED,
    assign_communities,
    communities_table,
    facilities_table,
    residents_table,
)

REACH_FACTOR = 2.0  # nearest-facility times are reported up to twice the largest threshold
DEFAULT_MAX_SNAP_M = 250.0
DEFAULT_MIN_COMPONENT_NODES = 50

Progress = Callable[[str], None]


@dataclass
class AuditOptions:
    """Everything an audit needs; mirrors the ``circles audit`` options."""

    network: Path
    facilities: Path
    residents: Path
    communities: Path | None = None
    rules: list[Path | str] = field(default_factory=list)
    circle_ids: list[str] = field(default_factory=list)
    facility_type_field: str = "type"
    facility_id_field: str | None = "id"
    population_field: str = "population"
    resident_id_field: str | None = "id"
    community_field: str = "community"
    walk_speed_m_per_min: float | None = None
    crs: str | None = None
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES
    engine: str = "pandana"


@dataclass
class AuditResult:
    """What an audit produces; the report writers render it."""

    residents: pd.DataFrame
    facilities: pd.DataFrame
    coverage: pd.DataFrame
    network_issues: pd.DataFrame
    summary: dict
    circles: list[LoadedCircle]


def _quiet(_: str) -> None:
    return None


def _make_engine(name: str, graph):
    if name == "pandana":
        from circles.engine_pandana import PandanaEngine

        return PandanaEngine(graph)
    raise InputDataError(f"--engine {name!r} is not an engine circles has; use pandana")


def _file_record(path: Path | None) -> dict | None:
    if path is None:
        return None
    return {"path": str(path), "sha256": sha256(path)}


def run_audit(options: AuditOptions, progress: Progress = _quiet) -> AuditResult:
    """Run one audit and return its tables and summary.

    Raises
    ------
    CirclesError
        Any problem the user can fix: rules, inputs, network (see :mod:`circles.errors`).
    """
    warnings: list[str] = []
    progress("validating rules")
    loaded = load_rules(options.rules or None, circle_ids=options.circle_ids or None)
    unsupported = [lc for lc in loaded if lc.circle.mode != "walk"]
    if unsupported and options.circle_ids:
        raise InputDataError(
            f"circle {unsupported[0].circle.id} uses mode {unsupported[0].circle.mode}, which "
            "this version of circles cannot audit yet; choose walking circles with --circle"
        )
    if unsupported:
        warnings.append(
            "not audited (modes drive and hub are not implemented in this version): "
            + ", ".join(lc.circle.id for lc in unsupported)
        )
        loaded = [lc for lc in loaded if lc.circle.mode == "walk"]
    if not loaded:
        raise InputDataError("the rules hold no walking circle to audit; check --rules")
    circles = [lc.circle for lc in loaded]
    if options.walk_speed_m_per_min is not None and options.walk_speed_m_per_min <= 0:
        raise InputDataError(f"--walk-speed {options.walk_speed_m_per_min:g} must be > 0 m/min")
    speeds_m_min = {c.id: options.walk_speed_m_per_min or c.speed_m_per_min for c in circles}
    speeds_m_s = {cid: s / 60.0 for cid, s in speeds_m_min.items()}
    if options.max_snap_m <= 0:
        raise InputDataError(f"--max-snap {options.max_snap_m:g} must be > 0 metres")

    missing = [
        f"{role} file {path}"
        for role, path in (
            ("network", options.network),
            ("facilities", options.facilities),
            ("residents", options.residents),
            ("communities", options.communities),
        )
        if path is not None and not Path(path).exists()
    ]
    if missing:
        verb = "does" if len(missing) == 1 else "do"
        raise InputDataError(f"{', '.join(missing)} {verb} not exist; check the path")

    progress("reading the residents, facilities and communities")
    res_layer = read_layer(options.residents, "residents", crs=options.crs)
    fac_layer = read_layer(options.facilities, "facilities", crs=options.crs)
    com_layer = (
        read_layer(options.communities, "communities", crs=options.crs)
        if options.communities
        else None
    )
    residents = residents_table(
        res_layer,
        options.residents,
        id_field=options.resident_id_field,
        population_field=options.population_field,
        warnings=warnings,
    )
    facilities = facilities_table(
        fac_layer,
        options.facilities,
        id_field=options.facility_id_field,
        type_field=options.facility_type_field,
        warnings=warnings,
    )
    communities = (
        communities_table(
            com_layer, options.communities, field=options.community_field, warnings=warnings
        )
        if com_layer is not None and options.communities is not None
        else None
    )

    progress("building the street network")
    network = build_network(
        options.network, crs=options.crs, min_component_nodes=options.min_component_nodes
    )
    residents = to_metric(residents, network.crs)
    facilities = to_metric(facilities, network.crs)

    if communities is not None:
        communities = to_metric(communities, network.crs)
        residents["community_id"] = assign_communities(residents, communities, warnings)
        community_ids = communities["community_id"].tolist()
    else:
        community_ids = _community_column(res_layer, options, warnings)
        residents["community_id"] = community_ids
        community_ids = [c for c in dict.fromkeys(community_ids) if c != UNASSIGNED]

    progress("snapping residents and facilities to the network")
    types_used = sorted({t for c in circles for r in c.requirements for t in r.facility_types})
    fac_used = np.isin(facilities["facility_type"].to_numpy(dtype=object), types_used)
    fac_points = np.where(fac_used, facilities.geometry.to_numpy(dtype=object), None)
    fac_snaps = snap_points(network, fac_points, options.max_snap_m)
    res_snaps = snap_points(network, residents.geometry.to_numpy(dtype=object), options.max_snap_m)
    res_status = residents["status"].to_numpy(dtype=object).copy()
    res_status[(res_status == STATUS_OK) & ~res_snaps.on_network] = STATUS_OFF_NETWORK
    fac_status = facilities["status"].to_numpy(dtype=object).copy()
    fac_status[(fac_status == STATUS_OK) & fac_used & ~fac_snaps.on_network] = STATUS_OFF_NETWORK
    fac_status[(fac_status == STATUS_OK) & ~fac_used] = "not_used"

    progress("computing travel times")
    graph = build_search_graph(network, fac_snaps)
    engine = _make_engine(options.engine, graph)
    anchors = anchor_residents(network, graph, res_snaps)
    groups = _search_groups(circles, speeds_m_s, types_used)
    fac_types = facilities["facility_type"].to_numpy(dtype=object)
    costs: dict[tuple[str, ...], np.ndarray] = {}
    for key, (k, horizon_m) in groups.items():
        rows = np.flatnonzero(np.isin(fac_types, key) & fac_snaps.on_network)
        node_cost, node_ids = engine.nearest(graph.facility_node[rows], rows, k, horizon_m)
        costs[key], _ = resident_costs(anchors, node_cost, node_ids, k, horizon_m)

    progress("evaluating the circles")
    met = checks(circles, costs, speeds_m_s)
    eval_frame = pd.DataFrame(
        {"community_id": residents["community_id"], "population": residents["population"]}
    )
    cov = coverage(eval_frame, circles, met, community_ids)

    report_speed = _report_speeds(circles, speeds_m_min, types_used)
    table = pd.DataFrame(
        {
            "resident_id": residents["resident_id"].to_numpy(dtype=object),
            "community_id": residents["community_id"].to_numpy(dtype=object),
            "population": residents["population"].to_numpy(dtype=float),
            "snap_m": np.round(res_snaps.snap_m, 2),
            "status": res_status,
        }
    )
    for ftype in types_used:
        table[f"{ftype}_min"] = np.round(costs[(ftype,)][:, 0] / report_speed[ftype], 3)
    for circle in circles:
        table[circle.id] = met[(circle.id, "")].astype(np.int8)

    fac_table = pd.DataFrame(
        {
            "facility_id": facilities["facility_id"].to_numpy(dtype=object),
            "facility_type": fac_types,
            "snap_m": np.round(fac_snaps.snap_m, 2),
            "status": fac_status,
        }
    )
    issues = _issues_lonlat(network)
    summary = _summary(
        options,
        loaded,
        network,
        table,
        fac_table,
        cov,
        warnings,
        speeds_m_min,
        report_speed,
        groups,
        engine.name,
        bool(communities is not None),
    )
    return AuditResult(
        residents=table,
        facilities=fac_table,
        coverage=cov,
        network_issues=issues,
        summary=summary,
        circles=loaded,
    )


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


def _search_groups(
    circles: list[Circle], speeds_m_s: dict[str, float], types_used: list[str]
) -> dict[tuple[str, ...], tuple[int, float]]:
    """Searches to run: facility-type group → (k, horizon in metres).

    One per requirement group (k = the largest min_count) and one per facility type for the
    nearest-facility columns; horizons reach twice the largest threshold that uses the group.
    """
    groups: dict[tuple[str, ...], tuple[int, float]] = {}

    def add(key: tuple[str, ...], k: int, reach: float) -> None:
        old_k, old_reach = groups.get(key, (1, 0.0))
        groups[key] = (max(old_k, k), max(old_reach, reach))

    for circle in circles:
        for req in circle.requirements:
            reach = REACH_FACTOR * threshold_m(req, speeds_m_s[circle.id])
            add(req.facility_types, req.min_count, reach)
            for ftype in req.facility_types:
                add((ftype,), 1, reach)
    assert all((t,) in groups for t in types_used)
    return groups


def _report_speeds(
    circles: list[Circle], speeds_m_min: dict[str, float], types_used: list[str]
) -> dict[str, float]:
    """Speed (m/min) used for each ``<type>_min`` column: the slowest circle using the type."""
    out: dict[str, float] = {}
    for circle in circles:
        for req in circle.requirements:
            for ftype in req.facility_types:
                out[ftype] = min(out.get(ftype, np.inf), speeds_m_min[circle.id])
    return {t: out[t] for t in types_used}


def _issues_lonlat(network: Network) -> pd.DataFrame:
    issues = network.issues.copy()
    if len(issues):
        pts = gpd.GeoSeries(shapely.points(issues["x"], issues["y"]), crs=network.crs).to_crs(WGS84)
        issues["lon"] = np.round(pts.x.to_numpy(), 7)
        issues["lat"] = np.round(pts.y.to_numpy(), 7)
    else:
        issues["lon"] = pd.Series(dtype=float)
        issues["lat"] = pd.Series(dtype=float)
    return issues[["kind", "lon", "lat", "line_a", "line_b"]]


def _counts(table: pd.DataFrame, fac: pd.DataFrame) -> dict:
    status = table["status"]
    pop = table["population"]
    unassigned = table["community_id"] == UNASSIGNED
    by_type = {}
    for ftype, rows in fac.groupby("facility_type", sort=True):
        if ftype == "":
            continue
        by_type[str(ftype)] = {
            "read": len(rows),
            "ok": int((rows["status"] == STATUS_OK).sum()),
            "off_network": int((rows["status"] == STATUS_OFF_NETWORK).sum()),
            "used": bool((rows["status"] != "not_used").any()),
        }
    return {
        "residents": {
            "read": len(table),
            "ok": int((status == STATUS_OK).sum()),
            "off_network": int((status == STATUS_OFF_NETWORK).sum()),
            "no_geometry": int((status == STATUS_NO_GEOMETRY).sum()),
            "unassigned": int(unassigned.sum()),
        },
        "population": {
            "read": float(pop.sum()),
            "ok": float(pop[status == STATUS_OK].sum()),
            "off_network": float(pop[status == STATUS_OFF_NETWORK].sum()),
            "no_geometry": float(pop[status == STATUS_NO_GEOMETRY].sum()),
            "unassigned": float(pop[unassigned].sum()),
        },
        "facilities": {
            "read": len(fac),
            "ok": int((fac["status"] == STATUS_OK).sum()),
            "off_network": int((fac["status"] == STATUS_OFF_NETWORK).sum()),
            "no_geometry": int((fac["status"] == STATUS_NO_GEOMETRY).sum()),
            "not_used": int((fac["status"] == "not_used").sum()),
            "by_type": by_type,
        },
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


def _summary(
    options: AuditOptions,
    loaded: list[LoadedCircle],
    network: Network,
    table: pd.DataFrame,
    fac: pd.DataFrame,
    cov: pd.DataFrame,
    warnings: list[str],
    speeds_m_min: dict[str, float],
    report_speed: dict[str, float],
    groups: dict[tuple[str, ...], tuple[int, float]],
    engine: str,
    has_layer: bool,
) -> dict:
    counts = _counts(table, fac)
    by_type = counts["facilities"]["by_type"]
    for lc in loaded:
        for req in lc.circle.requirements:
            if not any(by_type.get(t, {}).get("ok") for t in req.facility_types):
                warnings.append(
                    f"{lc.circle.id}/{req.id}: no usable facility of type "
                    f"{' or '.join(req.facility_types)} in {options.facilities.name}, so nobody "
                    "meets it; check --facility-type-field and the type values"
                )
    catalogue = load_catalogue()
    unknown = sorted(set(by_type) - set(catalogue.types))
    if unknown:
        listed = []
        for ftype in unknown[:8]:
            close = difflib.get_close_matches(ftype, list(catalogue.types), n=1, cutoff=0.75)
            hint = f", did you mean {close[0]!r}?" if close else ""
            listed.append(f"{ftype!r} ({by_type[ftype]['read']}{hint})")
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        warnings.append(
            f"facility types not in the catalogue (rules/facilities.yaml) are not used: "
            f"{', '.join(listed)}{more}"
        )
    if counts["residents"]["off_network"]:
        warnings.append(
            f"{counts['residents']['off_network']} residents lie farther than "
            f"{options.max_snap_m:g} m from the network (or nearest to a fragment not connected "
            "to it): status off_network, counted as not covered"
        )
    if network.stats.get("crossings"):
        warnings.append(
            f"{network.stats['crossings']} places where network lines cross or touch without a "
            "shared end point were NOT joined (bridges and tunnels are such places; otherwise "
            "split the lines there): see network_issues.csv"
        )
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
                    "facility_types": list(req.facility_types),
                    "max_time_min": req.max_time_min,
                    "max_distance_m": req.max_distance_m,
                    "threshold_m": round(threshold_m(req, speeds_m_min[c.id] / 60.0), 3),
                    "min_count": req.min_count,
                    "target_coverage": req.target_coverage,
                    "sources": {k: v.model_dump(mode="json") for k, v in req.sources.items()},
                    "overall": _cov_record(overall) | {"is_gap": _gap(overall["is_gap"])},
                    "communities": [
                        {"community_id": r["community_id"]}
                        | _cov_record(r)
                        | {"is_gap": _gap(r["is_gap"])}
                        for _, r in r_rows[r_rows["scope"] == "community"].iterrows()
                    ],
                }
            )
        whole = rows[rows["requirement_id"] == ""]
        circles_out.append(
            {
                "circle_id": c.id,
                "name": c.name.model_dump(),
                "description": c.description,
                "mode": c.mode,
                "tier": c.tier,
                "speed_m_per_min": speeds_m_min[c.id],
                "speed_source": (
                    {"ref": "--walk-speed given on the command line", "tag": "default"}
                    if options.walk_speed_m_per_min is not None
                    else c.sources["speed_m_per_min"].model_dump(mode="json")
                ),
                "model": (
                    f"walk on the street network at {speeds_m_min[c.id]:g} m/min, access legs "
                    "included"
                ),
                "rule_file": str(lc.path),
                "target_coverage": c.target_coverage,
                "overall": _cov_record(whole[whole["scope"] == "overall"].iloc[0]),
                "communities": [
                    {"community_id": r["community_id"]} | _cov_record(r)
                    for _, r in whole[whole["scope"] == "community"].iterrows()
                ],
                "requirements": reqs,
            }
        )
    per_comm = table.groupby("community_id", sort=False).agg(
        residents=("resident_id", "size"),
        population=("population", "sum"),
        residents_off_network=("status", lambda s: int((s == STATUS_OFF_NETWORK).sum())),
    )
    off_pop = (
        table[table["status"] == STATUS_OFF_NETWORK].groupby("community_id")["population"].sum()
    )
    comm_order = cov.loc[cov["scope"] == "community", "community_id"].drop_duplicates().tolist()
    communities_out = []
    for cid in comm_order:
        has = cid in per_comm.index
        communities_out.append(
            {
                "community_id": cid,
                "residents": int(per_comm.loc[cid, "residents"]) if has else 0,
                "population": float(per_comm.loc[cid, "population"]) if has else 0.0,
                "residents_off_network": int(per_comm.loc[cid, "residents_off_network"])
                if has
                else 0,
                "population_off_network": float(off_pop.get(cid, 0.0)),
            }
        )
    return {
        "circles_version": __version__,
        "run": {
            "timestamp": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "crs": network.crs.to_string(),
            "engine": engine,
            "parameters": {
                "walk_speed_m_per_min": options.walk_speed_m_per_min,
                "max_snap_m": options.max_snap_m,
                "min_component_nodes": options.min_component_nodes,
                "reach_factor": REACH_FACTOR,
                "population_field": options.population_field,
                "facility_type_field": options.facility_type_field,
                "community_field": options.community_field,
                "communities_from": "polygons" if has_layer else "residents column",
                "times_reported_at_m_per_min": report_speed,
                "reach_min": {
                    k[0]: round(v[1] / report_speed[k[0]], 3)
                    for k, v in groups.items()
                    if len(k) == 1
                },
            },
            "inputs": {
                "network": _file_record(options.network),
                "facilities": _file_record(options.facilities),
                "residents": _file_record(options.residents),
                "communities": _file_record(options.communities),
            },
            "rules": [
                {"path": str(lc.path), "sha256": sha256(lc.path), "circle_id": lc.circle.id}
                for lc in loaded
            ],
        },
        "counts": counts,
        "network": {
            k: network.stats[k]
            for k in (
                "source",
                "nodes",
                "edges",
                "length_km",
                "edges_read",
                "self_loops_dropped",
                "parallel_edges_dropped",
                "components",
                "fragments",
                "fragment_nodes",
                "crossings",
            )
        },
        "warnings": warnings,
        "circles": circles_out,
        "communities": communities_out,
    }
