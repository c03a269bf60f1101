"""Counts that reconcile every resident and facility, and the records of the networks and POIs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.inputs.validate import STATUS_NO_GEOMETRY, STATUS_OFF_NETWORK, STATUS_OK, UNASSIGNED
from circles.network.build import Network
from circles.network.unnoded import REPAIR_STATS
from circles.projection import WGS84

NETWORK_KEYS = (
    "source",
    "mode",
    "nodes",
    "edges",
    "graph_nodes",
    "graph_edges",
    "length_km",
    "edges_read",
    "closed_lines",
    "parallel_lines",
    "components",
    "fragments",
    "fragment_nodes",
    "crossings",
    "split_crossings",
    "split_crossings_auto",
    "join_ends_m",
    *REPAIR_STATS.values(),
)


def issues_lonlat(network: Network) -> pd.DataFrame:
    """The network's crossing report with lon/lat instead of metric coordinates."""
    issues = network.issues.copy()
    if len(issues):
        pts = gpd.GeoSeries(shapely.points(issues["x"], issues["y"]), crs=network.crs)
        pts = pts.to_crs(WGS84)
        issues["lon"] = np.round(pts.x.to_numpy(), 7)
        issues["lat"] = np.round(pts.y.to_numpy(), 7)
    else:
        issues["lon"] = pd.Series(dtype=float)
        issues["lat"] = pd.Series(dtype=float)
    return issues.reindex(columns=["kind", "lon", "lat", "line_a", "line_b", "distance_m"])


def network_records(networks: dict[str, Network]) -> dict[str, dict]:
    """Statistics of each network: ``walk``, then ``drive`` (``drive2``... for other speeds)."""
    out: dict[str, dict] = {}
    drives = 0
    for key, net in networks.items():
        if key == "walk":
            name = "walk"
        else:
            drives += 1
            name = "drive" if drives == 1 else f"drive{drives}"
        out[name] = {k: net.stats.get(k) for k in NETWORK_KEYS}
        if "residents_off_network" in net.stats:  # status is per network
            out[name]["residents_off_network"] = net.stats["residents_off_network"]
    return out


def counts(table: pd.DataFrame, fac: pd.DataFrame) -> dict:
    """Residents, population and facilities by status; they add up to what was read."""
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
    kinds = (STATUS_OK, STATUS_OFF_NETWORK, STATUS_NO_GEOMETRY)
    # one status per resident, so that they add up to what was read; residents in no community
    # were evaluated like the others (unassigned is a community, not a status): counted apart
    parts = {"evaluated": STATUS_OK, "off_network": STATUS_OFF_NETWORK}
    parts["no_geometry"] = STATUS_NO_GEOMETRY
    reconcile = {
        name: {
            "residents": int((status == kind).sum()),
            "population": float(pop[status == kind].sum()),
        }
        for name, kind in parts.items()
    }
    return {
        "reconcile": reconcile,
        "residents": {
            "read": len(table),
            **{k: int((status == k).sum()) for k in kinds},
            "unassigned": int(unassigned.sum()),
        },
        "population": {
            "read": float(pop.sum()),
            **{k: float(pop[status == k].sum()) for k in kinds},
            "unassigned": float(pop[unassigned].sum()),
        },
        "facilities": {
            "read": len(fac),
            **{k: int((fac["status"] == k).sum()) for k in (*kinds, "not_used")},
            "by_type": by_type,
        },
    }


def classification_record(classified: pd.DataFrame | None) -> dict | None:
    """How POI categories were mapped to facility types (None when types were given)."""
    if classified is None:
        return None
    mapped = classified[classified["facility_type"] != ""]
    unmapped = classified[classified["facility_type"] == ""]
    return {
        "rows": len(classified),
        "mapped": len(mapped),
        "by_type": {str(k): int(v) for k, v in mapped["facility_type"].value_counts().items()},
        "by_matched_by": {str(k): int(v) for k, v in mapped["matched_by"].value_counts().items()}
        if "matched_by" in mapped
        else {},
        "unmapped_categories": [
            {"category": str(k), "count": int(v)}
            for k, v in unmapped["category"].value_counts().head(50).items()
        ],
    }
