"""Reading street networks: walkable or drivable ways from OSM or centre-lines, with attributes.

Both readers return one LineString per row with ``u_key``/``v_key`` node keys where the source
has them (OSM node ids), and, for driving, the road class, the tagged maxspeed and the one-way
flag normalised to ``1`` (along the geometry), ``-1`` (against it) or ``0`` (both ways).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.errors import NetworkError
from circles.inputs.read import read_layer
from circles.network.levels import line_levels
from circles.network.osm import Segments, osm_edges, release_osm

MPH_TO_KMH = 1.609344
# one-way values (lower case, numbers also as 1.0/-1.0): along the geometry, against it, both
# ways. "ft"/"tf" are the from-to/to-from codes of ArcGIS road layers; "f" is false, not forward.
FORWARD = {"yes", "true", "1", "t", "y", "forward", "ft", "是", "单向"}
BACKWARD = {"-1", "reverse", "backward", "tf"}
TWO_WAY = {"no", "false", "0", "f", "n", "both", "two-way", "twoway", "否", "双向", ""}
NOT_DRIVABLE = {
    "footway",
    "path",
    "steps",
    "pedestrian",
    "cycleway",
    "bridleway",
    "corridor",
    "track",
    "elevator",
    "platform",
}
ROLE_WORDS = {"walk": "walkable", "drive": "drivable"}
__all__ = ["osm_segments", "read_centre_lines", "read_osm", "release_osm"]


def osm_segments(path: Path, mode: str) -> tuple[Segments, pd.DataFrame | None]:
    """Walkable (``mode="walk"``) or drivable (``"drive"``) edges of an OSM extract.

    Walking leaves out motorways, cycleways and ways closed to pedestrians by
    ``access``/``foot``; driving keeps car-accessible ways (:mod:`circles.network.osm` has
    the filters). Ways are split at every node. For driving, the second item gives each edge's
    ``road_class``, ``maxspeed_km_h`` and ``oneway`` (``oneway`` and ``junction=roundabout``
    set the direction); None for walking.

    Raises
    ------
    NetworkError
        When the file cannot be read, or holds no ways of the mode.
    """
    edges = osm_edges(path, mode)
    if len(edges.u_key) == 0:
        what = (
            "walkable ways (footway, path, steps, pedestrian, residential, service...)"
            if mode == "walk"
            else "drivable ways (motorway to residential and service roads)"
        )
        raise NetworkError(f"OSM extract {path} holds no {what}; check it covers the study area")
    if mode != "drive":
        return edges, None
    # attributes of the ways (tens of thousands), then of their edges
    ways = pd.DataFrame(
        {key: edges.tags[key] for key in ("highway", "maxspeed", "oneway", "junction")}
    )
    road_class = _text(ways, "highway")
    speed = _unique_map(_text(ways, "maxspeed"), parse_maxspeed)
    one = _text(ways, "oneway")
    oneway = oneway_flags(one)
    roundabout = _text(ways, "junction").isin(["roundabout", "circular"]).to_numpy()
    # a roundabout is one-way along its drawing unless tagged oneway=no outright
    implied = (oneway == 0) & roundabout & ~explicit_two_way(one)
    attributes = pd.DataFrame(
        {
            "road_class": road_class.to_numpy()[edges.way],
            "maxspeed_km_h": speed[edges.way],
            "oneway": np.where(implied, 1, oneway)[edges.way],
        }
    )
    return edges, attributes


def read_osm(path: Path, mode: str) -> gpd.GeoDataFrame:
    """The edges of :func:`osm_segments` as two-point LineStrings in WGS 84, with attributes."""
    edges, attributes = osm_segments(path, mode)
    out = gpd.GeoDataFrame(
        {"u_key": edges.u_key, "v_key": edges.v_key},
        geometry=shapely.linestrings(np.stack([edges.start, edges.end], axis=1)),
        crs="EPSG:4326",
    )
    if attributes is not None:
        for column in attributes.columns:
            out[column] = attributes[column].to_numpy()
    return out


def _unique_map(values: pd.Series, parse: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """``parse`` applied once per distinct value."""
    codes, uniques = pd.factorize(values)
    return parse(pd.Series(uniques, dtype=object))[codes]


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[column].astype("string").fillna("").str.strip().str.lower().astype(object)


def parse_maxspeed(values: pd.Series) -> np.ndarray:
    """km/h from OSM-style maxspeed text (``50``, ``50 km/h``, ``30 mph``); NaN when unusable."""
    out = np.full(len(values), np.nan)
    for i, text in enumerate(values.to_numpy(dtype=object)):
        match = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", str(text or ""))
        if match:
            speed = float(match.group(1))
            if match.group(2) == "mph":
                speed *= MPH_TO_KMH
            if 0 < speed <= 200:
                out[i] = speed
    return out


def _oneway_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip().str.lower()
    return text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)  # 1.0 from a float column


def oneway_flags(values: pd.Series) -> np.ndarray:
    """1 along the geometry, -1 against it, 0 both ways, from one-way text or numbers.

    ``yes``/``true``/``1``/``t``/``ft`` run along the geometry, ``-1``/``reverse``/``tf``
    against it; ``no``/``false``/``0``/``f``, empty and any other value both ways (see
    :func:`unknown_oneway_values` to report the others).
    """
    text = _oneway_text(values)
    return np.where(text.isin(FORWARD), 1, np.where(text.isin(BACKWARD), -1, 0)).astype(np.int8)


def explicit_two_way(values: pd.Series) -> np.ndarray:
    """Where a one-way value says "both ways" outright (``no``, ``false``, ``0``, ``f``)."""
    text = _oneway_text(values)
    return (text.isin(TWO_WAY) & (text != "")).to_numpy()


def unknown_oneway_values(values: pd.Series) -> dict[str, int]:
    """One-way values read as neither direction nor both ways, with their counts."""
    text = _oneway_text(values)
    unknown = text[~text.isin(FORWARD | BACKWARD | TWO_WAY)]
    return {str(k): int(v) for k, v in unknown.value_counts().head(10).items()}


def read_centre_lines(
    path: Path,
    crs: str | None,
    mode: str,
    *,
    class_field: str | None = None,
    speed_field: str | None = None,
    oneway_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Centre-lines as single LineStrings with their source row (1-based) and attributes.

    For driving, ``class_field`` (default ``highway`` when present) drops ways cars cannot use
    (footway, path, steps...) and selects the class speed; ``speed_field`` gives km/h;
    ``oneway_field`` (default ``oneway`` when present) gives the direction.
    """
    layer = read_layer(path, "network", crs=crs)
    if len(layer) == 0:
        raise NetworkError(f"network file {path.name} has no rows; give road centre-lines")
    kinds = set(layer.geometry.dropna().geom_type.unique())
    if not kinds or not kinds <= {"LineString", "MultiLineString"}:
        raise NetworkError(
            f"network file {path.name} holds {', '.join(sorted(kinds)) or 'no geometries'}; "
            "give road centre-lines (LineString) or an .osm.pbf extract"
        )
    columns = [str(c) for c in layer.columns]

    def pick(given: str | None, fallback: str, option: str) -> str | None:
        if given is not None:
            if given not in columns:
                raise NetworkError(
                    f"column {given!r} not found in network file {path.name}; available: "
                    f"{', '.join(c for c in columns if c != layer.geometry.name)}; pass {option}"
                )
            return given
        return fallback if fallback in columns else None

    lines = gpd.GeoDataFrame(
        {"line": np.arange(1, len(layer) + 1), "level": line_levels(layer)},
        geometry=layer.geometry.values,
        crs=layer.crs,
    )
    if mode == "drive":
        cls = pick(class_field, "highway", "--road-class-field")
        spd = pick(speed_field, "maxspeed", "--speed-field")
        one = pick(oneway_field, "oneway", "--oneway-field")
        lines["road_class"] = _text(layer, cls) if cls else ""
        lines["maxspeed_km_h"] = (
            pd.to_numeric(layer[spd], errors="coerce").to_numpy(dtype=float) if spd else np.nan
        )
        lines["oneway"] = oneway_flags(layer[one]) if one else np.int8(0)
        unknown = unknown_oneway_values(layer[one]) if one else {}
        lines = lines[~lines["road_class"].isin(NOT_DRIVABLE)]
    else:
        unknown = {}
    empty = lines.geometry.isna() | lines.geometry.is_empty
    if empty.all() and len(lines):
        raise NetworkError(
            f"network file {path.name} has no lines with coordinates ({int(empty.sum())} rows "
            "have empty geometries); give road centre-lines (LineString) or an .osm.pbf extract"
        )
    lines = lines[~empty]
    lines = lines.explode(index_parts=False, ignore_index=True)
    lines["geometry"] = shapely.force_2d(lines.geometry.to_numpy())
    if len(lines) == 0:
        raise NetworkError(
            f"network file {path.name} has no {ROLE_WORDS[mode]} lines (classes such as "
            "footway and path are not drivable); check --road-class-field"
        )
    if mode == "drive" and unknown:  # read as two-way; the audit says which values
        lines.attrs["oneway_unknown"] = unknown
    return lines
