"""The data of the interactive map: themes, communities, residents, facilities, service areas.

:func:`map_data` turns an audit into the JSON-ready pieces :mod:`circles.report.webmap`
inlines into ``map.html``. Every coordinate is WGS 84 longitude/latitude rounded to 6 decimals
(about 0.1 m), or GCJ-02 for an Amap basemap; polygons are simplified by
:data:`SIMPLIFY_M` metres in the audit's metric CRS first. A *theme* is a circle as a whole or
one of its requirements: each has a community coverage choropleth, its residents not met and,
when the audit has them, its service areas. Residents not met are sent once as integer
micro-degrees with one bit set per theme (base64), at most :data:`MAX_RESIDENTS` of them
(a fixed-seed sample beyond, said in the legend). The rule text of each theme comes from
:mod:`circles.report.webmap_rules`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from circles.audit import AuditResult
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK
from circles.report.basemaps import Basemap
from circles.report.excel_book import Book
from circles.report.model import ReportModel
from circles.report.shared import each
from circles.report.text import text_for
from circles.report.values import number
from circles.report.webmap_rules import theme_rules, type_name
from circles.rules.load import LoadedCircle

__all__ = ["MAX_RESIDENTS", "SIMPLIFY_M", "MapData", "map_data"]

#: Most residents drawn (those not meeting some theme, or off the network); a sample beyond.
MAX_RESIDENTS = 50_000
#: Simplification tolerance of community and service-area polygons, metres.
SIMPLIFY_M = 1.5
#: ColorBrewer RdYlGn (11 classes), as matplotlib's "RdYlGn" of the PNG maps: 0 % red, 100 % green.
RDYLGN = (
    "#a50026",
    "#d73027",
    "#f46d43",
    "#fdae61",
    "#fee08b",
    "#ffffbf",
    "#d9ef8b",
    "#a6d96a",
    "#66bd63",
    "#1a9850",
    "#006837",
)
#: Facility colours that stand out from the red-yellow-green shading and the red residents.
FACILITY_COLOURS = (
    "#1f4e9c",
    "#6a3d9a",
    "#0aa1c4",
    "#d4379b",
    "#7b4a1e",
    "#3b8bd9",
    "#9e77d1",
    "#08306b",
    "#b15928",
    "#000000",
    "#505050",
)
_SCALE = 1_000_000  # micro-degrees: 6 decimals


@dataclass
class MapData:
    """What map.html shows, ready for JSON (``meta``) or already as GeoJSON text.

    Attributes
    ----------
    meta : dict
        Title, words, colours, themes, circles, facilities, residents, bounds, basemap.
    communities : str
        GeoJSON FeatureCollection of the community polygons (properties: name ``n``,
        sub-district ``s``, coverage ``c``, population ``p``, met ``m``, gap ``g`` per theme).
    areas : dict
        Theme index → GeoJSON FeatureCollection of its service areas.
    """

    meta: dict[str, Any]
    communities: str | None
    areas: dict[int, str] = field(default_factory=dict)


def colour_ramp(steps: int = 101) -> list[str]:
    """``steps`` colours from 0 % to 100 % coverage, interpolated linearly in RdYlGn."""
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in RDYLGN], dtype=float)
    at = np.linspace(0, len(RDYLGN) - 1, steps)
    low = np.minimum(np.floor(at).astype(int), len(RDYLGN) - 2)
    frac = (at - low)[:, None]
    rgb = np.rint(stops[low] * (1 - frac) + stops[low + 1] * frac).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in rgb]


class _Lonlat:
    """Metric coordinates → rounded WGS 84 (or GCJ-02) longitude/latitude."""

    def __init__(self, crs: Any, *, gcj02: bool) -> None:
        source = CRS.from_user_input(crs)
        self._to = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
        self._gcj02 = gcj02
        self.key = ("map.html", source.to_wkt(), gcj02, SIMPLIFY_M)  # for report.shared

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = self._to.transform(xy[:, 0], xy[:, 1])
        if self._gcj02:
            from circles.projection import wgs84_to_gcj02

            lon, lat = wgs84_to_gcj02(lon, lat)
        return np.round(np.column_stack([lon, lat]), 6)

    def geometries(self, geoms: np.ndarray) -> np.ndarray:
        """Polygons simplified in metres, then in longitude/latitude."""
        simple = shapely.simplify(geoms, SIMPLIFY_M, preserve_topology=True)
        return shapely.transform(simple, self)

    def micro(self, xy: np.ndarray) -> np.ndarray:
        """Integer micro-degrees (n × 2)."""
        return np.rint(self(xy) * _SCALE).astype(np.int64)


def _features(geoms: np.ndarray, props: list[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection text of geometries and their properties."""
    import json

    texts = shapely.to_geojson(geoms)
    parts = [
        '{"type":"Feature","geometry":'
        + text
        + ',"properties":'
        + json.dumps(p, ensure_ascii=False, allow_nan=False)
        + "}"
        for text, p in zip(texts, props, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _bits(mask: np.ndarray) -> str:
    """A boolean mask as base64 of its bits, first element in the lowest bit."""
    return base64.b64encode(np.packbits(mask, bitorder="little").tobytes()).decode("ascii")


def _present(geoms: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def _status_column(loaded: LoadedCircle, columns: pd.Index) -> str:
    """The residents column holding the status on the network this circle travels on."""
    from circles.network.networks import network_key

    if network_key(loaded.circle) != "walk" and "drive_status" in columns:
        return "drive_status"
    return "status"


def map_data(
    result: AuditResult, *, lang: str, model: ReportModel, basemap: Basemap | None = None
) -> MapData:
    """The interactive map's data for an audit with geometry.

    Parameters
    ----------
    result : AuditResult
        The audit, with ``result.geo`` (and optionally ``result.geo.service_areas``).
    lang : str
        ``"en"`` or ``"zh"``.
    model : ReportModel
        The report model of ``result``.
    basemap : Basemap, optional
        The online basemap (an Amap basemap shifts every coordinate to GCJ-02).

    Returns
    -------
    MapData
        The pieces map.html inlines.
    """
    geo = result.geo
    assert geo is not None
    basemap = basemap or Basemap()
    words = text_for(lang)
    book = Book(model, words, lang)
    lonlat = _Lonlat(geo.crs, gcj02=basemap.gcj02)
    loaded = {lc.circle.id: lc for lc in result.circles}
    themes, circles = theme_rules(book, model, loaded)
    index = {(t["circle"], t["req"]): i for i, t in enumerate(themes)}

    communities, bounds = _communities(result, themes, lonlat, book)
    residents = _residents(result, themes, loaded, lonlat)
    facilities = _facilities(result, circles, loaded, lonlat, lang)
    areas = _service_areas(result, index, lonlat, themes)
    # the view: the study area (communities and residents); facilities only without them (an
    # OSM extract's POIs, or hubs in other cities, would zoom the district out of sight)
    study = [b for b in (bounds, residents.pop("bounds")) if b]
    extent = study or [b for b in (facilities.pop("bounds", None),) if b]
    facilities.pop("bounds", None)
    view: list[list[float]] | None = None
    if extent:  # south-west and north-east corners, as Leaflet takes them
        box = np.array(extent, dtype=float)
        view = [
            [float(box[:, 1].min()), float(box[:, 0].min())],
            [float(box[:, 3].max()), float(box[:, 2].max())],
        ]
    meta = {
        "lang": lang,
        "colours": colour_ramp(),
        "themes": themes,
        "circles": circles,
        "residents": residents,
        "facilities": facilities["types"],
        "bounds": view,
        "basemap": {"name": basemap.name, "tiles": basemap.tiles()},
    }
    return MapData(meta, communities, areas)


def _flag(value: Any) -> bool | None:
    """True or False for a gap flag, None when it cannot be told (None, NA, NaN)."""
    if value is True or value is np.True_:
        return True
    if value is False or value is np.False_:
        return False
    return None


def _communities(
    result: AuditResult, themes: list[dict[str, Any]], lonlat: _Lonlat, book: Book
) -> tuple[str | None, list[float] | None]:
    """The community polygons with their coverage per theme; their lon/lat bounds."""
    geo = result.geo
    assert geo is not None
    polygons = geo.communities
    if polygons is None or not len(polygons):
        return None, None
    geoms = polygons.geometry.to_numpy(dtype=object)
    keep = _present(geoms)
    ids = polygons["community_id"].astype(str).to_numpy(dtype=object)[keep]
    shapes = lonlat.geometries(geoms[keep])
    cov = result.coverage
    rows = cov[cov["scope"] == "community"]
    keyed = rows.drop_duplicates(["community_id", "circle_id", "requirement_id"]).set_index(
        ["community_id", "circle_id", "requirement_id"]
    )
    records = keyed[["population_total", "population_met", "coverage_ratio", "is_gap"]]
    lookup = records.to_dict("index")
    info = book.model.community_info
    props = []
    for community_id in ids:
        ratios: list[float | None] = []
        met: list[int | None] = []
        gaps: list[bool | None] = []
        total: float | None = None
        for theme in themes:
            record = lookup.get((community_id, theme["circle"], theme["req"]))
            if record is None:
                ratios.append(None)
                met.append(None)
                gaps.append(None)
                continue
            ratio = number(record["coverage_ratio"])
            ratios.append(None if ratio is None else round(ratio, 4))
            met_pop = number(record["population_met"])
            met.append(None if met_pop is None else round(met_pop))
            gaps.append(_flag(record["is_gap"]))
            total = total if total is not None else number(record["population_total"])
        item = {"n": community_id, "p": None if total is None else round(total)}
        subdistrict = (info.get(community_id) or {}).get("subdistrict")
        if subdistrict:
            item["s"] = str(subdistrict)
        item.update({"c": ratios, "m": met, "g": gaps})
        props.append(item)
    bounds = shapely.total_bounds(shapes).tolist() if len(shapes) else None
    if bounds is not None and not all(math.isfinite(b) for b in bounds):
        bounds = None
    return _features(shapes, props), bounds


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """Where a text column equals ``value`` (vectorised on Arrow strings; missing is False)."""
    return (column == value).fillna(value=False).to_numpy(dtype=bool)


def _residents(
    result: AuditResult,
    themes: list[dict[str, Any]],
    loaded: Mapping[str, LoadedCircle],
    lonlat: _Lonlat,
) -> dict[str, Any]:
    """Residents not meeting some theme or off a network, as micro-degrees and bit masks."""
    geo = result.geo
    assert geo is not None
    table = geo.resident_table
    xy = np.asarray(geo.resident_xy, dtype=float).reshape(-1, 2)
    located = np.isfinite(xy).all(axis=1)
    status_columns = sorted(
        {_status_column(lc, table.columns) for lc in loaded.values()} & set(table.columns)
    )
    off = {col: located & _equals(table[col], STATUS_OFF_NETWORK) for col in status_columns}
    evaluated_by = {col: located & _equals(table[col], STATUS_OK) for col in status_columns}
    unmet: list[np.ndarray] = []
    theme_status: list[str | None] = []
    for theme in themes:
        column = theme["circle"] if theme["req"] == "" else f"{theme['circle']}/{theme['req']}"
        lc = loaded.get(theme["circle"])
        status_col = _status_column(lc, table.columns) if lc is not None else "status"
        if column not in table.columns or status_col not in table.columns:
            unmet.append(np.zeros(len(table), dtype=bool))
            theme_status.append(None)
            continue
        met = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        unmet.append(evaluated_by[status_col] & (met != 1))
        theme_status.append(status_col)
    drawn = np.zeros(len(table), dtype=bool)
    for mask in [*unmet, *off.values()]:
        drawn |= mask
    candidates = np.flatnonzero(drawn)
    total = len(candidates)
    if total > MAX_RESIDENTS:
        rng = np.random.default_rng(0)
        candidates = np.sort(rng.choice(candidates, MAX_RESIDENTS, replace=False))
    micro = lonlat.micro(xy[candidates]) if len(candidates) else np.zeros((0, 2), np.int64)
    status_ids = {col: i for i, col in enumerate(status_columns)}
    bounds = None
    if len(candidates):
        lo, hi = micro.min(axis=0) / _SCALE, micro.max(axis=0) / _SCALE
        bounds = [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]
    return {
        "xy": micro.ravel().tolist(),
        "unmet": [_bits(mask[candidates]) for mask in unmet],
        "unmet_counts": [int(mask.sum()) for mask in unmet],
        "off": [_bits(off[col][candidates]) for col in status_columns],
        "off_counts": [int(off[col].sum()) for col in status_columns],
        "theme_off": [None if s is None else status_ids.get(s) for s in theme_status],
        "shown": len(candidates),
        "total": total,
        "bounds": bounds,
    }


def _facilities(
    result: AuditResult,
    circles: list[dict[str, Any]],
    loaded: Mapping[str, LoadedCircle],
    lonlat: _Lonlat,
    lang: str,
) -> dict[str, Any]:
    """The located facilities of every type a circle uses, by type (types without any left out)."""
    geo = result.geo
    assert geo is not None
    table = geo.facility_table
    points = np.asarray(geo.facility_points, dtype=object)
    located = _present(points) if len(points) else np.zeros(0, dtype=bool)
    xy = np.full((len(points), 2), np.nan)
    if located.any():
        xy[located] = shapely.get_coordinates(points[located])[:, :2]
    fac_type = table["facility_type"].astype(str).to_numpy() if len(table) else np.array([])
    names = (
        table["facility_name"].to_numpy(dtype=object)
        if "facility_name" in table
        else np.full(len(table), None)
    )
    ids = table["facility_id"].astype(str).to_numpy() if "facility_id" in table else None
    off = (
        table["status"].astype(str).to_numpy() == STATUS_OFF_NETWORK
        if "status" in table
        else np.zeros(len(table), dtype=bool)
    )
    wanted = list(dict.fromkeys(t for c in circles for t in c["types"]))
    types: dict[str, Any] = {}
    all_micro = []
    for type_id in wanted:
        here = np.flatnonzero(located & (fac_type == type_id))
        if not len(here):
            continue
        micro = lonlat.micro(xy[here])
        all_micro.append(micro)
        labels = []
        for i in here:
            name = names[i]
            shown = name if isinstance(name, str) and name.strip() else None
            if shown is None and ids is not None:
                shown = ids[i]
            labels.append(shown)
        types[type_id] = {
            "name": type_name(type_id, lang),
            "colour": FACILITY_COLOURS[len(types) % len(FACILITY_COLOURS)],
            "xy": micro.ravel().tolist(),
            "names": labels,
            "off": [int(k) for k, i in enumerate(here) if off[i]],
        }
    for circle in circles:  # only the types that have facilities
        circle["types"] = [t for t in circle["types"] if t in types]
    bounds = None
    if all_micro:
        stacked = np.vstack(all_micro) / _SCALE
        lo, hi = stacked.min(axis=0), stacked.max(axis=0)
        bounds = [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]
    return {"types": types, "bounds": bounds}


def _service_areas(
    result: AuditResult,
    index: Mapping[tuple[str, str], int],
    lonlat: _Lonlat,
    themes: list[dict[str, Any]],
) -> dict[int, str]:
    """The service areas of every requirement the audit has them for, by theme index."""
    geo = result.geo
    areas = getattr(geo, "service_areas", None)
    if areas is None or not len(areas):
        return {}
    if areas.crs is not None and geo is not None and areas.crs != CRS.from_user_input(geo.crs):
        areas = areas.to_crs(geo.crs)  # drawn from the audit's metric CRS like the rest
    out: dict[int, str] = {}
    circle_ids = areas["circle_id"].astype(str).to_numpy()
    requirement_ids = areas["requirement_id"].fillna("").astype(str).to_numpy()
    geoms = areas.geometry.to_numpy(dtype=object)
    types = areas["facility_type"].astype(str).to_numpy() if "facility_type" in areas else None
    minutes = areas["minutes"].to_numpy(dtype=float) if "minutes" in areas else None
    present = _present(geoms)
    for key in dict.fromkeys(zip(circle_ids, requirement_ids, strict=True)):
        theme = index.get(key)
        rows = np.flatnonzero((circle_ids == key[0]) & (requirement_ids == key[1]) & present)
        if theme is None or not len(rows):
            continue
        props = [
            {
                "t": None if types is None else types[i],
                "min": None
                if minutes is None or not math.isfinite(minutes[i])
                else round(float(minutes[i]), 2),
            }
            for i in rows
        ]
        # the status quo's and the planned report share the areas of unchanged requirements
        shapes = each(geoms[rows], lonlat.key, lonlat.geometries)
        out[theme] = _features(shapes, props)
        themes[theme]["area"] = True
    return out
