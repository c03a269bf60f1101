"""OSM POIs: read facilities from an OSM extract, and OSM tags off any POI table.

The catalogue's ``osm:`` lists (``amenity=school``, ``leisure=park``, ``highway=pedestrian&
area=yes``…) say which tags make a facility. An extract passed as the facilities file is read
for exactly those keys (``.osm.pbf`` with pyrosm, ``.osm`` XML with GDAL): nodes as they are,
ways and relations at a representative point (a point inside the polygon, on the line). A POI
table exported from OSM by other tools is read the same way: tags as columns (osmnx, QuickOSM,
overpass-turbo), as a JSON ``tags`` column (pyrosm) or as an ``other_tags`` hstore column
(GDAL's OSM driver).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.catalogue.load import Catalogue, load_catalogue
from circles.errors import InputDataError

TAG_COLUMNS = ("tags", "other_tags")
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def tag_conditions(spec: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a catalogue OSM tag, ``k=v`` or ``k=v&k2=v2``."""
    return [tuple(part.split("=", 1)) for part in spec.split("&")]  # type: ignore[misc]


def osm_keys(catalogue: Catalogue) -> dict[str, set[str]]:
    """Every OSM key the catalogue names, with the values it lists for it."""
    keys: dict[str, set[str]] = {}
    for entry in catalogue.types.values():
        for spec in entry.osm:
            for key, value in tag_conditions(spec):
                keys.setdefault(key, set()).add(value)
    return keys


def has_osm_tags(frame: pd.DataFrame, catalogue: Catalogue) -> bool:
    """Whether a table carries OSM tags: a tags column, or a column named by a key that selects.

    Qualifying keys (``area`` in ``highway=pedestrian&area=yes``) do not count: a column named
    ``area`` is more likely a size than a tag.
    """
    columns = {str(c) for c in frame.columns}
    return bool(columns & set(_selecting(catalogue))) or bool(columns & set(TAG_COLUMNS))


def _parse_tags(text: object) -> dict[str, str]:
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    if not isinstance(text, str) or not text.strip():
        return {}
    text = text.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return {k: v for k, v in _HSTORE.findall(text)}


def row_tags(frame: pd.DataFrame, catalogue: Catalogue) -> list[dict[str, str]]:
    """The catalogue's OSM keys each row carries, as ``{key: value}`` (empty when none).

    Tag columns win over the same key inside a ``tags``/``other_tags`` column.
    """
    keys = osm_keys(catalogue)
    tags: list[dict[str, str]] = [{} for _ in range(len(frame))]
    for column in TAG_COLUMNS:
        if column in frame.columns:
            for i, text in enumerate(frame[column].to_numpy(dtype=object)):
                parsed = _parse_tags(text)
                tags[i].update({k: v for k, v in parsed.items() if k in keys})
    for key in keys:
        if key in frame.columns:
            values = frame[key].astype("string").fillna("").str.strip().to_numpy(dtype=object)
            for i, value in enumerate(values):
                if value:
                    tags[i][key] = str(value)
    return tags


def _selecting(catalogue: Catalogue) -> dict[str, list[str]]:
    """The values to select by key: the first key of a combined tag (the rest are checked)."""
    selecting: dict[str, list[str]] = {}
    for entry in catalogue.types.values():
        for spec in entry.osm:
            key, value = tag_conditions(spec)[0]
            selecting.setdefault(key, [])
            if value not in selecting[key]:
                selecting[key].append(value)
    return selecting


def read_osm_pois(path: Path, role: str = "facilities") -> gpd.GeoDataFrame:
    """The POIs of an OSM extract that carry a catalogue tag, one point each, in EPSG:4326.

    ``.osm.pbf`` extracts are read with pyrosm, ``.osm`` XML with GDAL's OSM driver (its
    ``points`` and ``multipolygons`` layers). Columns: ``id`` (``node/123``, ``way/45``,
    ``relation/6``: unique across element kinds), ``osm_id``, ``osm_type``, ``name``, one
    column per catalogue key, and the point.

    Raises
    ------
    InputDataError
        When the file is not a readable extract or holds no such POI.
    """
    catalogue = load_catalogue()
    selecting = _selecting(catalogue)
    try:
        xml = path.suffix.lower() == ".osm"
        found = _read_osm_xml(path) if xml else _read_pbf(path, selecting)
    except Exception as exc:  # pyrosm and GDAL raise assorted types on corrupt input
        raise InputDataError(
            f"cannot read OSM POIs from {role} file {path} ({type(exc).__name__}: {exc}); "
            "give an .osm.pbf extract (or .osm XML) of the study area"
        ) from exc
    if found is None or len(found) == 0:
        raise InputDataError(
            f"{role} file {path} holds no POI tagged with a catalogue key "
            f"({', '.join(sorted(selecting))}); give an extract of the study area, or a POI "
            "table with a facility-type column"
        )
    return _poi_layer(found, catalogue)


