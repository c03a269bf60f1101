"""Partitioned batches: residents owned by polygons, facilities within each polygon's halo.

One dataset is split into units, one per polygon of ``partition.by`` (or per value of its
``field``):

- **Residents.** A resident belongs to the first polygon, in file order, that contains it or
  touches it (a resident on a shared border goes to the earlier polygon). Residents in no polygon
  belong to no unit: they are counted as ``unassigned`` and named in a warning, never dropped
  silently. Residents without a point go to the first unit, which reports them (status
  ``no_geometry``, not covered) as one audit does.
- **Facilities.** A unit keeps the facilities within their type's *halo* of its polygon
  (straight distance). A type's halo is the largest reach any search for it makes (types no
  circle searches are left out): for walking circles
  ``REACH_FACTOR`` × the largest threshold (minutes × 60 × speed, or the distance threshold) —
  the nearest-facility time columns are reported up to ``REACH_FACTOR`` × the threshold (see
  :mod:`circles.traveltime.plan`); for driving circles ``REACH_FACTOR`` × the largest minutes ×
  60 × the fastest speed on the driving network (its fastest edge, or the access speed of the
  legs, whichever is faster). Hub circles keep every facility of their hub types. A trip's cost
  is at least the straight distance between resident and facility (the legs are straight, the
  network path at least the straight line between the snaps), so a facility beyond the halo is
  beyond every search and cannot change any number: per-resident results equal the whole-city
  audit's. The halo is widened by :data:`HALO_MARGIN` for the difference between the CRS the
  halo is measured in and the audit's. A unit with no facility within its halo keeps the
  nearest one (an audit needs one; it is beyond every search).
- **Communities.** A unit none of whose residents lies in a community polygon is audited
  without the communities (the audit refuses communities that hold none of its residents); its
  residents are ``unassigned``, as one audit reports them.
- **Network, communities, zones** are read whole by every unit (the network from the cache, so
  its component and fragment flags are those of the whole city; clipping the network is a later
  optimisation).

Capacity requirements share facilities between residents city-wide (nearest-first loads,
floating catchments), so they cannot be split by polygon: a partition refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from circles.batch.manifest import Partition, unit_name
from circles.batch.unit import write_table
from circles.errors import ManifestError
from circles.inputs.layers import Layers, read_layers
from circles.inputs.read import read_layer
from circles.inputs.validate import UNASSIGNED, assign_communities
from circles.projection import metric_xy, to_metric, xy_points
from circles.rules.load import LoadedCircle
from circles.settings import Settings
from circles.traveltime.costs import walking_speeds
from circles.traveltime.plan import REACH_FACTOR, walk_groups

#: Relative widening of the halo (distances in the partition's CRS vs the audit's)
HALO_MARGIN = 0.01
#: Absolute widening of the halo, metres
HALO_MARGIN_M = 10.0


@dataclass
class UnitLayers:
    """One partitioned unit: its polygon's name, its residents and its facilities."""

    name: str
    residents: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    #: no resident of the unit lies in a community polygon (one audit reports them unassigned)
    outside_communities: bool = False


@dataclass
class Split:
    """The units of a partition and the residents no polygon holds."""

    units: list[UnitLayers]
    unassigned: pd.DataFrame
    halo_m: float
    warnings: list[str]
    #: every resident id, in the input's order
    order: list = field(default_factory=list)
    #: the halo of each facility type searched (hub types: every facility kept)
    halos_m: dict[str, float] = field(default_factory=dict)


def drive_reach_s(loaded: list[LoadedCircle]) -> dict[str, float]:
    """Per driving circle, the longest a driving search of it reaches, seconds."""
    out: dict[str, float] = {}
    for lc in loaded:
        c = lc.circle
        if c.mode != "drive":
            continue
        minutes = max(
            max([r.max_time_min or 0.0, *(r.max_time_min_by_zone or {}).values()])
            for r in c.requirements
        )
        out[c.id] = REACH_FACTOR * minutes * 60.0
    return out


def halos_by_type(
    loaded: list[LoadedCircle], settings: Settings, drive_speed_m_s: float
) -> dict[str, float]:
    """Per facility type, the farthest any search for it reaches, metres (margin included).

    Walking: each search group's horizon (``REACH_FACTOR`` × its largest threshold) for every
    type of the group; driving: ``REACH_FACTOR`` × the circle's largest minutes × the fastest
    driving speed, for every type of the circle; hub types: infinite (every hub is kept). Types
    no circle searches are absent: no number depends on them.
    """
    out: dict[str, float] = {}
    walking = [lc.circle for lc in loaded if lc.circle.mode == "walk"]
    if walking:
        walk_m_s = settings.walk_speed_m_per_min / 60.0 if settings.walk_speed_m_per_min else None
        for key, (_, reach) in walk_groups(walking, walking_speeds(loaded, walk_m_s)).items():
            for ftype in key:
                out[ftype] = max(out.get(ftype, 0.0), reach)
    drive_s = drive_reach_s(loaded)
    for lc in loaded:
        if lc.circle.id in drive_s:
            for r in lc.circle.requirements:
                for ftype in r.facility_types:
                    reach = drive_s[lc.circle.id] * drive_speed_m_s
                    out[ftype] = max(out.get(ftype, 0.0), reach)
    out = {t: h * (1.0 + HALO_MARGIN) + HALO_MARGIN_M for t, h in out.items()}
    return out | dict.fromkeys(hub_types(loaded), np.inf)


