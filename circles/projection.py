"""Coordinate reference systems: choosing the metric CRS and projecting layers into it."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS
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


def local_utm(layer: gpd.GeoDataFrame) -> CRS:
    """The WGS 84 UTM zone holding the centre of ``layer``'s extent.

    Raises
    ------
    InputDataError
        When the layer is empty or its extent is not on the Earth.
    """
    bounds = layer.to_crs(WGS84).total_bounds
    west, south, east, north = (float(b) for b in bounds)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputDataError(
            "cannot choose a UTM zone: the network's extent is not valid longitude/latitude; "
            "check its CRS or pass --crs"
        )
    lon, lat = (west + east) / 2, (south + north) / 2
    infos = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    if not infos:
        raise InputDataError(f"no UTM zone found at lon {lon:.4f}, lat {lat:.4f}; pass --crs")
    return CRS.from_epsg(int(infos[0].code))


def metric_crs(layer: gpd.GeoDataFrame, forced: str | None) -> CRS:
    """The CRS an audit measures in: ``forced`` when given (must be projected), else local UTM.

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