def _read_pbf(path: Path, selecting: dict[str, list[str]]) -> gpd.GeoDataFrame | None:
    """Elements of a ``.osm.pbf`` holding a selecting tag: ``id``, ``osm_type``, tags, geometry."""
    import warnings

    import pyrosm

    with warnings.catch_warnings():  # "Could not find any OSM data": said in our own words
        warnings.simplefilter("ignore", UserWarning)
        return pyrosm.OSM(str(path)).get_data_by_custom_criteria(
            custom_filter=selecting,
            osm_keys_to_keep=list(selecting),
            filter_type="keep",
            keep_nodes=True,
            keep_ways=True,
            keep_relations=True,
        )


def _read_osm_xml(path: Path) -> gpd.GeoDataFrame:
    """Nodes and areas of an ``.osm`` XML file (GDAL), in the shape :func:`_read_pbf` gives."""
    import pyogrio

    with warnings.catch_warnings():
        # a clipped extract leaves rings unclosed; those areas come back without geometry
        warnings.simplefilter("ignore", RuntimeWarning)
        points = pyogrio.read_dataframe(path, layer="points", on_invalid="ignore")
        areas = pyogrio.read_dataframe(path, layer="multipolygons", on_invalid="ignore")
    points["osm_type"] = "node"
    points["id"] = points["osm_id"]
    is_way = areas["osm_way_id"].notna()
    areas["osm_type"] = np.where(is_way, "way", "relation")
    areas["id"] = areas["osm_way_id"].where(is_way, areas["osm_id"])
    areas = areas.drop(columns=["type"], errors="ignore")  # the relation type, not a category
    frame = pd.concat(
        [points.drop(columns=["osm_id"]), areas.drop(columns=["osm_id", "osm_way_id"])],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=points.crs or "EPSG:4326")


def _poi_layer(found: gpd.GeoDataFrame, catalogue: Catalogue) -> gpd.GeoDataFrame:
    """One point per element carrying a catalogue tag, with its id, name and catalogue keys."""
    tags = row_tags(found, catalogue)
    specs = [tag_conditions(s) for e in catalogue.types.values() for s in e.osm]
    listed = np.array(
        [any(all(v in t.get(k, "").split(";") for k, v in c) for c in specs) for t in tags],
        dtype=bool,
    )
    # the selecting key alone is not enough (highway=pedestrian without area=yes is a street)
    found = found[listed].reset_index(drop=True)
    tags = [t for t, keep in zip(tags, listed, strict=True) if keep]
    kinds = (
        found["osm_type"].astype(str).to_numpy()
        if "osm_type" in found
        else np.full(len(found), "node", dtype=object)
    )
    osm_id = found["id"].astype("int64").to_numpy()
    names = found["name"] if "name" in found else pd.Series("", index=found.index)
    out = pd.DataFrame(
        {
            "id": [f"{t}/{i}" for t, i in zip(kinds, osm_id, strict=True)],
            "osm_id": osm_id,
            "osm_type": kinds,
            "name": names.astype("string").fillna("").to_numpy(dtype=object),
        }
    )
    for key in sorted(osm_keys(catalogue)):
        out[key] = [t.get(key, "") for t in tags]
    geometry = found.geometry
    points = geometry.where(geometry.geom_type == "Point", geometry.representative_point())
    # an area GDAL could not assemble (a ring cut by the extract's edge) keeps its row without
    # geometry: the audit lists it as no_geometry rather than losing it
    return gpd.GeoDataFrame(out, geometry=points.to_numpy(), crs="EPSG:4326")
