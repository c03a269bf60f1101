"""Which lon/lat system a point table is in, when the user does not say: WGS 84, GCJ-02, BD-09.

Amap (高德) and Tencent exports are GCJ-02 and Baidu's are BD-09, whatever a file claims; read
as WGS 84 they sit a few hundred metres off an OSM network in China. A planner who passes such
an export without ``--coords`` should get the right answer, told how it was reached. The system
is inferred, in order, from:

1. the coordinate columns' own names (``gcj02_lng``, ``bd09_lat``, ``wgs84_lng``, ``高德经度``…);
2. the export's shape: an Amap export (``typecode``, the ``大类``/``中类`` columns, or a
   ``location`` "lng,lat" column beside the Amap API's ``pname``/``cityname``/``adname``) is
   GCJ-02; a Baidu export (``uid`` with ``detail_info`` or ``street_id``) is BD-09.

Only lon/lat points inside China are inferred (the offsets apply nowhere else); anything else,
and every layer the user described with ``--coords``, is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely

# rough bounds of mainland China, Hong Kong and Macau (GCJ-02 is applied only there)
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (18.0, 53.6)

_NAME_HINTS = (
    ("gcj", "gcj02"),
    ("火星", "gcj02"),
    ("高德", "gcj02"),
    ("amap", "gcj02"),
    ("bd09", "bd09"),
    ("bd_", "bd09"),
    ("baidu", "bd09"),
    ("百度", "bd09"),
    ("wgs", "wgs84"),
)
AMAP_COLUMNS = ("typecode", "type_code", "类型编码")
AMAP_LEVELS = ("大类", "中类")
AMAP_API_COLUMNS = ("pname", "cityname", "adname", "adcode", "citycode", "business_area")
BAIDU_COLUMNS = ("detail_info", "street_id", "detail")


def _system_in_name(name: str) -> str | None:
    lowered = name.strip().lower()
    return next((system for hint, system in _NAME_HINTS if hint in lowered), None)


def infer_system(layer: pd.DataFrame) -> tuple[str, str] | None:
    """``(system, reason)`` for a lon/lat point table read from an export, or None.

    ``layer.attrs["coordinate_columns"]`` names the columns the coordinates came from (set by
    the CSV/Excel reader); layers without it (GPKG, shapefiles…) are never inferred.
    """
    used = layer.attrs.get("coordinate_columns")
    if not used:
        return None
    for column in used:
        system = _system_in_name(str(column))
        if system is not None:
            return system, f"its coordinate column {column!r} says {system}"
    geometry = getattr(layer, "geometry", None)
    if geometry is None or not _inside_china(geometry):
        return None
    return _system_of_export(layer, used)


def _system_of_export(layer: pd.DataFrame, used: Iterable[object]) -> tuple[str, str] | None:
    """``(system, reason)`` from the columns of an Amap or Baidu export, or None."""
    columns = {str(c).strip().lower(): str(c) for c in layer.columns}
    from_location = "location" in [str(c).strip().lower() for c in used]
    if from_location and any(c in columns for c in AMAP_API_COLUMNS):
        found = next(columns[c] for c in AMAP_API_COLUMNS if c in columns)
        return "gcj02", f"it has the columns of the Amap API ('location' with {found!r})"
    if any(c in columns for c in AMAP_COLUMNS) or all(c in columns for c in AMAP_LEVELS):
        found = next((columns[c] for c in (*AMAP_COLUMNS, *AMAP_LEVELS) if c in columns), "")
        return "gcj02", f"it has the columns of an Amap (高德) export ({found!r})"
    if "uid" in columns and any(c in columns for c in BAIDU_COLUMNS):
        return "bd09", "it has the columns of a Baidu export ('uid' with Baidu detail columns)"
    return None


def _inside_china(geometry) -> bool:
    xy = shapely.get_coordinates(np.asarray(geometry, dtype=object))
    if len(xy) == 0:
        return False
    inside = (
        (xy[:, 0] >= CHINA_LON[0])
        & (xy[:, 0] <= CHINA_LON[1])
        & (xy[:, 1] >= CHINA_LAT[0])
        & (xy[:, 1] <= CHINA_LAT[1])
    )
    return bool(inside.mean() >= 0.5)
