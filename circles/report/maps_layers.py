"""What every coverage map of an audit shares: network and community paths, points, extent."""

from __future__ import annotations

import functools

import numpy as np
import shapely

from circles.audit import AuditResult
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK

_EDGES_PER_PATH = 4096  # network edges per compound path: few artists, no giant Agg paths
_OUTLIER_SHARE = 0.15  # points this far beyond the study area (share of its span) widen the view


class MapLayers:
    """What every map of an audit shares, prepared once: paths, point coordinates, the extent.

    The walking and driving networks, the district boundary and the zones are prepared on
    first use, so that an audit without driving circles never builds the driving paths.
    """

    def __init__(self, result: AuditResult):
        geo = result.geo
        assert geo is not None
        self._geo = geo
        self.cache: dict = {}  # what the maps of this call share: statuses, paths, label fits
        self.crs = geo.crs
        network = result.summary.get("network", {})
        # the mode of ``geo.network``: walking, unless no circle walks
        self.network_mode = "drive" if network.get("mode") == "drive" else "walk"
        self.osm = network.get("source") == "osm"

        residents = geo.residents
        located = ~(residents.geometry.isna() | residents.geometry.is_empty).to_numpy()
        self.resident_xy = np.full((len(residents), 2), np.nan)
        self.resident_xy[located] = shapely.get_coordinates(residents.geometry.to_numpy()[located])[
            :, :2
        ]
        self.residents = residents
        self._located = located
        self.evaluated, self.off_network = self.status("status")

        facilities = geo.facilities
        located = ~(facilities.geometry.isna() | facilities.geometry.is_empty).to_numpy()
        self.facilities = facilities[located]
        self.facility_xy = shapely.get_coordinates(self.facilities.geometry.to_numpy())[:, :2]
        self.facility_type = self.facilities["facility_type"].astype(str).to_numpy()
        types, counts = np.unique(geo.facilities["facility_type"].astype(str), return_counts=True)
        self.facility_counts = dict(zip(types.tolist(), counts.tolist(), strict=True))

        self.community_ids: list[str] = []
        self.community_paths: list = []
        self.community_geoms = np.zeros(0, dtype=object)
        if geo.communities is not None and len(geo.communities):
            ids = geo.communities["community_id"].astype(str).to_numpy()
            geoms = geo.communities.geometry.to_numpy()
            self.community_ids, self.community_paths, where = polygon_paths(
                ids, geoms, return_index=True
            )
            self.community_geoms = np.asarray(geoms, dtype=object)[where]
        self.extent = study_extent(
            [self.resident_xy[self.evaluated], *(p.vertices for p in self.community_paths)],
            [self.resident_xy[self._located & ~self.evaluated], self.facility_xy],
            fallback=[
                self.resident_xy[self._located],
                np.c_[geo.network.node_x, geo.network.node_y],
            ],
        )

    def status(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Residents evaluated and residents off the network, by a status column."""
        column = column if column in self.residents else "status"
        if ("status", column) not in self.cache:
            status = self.residents[column].to_numpy()
            self.cache[("status", column)] = (
                (status == STATUS_OK) & self._located,
                (status == STATUS_OFF_NETWORK) & self._located,
            )
        return self.cache[("status", column)]

    def network(self, mode: str = "walk") -> tuple[list, int, str]:
        """The network a map of ``mode`` draws: its paths, its edge count, its own mode.

        A driving circle draws the driving network when the audit kept it; else the audit's
        main network, whose mode is said as it is.
        """
        drive = self._geo.drive_network if mode == "drive" else None
        if drive is not None and drive is not self._geo.network:
            return (*self._paths("drive"), "drive")
        return (*self._paths("main"), self.network_mode)

    def _paths(self, which: str) -> tuple[list, int]:
        if ("paths", which) in self.cache:
            return self.cache[("paths", which)]
        net = self._geo.drive_network if which == "drive" else self._geo.network
        assert net is not None
        coords, index = net.coordinates()
        coords = np.asarray(coords)[:, :2]
        index = np.asarray(index)
        n_edges = int(np.count_nonzero(np.diff(index))) + 1 if len(index) else 0
        self.cache[("paths", which)] = (line_paths(coords, index), n_edges)
        return self.cache[("paths", which)]

    @functools.cached_property
    def boundary(self) -> list:
        """The outline of the communities dissolved (the district), as ring paths."""
        if not len(self.community_geoms):
            return []
        x0, y0, x1, y1 = self.extent
        close_m = 0.002 * max(x1 - x0, y1 - y0, 1.0)  # closes slivers between neighbours
        valid = shapely.make_valid(self.community_geoms)
        merged = shapely.union_all(shapely.buffer(valid, close_m, quad_segs=2))
        merged = shapely.buffer(merged, -close_m, quad_segs=2)
        parts = shapely.get_parts(merged)
        parts = parts[shapely.area(parts) > 0]
        return ring_paths(shapely.get_rings(parts) if len(parts) else np.zeros(0, dtype=object))

    @functools.cached_property
    def zones(self) -> tuple[list, list[tuple[float, float, str]]]:
        """The ``--zones`` polygons dissolved by zone value: ring paths, and label points."""
        zones = self._geo.zones
        if zones is None or not len(zones):
            return [], []
        valid = zones[~(zones.geometry.isna() | zones.geometry.is_empty)]
        merged = valid.assign(geometry=shapely.make_valid(valid.geometry.to_numpy()))
        merged = merged.dissolve(by="zone", as_index=False)
        parts = shapely.get_parts(merged.geometry.to_numpy())
        rings = shapely.get_rings(parts[shapely.get_type_id(parts) == 3])
        where = label_points(largest_polygons(merged.geometry.to_numpy()))
        names = [
            (float(x), float(y), str(z)) for (x, y), z in zip(where, merged["zone"], strict=True)
        ]
        return ring_paths(rings), names


def study_extent(core: list, extra: list, fallback: list) -> tuple[float, float, float, float]:
    """The bounds of the study area: ``core`` points, and ``extra`` points just beyond it.

    ``core`` are the communities' vertices and the residents evaluated; ``extra`` points (off
    the network, facilities) widen the view only when they lie within 15 % of its span, so that
    a far facility or a misplaced resident does not shrink the district to a corner.
    ``fallback`` points stand in when there is no core point.
    """
    points = [np.asarray(p, dtype=float).reshape(-1, 2) for p in core]
    points = [p[np.isfinite(p).all(axis=1)] for p in points]
    points = [p for p in points if len(p)]
    if not points:
        points = [np.asarray(p, dtype=float).reshape(-1, 2) for p in [*extra, *fallback]]
        points = [p[np.isfinite(p).all(axis=1)] for p in points]
        points = [p for p in points if len(p)]
        if not points:
            return (0.0, 0.0, 1e3, 1e3)
        both = np.vstack(points)
        return (*both.min(axis=0), *both.max(axis=0))
    both = np.vstack(points)
    lo, hi = both.min(axis=0), both.max(axis=0)
    reach = _OUTLIER_SHARE * max(float((hi - lo).max()), 1.0)
    for p in extra:
        p = np.asarray(p, dtype=float).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        near = p[((p >= lo - reach) & (p <= hi + reach)).all(axis=1)]
        if len(near):
            lo, hi = np.minimum(lo, near.min(axis=0)), np.maximum(hi, near.max(axis=0))
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def largest_polygons(geoms: np.ndarray) -> np.ndarray:
    """The largest polygon of each geometry, made valid (None where there is none).

    Multipolygons and geometry collections (a clip or a repair can make them) give their
    largest polygon part: the one a label goes in.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(present):
        return out
    parts, index = shapely.get_parts(shapely.make_valid(geoms[present]), return_index=True)
    index = present[index]
    for _ in range(2):  # collections may hold multipolygons
        nested = shapely.get_type_id(parts) >= 4
        if not nested.any():
            break
        inner, at = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        index = np.concatenate([index[~nested], index[nested][at]])
    polygon = shapely.get_type_id(parts) == 3
    parts, index = parts[polygon], index[polygon]
    order = np.lexsort((shapely.area(parts), index))  # by geometry, the largest part last
    last = np.r_[index[order][1:] != index[order][:-1], True]
    out[index[order][last]] = parts[order][last]
    return out


