"""Candidate sites: a point or polygon layer, or the network's intersections in the gaps.

A layer's polygons stand at a representative point (inside the polygon); GCJ-02/BD-09 exports
are converted as for the other layers (``--coords candidates=gcj02``, or recognised). Without a
layer, the candidates are the network's intersections (nodes where three or more edges meet)
inside the communities where the requirement has a gap (inside every community when no polygon
has one; over the whole network when there are no community polygons).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from circles.errors import InputDataError
from circles.inputs.coordsys import infer_system
from circles.inputs.read import read_layer
from circles.network.build import Network
from circles.projection import to_metric, to_wgs84_coords
from circles.settings import Settings


@dataclass
class Sites:
    """Candidate sites: ids, metric coordinates and where they came from."""

    ids: np.ndarray
    xy: np.ndarray
    source: str  # "layer" or "intersections"


def read_sites(path: Path, options: Settings, crs: CRS, warnings: list[str]) -> Sites:
    """Candidate sites from a point or polygon layer, in the audit's metric CRS."""
    system = options.coords.get("candidates", options.coords.get("*"))
    layer = read_layer(
        path, "candidates", crs="EPSG:4326" if system else options.crs, warnings=warnings
    )
    if system is None:
        inferred = infer_system(layer)
        if inferred is not None and inferred[0] != "wgs84":
            system = inferred[0]
            warnings.append(
                f"candidates file {path.name}: coordinates read as {system} and converted to "
                f"WGS 84, as {inferred[1]}; pass --coords candidates=wgs84 if they are WGS 84"
            )
    projected = layer.crs is not None and CRS.from_user_input(layer.crs).is_projected
    if system and not projected:
        layer = to_wgs84_coords(layer, system, role="candidates", path=str(path))
    geoms = layer.geometry.to_numpy(dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        raise InputDataError(
            f"candidates file {path.name}: no row has a geometry (points or polygons, or "
            "lon/lat columns); nothing to place"
        )
    kinds = set(shapely.get_type_id(geoms[present]).tolist())
    if kinds - {0, 3, 4, 6}:
        raise InputDataError(
            f"candidates file {path.name}: candidate sites are points or polygons (vacant plots); "
            "this layer holds lines"
        )
    points = geoms.copy()
    points[present] = shapely.point_on_surface(geoms[present])  # a polygon at a point inside
    where = gpd.GeoDataFrame(geometry=points[present], crs=layer.crs)
    xy = shapely.get_coordinates(to_metric(where, crs).geometry.to_numpy())
    ids = _ids(layer)[present]
    if len(set(ids)) < len(ids):
        raise InputDataError(
            f"candidates file {path.name}: candidate ids repeat (e.g. "
            f"{pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]!r}); give each site its own id"
        )
    return Sites(ids=ids, xy=xy, source="layer")


def _ids(layer: gpd.GeoDataFrame) -> np.ndarray:
    for column in ("id", "ID", "candidate_id", "site_id", "name"):
        if column in layer.columns:
            values = layer[column].astype("string").fillna("").str.strip()
            if (values != "").all():
                return values.to_numpy(dtype=object)
    return np.array([f"site_{i + 1}" for i in range(len(layer))], dtype=object)


def intersection_sites(
    network: Network, communities: gpd.GeoDataFrame | None, gap_ids: list[str]
) -> Sites:
    """The network's intersections (degree ≥ 3, off fragments) inside the gap communities."""
    ends = np.concatenate([network.u[~network.fragment], network.v[~network.fragment]])
    degree = np.bincount(ends, minlength=network.n_nodes)
    built = network.node_numbers_as_built()  # names and order as built: not the search order
    nodes = np.flatnonzero(degree >= 3)
    nodes = nodes[np.argsort(built[nodes], kind="stable")]
    xy = np.column_stack([network.node_x[nodes], network.node_y[nodes]])
    if communities is not None and len(communities):
        chosen = communities[communities["community_id"].astype(str).isin(gap_ids)]
        if not len(chosen):
            chosen = communities
        inside = shapely.contains_xy(
            shapely.union_all(chosen.geometry.to_numpy()), xy[:, 0], xy[:, 1]
        )
        nodes, xy = nodes[inside], xy[inside]
    ids = np.array([f"node_{n}" for n in built[nodes]], dtype=object)
    return Sites(ids=ids, xy=xy, source="intersections")
