"""Zones: which of a circle's zones (e.g. central, new urban) each resident lies in.

A zone layer holds polygons with one value each: a zone id of the circle (``central``) or a
district name that the circle lists under a zone (``江岸区``). Residents in no polygon, or in a
polygon whose value names no zone of the circle, get ``""`` and the requirement's default
threshold.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.evaluate.checks import TOLERANCE, walk_threshold_m
from circles.rules.schema import Circle, Requirement


def zone_values(
    points: np.ndarray,
    zones: gpd.GeoDataFrame,
    field: str,
    warnings: list[str] | None = None,
    name: str = "zones",
) -> np.ndarray:
    """The zone layer's ``field`` value at each point (``""`` outside every polygon).

    A point in several polygons (overlapping, or on a shared edge) takes the value of the first
    of them in the file; when their values differ, a warning naming ``name`` (the zone file)
    says how many residents that decided and gives an example.
    """
    out = np.full(len(points), "", dtype=object)
    has = ~(shapely.is_missing(points) | shapely.is_empty(points))
    tree = shapely.STRtree(zones.geometry.to_numpy(dtype=object))
    idx, poly = tree.query(points[has], predicate="intersects")
    if len(idx):
        order = np.lexsort((poly, idx))
        idx, poly = idx[order], poly[order]
        first = np.ones(len(idx), dtype=bool)
        first[1:] = idx[1:] != idx[:-1]
        rows = np.flatnonzero(has)[idx[first]]
        values = zones[field].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        out[rows] = values[poly[first]]
        if warnings is not None:
            _warn_overlaps(idx, poly, first, values, name, warnings)
    return out


def _warn_overlaps(
    idx: np.ndarray,
    poly: np.ndarray,
    first: np.ndarray,
    values: np.ndarray,
    name: str,
    warnings: list[str],
) -> None:
    """Warn about residents in polygons of different values (the first polygon won)."""
    winner = values[poly[first]][np.cumsum(first) - 1]  # the first polygon's value, per pair
    differs = values[poly] != winner
    if not differs.any():
        return
    residents = np.unique(idx[differs])
    pair = int(np.flatnonzero(differs)[0])
    warnings.append(
        f"zones file {name}: {len(residents)} residents lie in more than one zone polygon of "
        f"different values (overlapping polygons, or on a shared edge); each takes the value of "
        f"the first of them in the file (e.g. {winner[pair]!r} over {values[poly[pair]]!r}); "
        "make the zone polygons disjoint to decide otherwise"
    )


def circle_zone_ids(values: np.ndarray, circle: Circle) -> tuple[np.ndarray, list[str]]:
    """Map zone-layer values to the circle's zone ids; also list values that matched none."""
    lookup: dict[str, str] = {}
    for zone_id, zone in circle.zones.items():
        lookup[zone_id] = zone_id
        for district in zone.districts:
            lookup[district] = zone_id
    if not circle.zones:
        return np.full(len(values), "", dtype=object), []
    series = pd.Series(values, dtype=object)
    ids = series.map(lookup).fillna("").to_numpy(dtype=object)
    unmatched = sorted({v for v in pd.unique(series) if v and v not in lookup})
    return ids, unmatched


def threshold_minutes(requirement: Requirement, zone_ids: np.ndarray) -> np.ndarray:
    """Per resident: the requirement's minutes for its zone, else the default ``max_time_min``."""
    assert requirement.max_time_min is not None
    out = np.full(len(zone_ids), float(requirement.max_time_min))
    for zone, minutes in (requirement.max_time_min_by_zone or {}).items():
        out[zone_ids == zone] = minutes
    return out


def limits(
    circle: Circle,
    requirement: Requirement,
    zone_ids: np.ndarray,
    speed_m_s: float | None,
    evaluable: np.ndarray,
) -> np.ndarray:
    """Per resident: the largest cost a facility may be, tolerance included (-inf off it)."""
    if circle.mode == "walk":
        assert speed_m_s is not None
        minutes = (
            threshold_minutes(requirement, zone_ids)
            if requirement.max_time_min is not None
            else np.full(len(zone_ids), np.nan)
        )
        limit = walk_threshold_m(requirement, speed_m_s, minutes)
    else:
        limit = threshold_minutes(requirement, zone_ids) * 60.0
    return np.where(evaluable, limit + TOLERANCE, -np.inf)