def hub_types(loaded: list[LoadedCircle]) -> set[str]:
    """The facility types hub circles use as hubs (kept whole in every unit)."""
    return {t for lc in loaded if lc.circle.hub is not None for t in lc.circle.hub.hub_types}


def refuse_capacity(loaded: list[LoadedCircle], path: Path) -> None:
    """Raise when a circle has capacity requirements (they cannot be split by polygon)."""
    capped = [
        f"{lc.circle.id}/{r.id}" for lc in loaded for r in lc.circle.requirements if r.capacity
    ]
    if capped:
        raise ManifestError(
            f"{path}: partition: capacity requirements ({', '.join(capped)}) share facilities "
            "city-wide and cannot be split by polygon; audit them with circles audit, or use "
            "units: of whole cities"
        )


def read_polygons(partition: Partition, crs: CRS) -> tuple[list[str], list[np.ndarray]]:
    """The unit names and, per unit, its polygons (in file order) in ``crs``.

    Raises
    ------
    ManifestError
        When ``field`` is not a column of the layer, or the layer holds no polygon.
    """
    layer = read_layer(partition.by, "partition")
    if partition.field is not None and partition.field not in layer.columns:
        available = ", ".join(str(c) for c in layer.columns if c != layer.geometry.name)
        raise ManifestError(
            f"partition.field {partition.field!r} not found in {partition.by.name}; available: "
            f"{available}; give one of them as partition: field:"
        )
    if layer.crs is None:
        raise ManifestError(
            f"partition.by {partition.by.name} has no CRS; save it with one (e.g. EPSG:4326)"
        )
    geoms = layer.to_crs(crs).geometry.to_numpy(dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.any():
        raise ManifestError(f"partition.by {partition.by.name} holds no polygon")
    if partition.field is None:
        labels = [f"unit-{i + 1}" for i in range(len(layer))]
    else:
        labels = [unit_name(v) for v in layer[partition.field]]
    names = list(dict.fromkeys(label for label, k in zip(labels, keep, strict=True) if k))
    polygons = [
        np.array([g for g, label, k in zip(geoms, labels, keep, strict=True) if k and label == n])
        for n in names
    ]
    return names, polygons


def owners(xy: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray:
    """Per point, the index of its unit: the first polygon in file order holding it, else -1.

    A point on a border shared by two polygons belongs to the earlier one.
    """
    flat = [(u, g) for u, gs in enumerate(polygons) for g in gs]
    owner = np.full(len(xy), -1, dtype=np.int64)
    has = np.isfinite(xy).all(axis=1)
    points = shapely.points(xy[has])
    rows = np.flatnonzero(has)
    for unit, geom in flat:  # in file order: the first polygon wins
        open_rows = owner[rows] < 0
        if not open_rows.any():
            break
        inside = shapely.intersects(geom, points[open_rows])
        owner[rows[open_rows][inside]] = unit
    return owner


def split(
    settings: Settings,
    partition: Partition,
    loaded: list[LoadedCircle],
    crs: CRS,
    drive_speed_m_s: float,
) -> Split:
    """Split the residents by polygon and the facilities by halo.

    Parameters
    ----------
    settings
        The shared settings (the whole dataset).
    partition
        The polygons and the field naming the units.
    loaded
        The circles audited.
    crs
        The metric CRS the halos are measured in.
    drive_speed_m_s
        The fastest speed of the driving networks (edges and legs); 0 without driving circles.
    """
    warnings: list[str] = []
    capacity_fields = [
        r.capacity.field for lc in loaded for r in lc.circle.requirements if r.capacity
    ]
    layers = read_layers(settings, warnings, keep_columns=capacity_fields)
    names, polygons = read_polygons(partition, crs)
    halos = halos_by_type(loaded, settings, drive_speed_m_s)
    halo_m = max((h for h in halos.values() if np.isfinite(h)), default=0.0)
    residents = layers.residents
    res_xy = metric_xy(residents, crs)
    owner = owners(res_xy, polygons)
    # a resident without a point is in no polygon; the first unit reports it (no_geometry) as
    # one audit does, so that every resident of the input is in the combined residents.csv
    owner[~np.isfinite(res_xy).all(axis=1)] = 0
    residents_out = _residents_layer(layers, settings)
    facilities = layers.facilities
    fac_xy = metric_xy(facilities, crs)
    fac_points = shapely.points(np.where(np.isfinite(fac_xy), fac_xy, 0.0))
    fac_ok = np.isfinite(fac_xy).all(axis=1)
    fac_halo = np.array(
        [halos.get(t, -1.0) for t in facilities["facility_type"].to_numpy(dtype=object)],
        dtype=float,
    )
    hubs = np.isinf(fac_halo)
    finite = np.where(hubs, 0.0, fac_halo)  # negative: a type no circle searches
    facilities_out = _facilities_layer(facilities, capacity_fields)
    community = None
    if layers.communities is not None:  # which residents lie in a community, as one audit says
        comms = to_metric(layers.communities, crs)
        community = assign_communities(xy_points(res_xy), comms, [])
    units = []
    for i, name in enumerate(names):
        near = np.zeros(len(facilities), dtype=bool)
        for geom in polygons[i]:
            near |= shapely.dwithin(geom, fac_points, finite)
        near = (near & fac_ok) | hubs
        if not near.any() and fac_ok.any():
            # an audit needs one facility; one beyond the halo is beyond every search
            gap = np.full(len(facilities), np.inf)
            gap[fac_ok] = shapely.distance(shapely.union_all(polygons[i]), fac_points[fac_ok])
            near[int(np.argmin(gap))] = True
        units.append(
            UnitLayers(
                name=name,
                residents=residents_out[owner == i].reset_index(drop=True),
                facilities=facilities_out[near].reset_index(drop=True),
                outside_communities=community is not None
                and bool((community[owner == i] == UNASSIGNED).all()),
            )
        )
    lost = residents_out[owner < 0]
    unassigned = pd.DataFrame(
        {"resident_id": lost["id"].to_numpy(dtype=object), "population": lost["population"]}
    )
    if len(lost):
        shown = ", ".join(str(v) for v in lost["id"].head(5))
        warnings.append(
            f"{len(lost)} residents (population {lost['population'].sum():g}) lie in no "
            f"polygon of {partition.by.name} and are in no unit (unassigned): {shown}"
            + (", …" if len(lost) > 5 else "")
        )
    return Split(
        units=units,
        unassigned=unassigned,
        halo_m=halo_m,
        halos_m={t: round(h, 1) for t, h in sorted(halos.items()) if np.isfinite(h)},
        warnings=warnings,
        order=residents_out["id"].tolist(),
    )


def _residents_layer(layers: Layers, settings: Settings) -> gpd.GeoDataFrame:
    """The residents as the units read them: id, population (and community) and the geometry.

    The geometry is the one given (a polygon stays a polygon, so the unit measures its area and
    takes the same point inside it).
    """
    residents = layers.residents
    columns = {
        "id": residents["resident_id"].to_numpy(dtype=object),
        "population": residents["population"].to_numpy(dtype=float),
    }
    if settings.communities is None and settings.community_field in layers.raw_residents.columns:
        raw = layers.raw_residents[settings.community_field]
        columns[settings.community_field] = raw.to_numpy(dtype=object)
    raw = layers.raw_residents
    return gpd.GeoDataFrame(columns, geometry=raw.geometry.to_numpy(), crs=raw.crs)


def _facilities_layer(facilities: gpd.GeoDataFrame, keep: list[str]) -> gpd.GeoDataFrame:
    """The facilities as the units read them: id, type (catalogue id), name and the point."""
    columns = {
        "id": facilities["facility_id"].to_numpy(dtype=object),
        "type": facilities["facility_type"].to_numpy(dtype=object),
        "name": facilities["facility_name"].to_numpy(dtype=object),
        **{f: facilities[f].to_numpy(dtype=object) for f in keep if f in facilities.columns},
    }
    return gpd.GeoDataFrame(columns, geometry=facilities.geometry.to_numpy(), crs=facilities.crs)


def write_unit_inputs(unit: UnitLayers, folder: Path, settings: Settings) -> Settings:
    """Write a unit's residents and facilities to ``folder`` (GeoParquet); its settings.

    The unit reads them with ids, populations and catalogue types as written (no second
    classification or coordinate conversion); everything else is the shared settings.
    """
    folder.mkdir(parents=True, exist_ok=True)
    res_path, fac_path = folder / "residents.parquet", folder / "facilities.parquet"
    write_table(unit.residents, res_path)  # GeoParquet: the geometry is no object column
    write_table(unit.facilities, fac_path)
    coords = dict(settings.coords)
    changes: dict = {}
    if unit.outside_communities:  # the audit refuses communities none of its residents is in
        changes = {"communities": None, "community_field": "community", "subdistrict_field": None}
    for role, layer in (("residents", unit.residents), ("facilities", unit.facilities)):
        geographic = layer.crs is not None and CRS.from_user_input(layer.crs).is_geographic
        if geographic:
            coords[role] = "wgs84"  # converted already
        else:
            coords.pop(role, None)
    return settings.model_copy(
        update={
            "residents": res_path,
            "facilities": fac_path,
            "resident_id_field": "id",
            "population_field": "population",
            "households_field": None,
            "facility_id_field": "id",
            "facility_type_field": "type",
            "facility_name_field": "name",
            "coords": coords,
            **changes,
        }
    )
