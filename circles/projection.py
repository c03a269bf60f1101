"""Coordinate reference systems: choosing the metric CRS and projecting layers into it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.exceptions import CRSError

from circles.errors import InputDataError

WGS84 = "EPSG:4326"


def parse_crs(value: str) -> CRS:
    """Parse a user-given CRS (``EPSG:32650``, ``32650``, WKT or PROJ string).

    Raises
    ------
    InputDataError
        When pyproj cannot understand the value.
    """
    try:
        return CRS.from_user_input(int(value) if value.strip().isdigit() else value)
    except CRSError as exc:
        raise InputDataError(
            f"--crs {value!r} is not a CRS pyproj knows; give e.g. EPSG:32650"
        ) from exc


def local_utm(layer: gpd.GeoDataFrame | np.ndarray) -> CRS:
    """The WGS 84 UTM zone holding the centre of ``layer``'s extent.

    ``layer`` may also be the extent itself: west, south, east, north in degrees.

    Raises
    ------
    InputDataError
        When the layer is empty or its extent is not on the Earth.
    """
    bounds = layer if isinstance(layer, np.ndarray) else layer.to_crs(WGS84).total_bounds
    west, south, east, north = (float(b) for b in bounds)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputDataError(
            "cannot choose a UTM zone: the network's extent is not valid longitude/latitude; "
            "check its CRS or pass --crs"
        )
    lon, lat = (west + east) / 2, (south + north) / 2
    code = utm_zone_inside(lon, lat)
    if code is not None:
        return CRS.from_epsg(code)
    infos = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    if not infos:
        raise InputDataError(f"no UTM zone found at lon {lon:.4f}, lat {lat:.4f}; pass --crs")
    return CRS.from_epsg(int(infos[0].code))


def utm_zone_inside(lon: float, lat: float) -> int | None:
    """EPSG code of the WGS 84 UTM zone a point lies well inside; None within 1e-6° of an edge.

    The zones' areas of use in the EPSG database are plain 6° bands, north zones from the
    equator to 84° N, south zones from 80° S to it: inside one, this is the zone that
    ``pyproj.database.query_utm_crs_info`` finds (without its ~50 ms database query). Near
    an edge, where the query may find two, the caller asks the database.
    """
    margin = 1e-6
    band = (lon + 180.0) / 6.0
    zone = int(np.floor(band)) + 1
    near_edge = min(band - np.floor(band), np.ceil(band) - band) * 6.0 < margin
    if near_edge or not (-180.0 < lon < 180.0) or not (1 <= zone <= 60):
        return None
    if margin < lat < 84.0 - margin:
        return 32600 + zone
    if -80.0 + margin < lat < -margin:
        return 32700 + zone
    return None


def metric_crs(layer: gpd.GeoDataFrame | np.ndarray, forced: str | None) -> CRS:
    """The CRS an audit measures in: ``forced`` when given (must be projected), else local UTM.

    ``layer`` may also be its extent in degrees (see :func:`local_utm`).

    Raises
    ------
    InputDataError
        When the forced CRS is geographic (degrees are not metres).
    """
    if forced:
        crs = parse_crs(forced)
        if not crs.is_projected:
            raise InputDataError(
                f"--crs {forced} is geographic (degrees); give a projected CRS in metres such as "
                "a UTM zone (EPSG:326xx)"
            )
        return crs
    return local_utm(layer)


def to_metric(layer: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Project ``layer`` into ``crs`` (a no-op when already there)."""
    if layer.crs is not None and CRS.from_user_input(layer.crs) == crs:
        return layer
    return layer.to_crs(crs)


def metric_xy(layer: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Coordinates of a point layer in ``crs`` (``n × 2``; NaN rows where there is no point).

    The numbers :func:`to_metric` would give, without making new geometries.
    """
    xy = point_coordinates(layer.geometry.to_numpy(dtype=object))
    if layer.crs is not None and CRS.from_user_input(layer.crs) != crs:
        transformer = Transformer.from_crs(layer.crs, crs, always_xy=True)
        xy[:, 0], xy[:, 1] = transformer.transform(xy[:, 0], xy[:, 1])
    return xy


def point_coordinates(points: np.ndarray) -> np.ndarray:
    """``n × 2`` coordinates of shapely Points (NaN for None and empty points)."""
    xy = np.full((len(points), 2), np.nan)
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    xy[present] = shapely.get_coordinates(points[present])
    return xy


def xy_points(xy: np.ndarray) -> np.ndarray:
    """Shapely Points of ``n × 2`` coordinates (None for NaN rows)."""
    out = np.full(len(xy), None, dtype=object)
    present = np.isfinite(xy).all(axis=1)
    out[present] = shapely.points(xy[present])
    return out


# --------------------------------------------------------------------------- GCJ-02 and BD-09
#
# GCJ-02 (used by Amap and Tencent) adds a published, deterministic offset to WGS 84 longitude
# and latitude inside China; BD-09 (Baidu) re-encodes GCJ-02. The forward transforms below follow
# the published formulas; the inverses iterate the forward transform until the round trip closes
# to 1e-10 degrees (about 0.01 mm), far inside the 0.5 m the audit needs.

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_FACTOR = np.pi * 3000.0 / 180.0


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether points lie in the rough box where GCJ-02 applies its offset."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 → GCJ-02; points outside China are returned unchanged."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_FACTOR)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_FACTOR)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration (the offsets vary slowly)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon.copy(), lat.copy()
    for _ in range(30):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if np.nanmax(np.abs(np.concatenate([ex.ravel(), ey.ravel()])), initial=0.0) < 1e-10:
            break
    return x, y


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS 84 (iterated inverse, error far below a millimetre)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS 84 (iterated inverse of WGS 84 → GCJ-02 → BD-09)."""
    return _invert(lambda x, y: gcj02_to_bd09(*wgs84_to_gcj02(x, y)), lon, lat)


def to_wgs84_coords(
    layer: gpd.GeoDataFrame, system: str, *, role: str, path: str
) -> gpd.GeoDataFrame:
    """Convert a layer given in ``system`` (wgs84, gcj02, bd09) longitude/latitude to WGS 84.

    A layer with no CRS is taken as longitude/latitude; any other CRS must be geographic.

    Raises
    ------
    InputDataError
        When ``system`` is unknown or the layer is projected (GCJ-02 and BD-09 are lon/lat).
    """
    if system not in COORD_SYSTEMS:
        raise InputDataError(
            f"--coords {role}={system}: unknown coordinate system; use wgs84, gcj02 or bd09"
        )
    if layer.crs is not None and not CRS.from_user_input(layer.crs).is_geographic:
        raise InputDataError(
            f"{role} file {path} is in a projected CRS ({layer.crs.to_string()}), but --coords "
            f"{role}={system} expects longitude/latitude; drop --coords for this layer"
        )
    layer = layer.set_crs(WGS84, allow_override=True)
    if system == "wgs84":
        return layer
    inverse = gcj02_to_wgs84 if system == "gcj02" else bd09_to_wgs84

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = inverse(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    out = layer.copy()
    out[out.geometry.name] = shapely.transform(layer.geometry.to_numpy(), convert)
    return out
