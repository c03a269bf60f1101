"""What every coverage map of an audit shares: network and community paths, points, extent."""

from __future__ import annotations

import numpy as np
import shapely

from circles.audit import AuditResult
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK

_EDGES_PER_PATH = 4096  # network edges per compound path: few artists, no giant Agg paths


class MapLayers:
    """What every circle's map shares, prepared once: paths, point coordinates, the extent."""

    def __init__(self, result: AuditResult):
        geo = result.geo
        assert geo is not None
        self.crs = geo.crs
        network = result.summary.get("network", {})
        self.network_mode = "drive" if network.get("mode") == "drive" else "walk"
        self.osm = network.get("source") == "osm"
        coords, index = geo.network.coordinates()
        coords = np.asarray(coords)[:, :2]
        self.network_paths = line_paths(coords, np.asarray(index))
        self.n_edges = int(np.count_nonzero(np.diff(index))) + 1 if len(index) else 0

        residents = geo.residents
        located = ~(residents.geometry.isna() | residents.geometry.is_empty).to_numpy()
        self.resident_xy = np.full((len(residents), 2), np.nan)
        self.resident_xy[located] = shapely.get_coordinates(residents.geometry.to_numpy()[located])[
            :, :2
        ]
        self.residents = residents
        status = residents["status"].to_numpy()
        self.evaluated = (status == STATUS_OK) & located
        self.off_network = (status == STATUS_OFF_NETWORK) & located

        facilities = geo.facilities
        located = ~(facilities.geometry.isna() | facilities.geometry.is_empty).to_numpy()
        self.facilities = facilities[located]
        self.facility_xy = shapely.get_coordinates(self.facilities.geometry.to_numpy())[:, :2]

        self.community_ids: list[str] = []
        self.community_paths: list = []
        if geo.communities is not None and len(geo.communities):
            self.community_ids, self.community_paths = polygon_paths(
                geo.communities["community_id"].astype(str).to_numpy(),
                geo.communities.geometry.to_numpy(),
            )
        parts = [self.resident_xy[~np.isnan(self.resident_xy[:, 0])], self.facility_xy]
        parts += [p.vertices for p in self.community_paths]
        points = np.vstack([p for p in parts if len(p)] or [coords.reshape(-1, 2)])
        self.extent = (
            (*points.min(axis=0), *points.max(axis=0)) if len(points) else (0.0, 0.0, 1e3, 1e3)
        )


def line_paths(coords: np.ndarray, index: np.ndarray) -> list:
    """The network's edges as compound paths of ``_EDGES_PER_PATH`` edges each."""
    from matplotlib.path import Path as MplPath

    if not len(coords):
        return []
    starts = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    codes[starts] = MplPath.MOVETO
    cut = starts[_EDGES_PER_PATH::_EDGES_PER_PATH]
    return [MplPath(v, c) for v, c in zip(np.split(coords, cut), np.split(codes, cut), strict=True)]


def polygon_paths(ids: np.ndarray, geoms: np.ndarray) -> tuple[list[str], list]:
    """One compound path per (multi)polygon, holes cut out; empty geometries left out."""
    from matplotlib.path import Path as MplPath

    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    parts, part_geom = shapely.get_parts(geoms[present], return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, part_geom = parts[polygon], np.flatnonzero(present)[part_geom[polygon]]
    # paths fill by the nonzero rule: exteriors anticlockwise, holes clockwise
    if hasattr(shapely, "orient_polygons"):  # shapely >= 2.1
        parts = shapely.orient_polygons(parts)
    else:
        from shapely.geometry.polygon import orient

        parts = np.array([orient(p) for p in parts], dtype=object)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return [], []
    coord_geom = part_geom[ring_part[coord_ring]]
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    ring_start = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    codes[ring_start] = MplPath.MOVETO
    codes[np.r_[ring_start[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    cut = np.flatnonzero(np.diff(coord_geom)) + 1
    paths = [
        MplPath(v, c) for v, c in zip(np.split(coords, cut), np.split(codes, cut), strict=True)
    ]
    return [str(i) for i in ids[coord_geom[np.r_[0, cut]]]], paths
