"""The audit's input layers, read and validated: residents, facilities, communities, zones.

Point and polygon layers are read by :func:`circles.inputs.read.read_layer`, converted from
GCJ-02/BD-09 to WGS 84 where said (or inferred from an export's shape), and validated into
tables with ids (:mod:`circles.inputs.validate`); POI exports are classified through the
catalogue. Nothing is projected here: :mod:`circles.inputs.place` puts the layers in the
network's metric CRS once the networks are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from circles.catalogue.classify import classify, looks_like_poi_table, poi_columns, unmapped_summary
from circles.catalogue.load import load_catalogue
from circles.errors import InputDataError
from circles.inputs.coordsys import infer_system
from circles.inputs.read import read_layer, refuse_osm_xml, split_layer
from circles.inputs.validate import communities_table, facilities_table, residents_table
from circles.projection import to_wgs84_coords

if TYPE_CHECKING:
    from circles.audit import AuditOptions

LAYER_ROLES = ("facilities", "residents", "communities", "zones", "planned")
COORD_ROLES = (*LAYER_ROLES, "candidates")  # circles suggest reads candidate sites too
COORD_NAMES = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)", "wgs84": "WGS 84"}


@dataclass
class Layers:
    """The validated input layers (WGS 84 or their own CRS; not yet projected).

    ``residents`` and ``facilities`` are the tables of :mod:`circles.inputs.validate` (one row
    per input row, with ``status``); ``raw_residents`` and ``raw_communities`` keep the columns
    as read (community and sub-district fields are looked up there); ``classified`` is the POI
    classification when the facilities were classified; ``converted`` lists the coordinate
    conversions made (``"facilities: gcj02 → wgs84"``).
    """

    residents: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    zones: gpd.GeoDataFrame | None
    raw_residents: gpd.GeoDataFrame
    raw_communities: gpd.GeoDataFrame | None
    classified: pd.DataFrame | None
    converted: list[str]


def read_layers(
    options: AuditOptions, warnings: list[str], keep_columns: Sequence[str] = ()
) -> Layers:
    """Read and validate the point and polygon layers, converting GCJ-02/BD-09 to WGS 84.

    ``keep_columns`` are facility columns the rules read (capacities), kept when present.
    """
    layers: dict[str, gpd.GeoDataFrame | None] = {}
    converted: list[str] = []
    for role in LAYER_ROLES:
        path = getattr(options, role)
        if path is None:
            layers[role] = None
            continue
        explicit = role in options.coords
        system = options.coords.get(role, options.coords.get("*"))
        if not explicit and str(path).lower().endswith((".pbf", ".osm")):
            system = None  # OSM is WGS 84: a bare --coords names the exports' system
        layer = read_layer(
            path, role, crs="EPSG:4326" if system else options.crs, warnings=warnings
        )
        if system is None:
            inferred = infer_system(layer)
            if inferred is not None and inferred[0] != "wgs84":
                system, reason = inferred
                explicit = True
                warnings.append(
                    f"{role} file {path.name}: coordinates read as {COORD_NAMES[system]} and "
                    f"converted to WGS 84, as {reason}; pass --coords {role}=wgs84 if they are "
                    "WGS 84 already"
                )
        projected = layer.crs is not None and CRS.from_user_input(layer.crs).is_projected
        if system and (explicit or not projected):
            # a bare --coords names the system of the lon/lat layers; projected ones keep theirs
            layer = to_wgs84_coords(layer, system, role=role, path=str(path))
            if system != "wgs84":
                converted.append(f"{role}: {system} → wgs84")
        layers[role] = layer
    residents = residents_table(
        layers["residents"],
        options.residents,
        id_field=options.resident_id_field,
        population_field=options.population_field,
        households_field=options.households_field,
        persons_per_household=options.persons_per_household,
        warnings=warnings,
    )
    fac_layer, type_field, classified = _facility_types(layers["facilities"], options, warnings)
    name_field = options.facility_name_field
    if name_field == "name" and "name" not in fac_layer.columns:
        name_field = poi_columns(fac_layer).name
    facilities = facilities_table(
        fac_layer,
        options.facilities,
        id_field=options.facility_id_field,
        type_field=type_field,
        name_field=name_field,
        warnings=warnings,
        keep=keep_columns,
    )
    facilities["planned"] = False
    if layers["planned"] is not None:
        facilities = _add_planned(facilities, layers["planned"], options, warnings, keep_columns)
    communities = None
    if layers["communities"] is not None:
        assert options.communities is not None
        communities = communities_table(
            layers["communities"],
            options.communities,
            field=options.community_field,
            warnings=warnings,
        )
    zones = layers["zones"]
    if zones is not None and options.zone_field not in zones.columns:
        assert options.zones is not None
        available = ", ".join(str(c) for c in zones.columns if c != zones.geometry.name)
        raise InputDataError(
            f"column {options.zone_field!r} not found in zones file {options.zones.name}; "
            f"available: {available}; pass --zone-field"
        )
    return Layers(
        residents=residents,
        facilities=facilities,
        communities=communities,
        zones=zones,
        raw_residents=layers["residents"],
        raw_communities=layers["communities"],
        classified=classified,
        converted=converted,
    )


def _add_planned(
    facilities: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    options: AuditOptions,
    warnings: list[str],
    keep_columns: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """The facilities with the planned ones added (same formats and checks, ids kept apart)."""
    planned_path = options.planned
    assert planned_path is not None
    layer, type_field, _ = _facility_types(layer, options, warnings)
    planned = facilities_table(
        layer,
        planned_path,
        id_field=options.facility_id_field,
        type_field=type_field,
        name_field=options.facility_name_field,
        warnings=warnings,
        keep=keep_columns,
    )
    clash = sorted(set(planned["facility_id"]) & set(facilities["facility_id"]))
    if clash:
        raise InputDataError(
            f"planned facilities file {planned_path.name}: id {clash[0]!r} is already a "
            f"facility of {options.facilities.name}; give planned facilities ids of their own"
        )
    planned["planned"] = True
    planned = planned.to_crs(facilities.crs)
    return gpd.GeoDataFrame(pd.concat([facilities, planned], ignore_index=True), crs=facilities.crs)


def _facility_types(
    layer: gpd.GeoDataFrame, options: AuditOptions, warnings: list[str]
) -> tuple[gpd.GeoDataFrame, str, pd.DataFrame | None]:
    """The facility-type column to use: given, a column of catalogue ids, or classified POIs.

    Without ``--facility-type-field``, a ``type`` column of catalogue ids is used as it is; an
    Amap/Baidu-style table (typecode, 大类/中类/小类, or category text) is classified through
    the catalogue, and its unmapped categories are reported.
    """
    if options.facility_type_field is not None:
        return layer, options.facility_type_field, None
    catalogue = load_catalogue()
    if not looks_like_poi_table(layer, catalogue):
        return layer, "type", None
    result = classify(layer, catalogue)
    layer = layer.copy()
    layer["__facility_type"] = result["facility_type"].to_numpy()
    unmapped = unmapped_summary(result)
    if len(unmapped):
        listed = ", ".join(
            f"{r.category or '(no category)'} ({r.count})" for r in unmapped.head(8).itertuples()
        )
        more = f" and {len(unmapped) - 8} more" if len(unmapped) > 8 else ""
        warnings.append(
            f"facilities file {options.facilities.name}: {int(unmapped['count'].sum())} POIs "
            f"match no facility type and are not used: {listed}{more}; run circles facilities "
            "classify to see the mapping, extend rules/facilities.yaml, or pass "
            "--facility-type-field"
        )
    return layer, "__facility_type", result


def check_options(options: AuditOptions) -> None:
    """Refuse option values and input paths that cannot work, before anything is read."""
    if options.walk_speed_m_per_min is not None and options.walk_speed_m_per_min <= 0:
        raise InputDataError(f"--walk-speed {options.walk_speed_m_per_min:g} must be > 0 m/min")
    if options.max_snap_m <= 0:
        raise InputDataError(f"--max-snap {options.max_snap_m:g} must be > 0 metres")
    if options.join_ends_m < 0:
        raise InputDataError(f"--join-ends {options.join_ends_m:g} must be >= 0 metres (0: off)")
    if options.min_component_nodes < 0:
        raise InputDataError(
            f"--min-component-nodes {options.min_component_nodes} must be >= 0 (0 keeps every "
            "component)"
        )
    for role in options.coords:
        if role != "*" and role not in COORD_ROLES:
            raise InputDataError(
                f"--coords {role}=...: no such layer; use one of {', '.join(COORD_ROLES)}, or "
                "give a bare system (--coords gcj02) for every layer"
            )
    files = [
        (role, split_layer(Path(path))[0] if role != "network" else Path(path))
        for role, path in (
            ("network", options.network),
            ("facilities", options.facilities),
            ("residents", options.residents),
            ("communities", options.communities),
            ("zones", options.zones),
            ("planned facilities", options.planned),
        )
        if path is not None
    ]
    missing = [f"{role} file {path}" for role, path in files if not path.exists()]
    if missing:
        verb, what = ("does", "path") if len(missing) == 1 else ("do", "paths")
        raise InputDataError(f"{', '.join(missing)} {verb} not exist; check the {what}")
    refuse_osm_xml(Path(options.network))