def label_points(geoms: np.ndarray) -> np.ndarray:
    """A point well inside each polygon (its pole of inaccessibility), ``n × 2`` (NaN: none).

    Pass polygons (:func:`largest_polygons`).
    """
    geoms = np.asarray(geoms, dtype=object)
    xy = np.full((len(geoms), 2), np.nan)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(present):
        return xy
    if hasattr(shapely, "maximum_inscribed_circle"):  # shapely >= 2.1
        circles = shapely.maximum_inscribed_circle(geoms[present])
        xy[present] = shapely.get_coordinates(shapely.get_point(circles, 0))
    else:
        xy[present] = shapely.get_coordinates(shapely.point_on_surface(geoms[present]))
    return xy


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


def ring_paths(rings: np.ndarray) -> list:
    """Closed rings (polygon outlines) as compound paths, to stroke without a fill."""
    rings = np.asarray(rings, dtype=object)
    if not len(rings):
        return []
    coords, index = shapely.get_coordinates(rings, return_index=True)
    return line_paths(coords, index)


def polygon_paths(ids: np.ndarray, geoms: np.ndarray, *, return_index: bool = False) -> tuple:
    """One compound path per (multi)polygon, holes cut out; empty geometries left out.

    Returns the ids and the paths, and with ``return_index`` the positions in ``geoms`` of
    the geometries drawn.
    """
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
        return ([], [], np.zeros(0, dtype=int)) if return_index else ([], [])
    coord_geom = part_geom[ring_part[coord_ring]]
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    ring_start = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    codes[ring_start] = MplPath.MOVETO
    codes[np.r_[ring_start[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    cut = np.flatnonzero(np.diff(coord_geom)) + 1
    paths = [
        MplPath(v, c) for v, c in zip(np.split(coords, cut), np.split(codes, cut), strict=True)
    ]
    where = coord_geom[np.r_[0, cut]]
    drawn = [str(i) for i in ids[where]]
    return (drawn, paths, where) if return_index else (drawn, paths)
