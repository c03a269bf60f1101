"""The layers in the network's metric CRS: residents' coordinates, communities, zones.

Residents become metric coordinates (their points are made only where polygons need them);
each is assigned to the community polygon holding it (or the community column of the residents)
and to its zone value; communities roll up to sub-districts (街道) when a column says so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from circles.errors import InputDataError
from circles.evaluate.zones import zone_values
from circles.inputs.layers import Layers
from circles.inputs.validate import UNASSIGNED, assign_communities
from circles.projection import metric_xy, to_metric, xy_points

if TYPE_CHECKING:
    from circles.audit import AuditOptions


@dataclass
class Placed:
    """The audit's layers placed in the metric CRS.

    ``residents`` is the residents table with its ``community_id`` column filled in;
    ``resident_xy`` their metric coordinates (``n × 2``, NaN without geometry);
    ``community_ids`` every community in report order (polygons in file order, else first
    appearance); ``zone_raw`` each resident's zone value ('' outside every zone polygon).
    """

    residents: gpd.GeoDataFrame
    resident_xy: np.ndarray
    facilities: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    community_ids: list[str]
    subdistricts: dict[str, str]
    zone_raw: np.ndarray


def place_layers(layers: Layers, crs: CRS, options: AuditOptions, warnings: list[str]) -> Placed:
    """Project the layers into ``crs`` and assign residents to communities and zones."""
    residents = layers.residents
    area_m2 = polygon_areas_m2(layers.raw_residents, crs)
    if area_m2 is not None:  # residents given as polygons: their area, for land-area coverage
        residents["area_m2"] = area_m2
    res_xy = metric_xy(residents, crs)
    res_points = functools.cache(lambda: xy_points(res_xy))
    facilities = to_metric(layers.facilities, crs)
    subdistricts: dict[str, str] = {}
    comms = None
    if layers.communities is not None:
        comms = to_metric(layers.communities, crs)
        residents["community_id"] = assign_communities(res_points(), comms, warnings)
        community_ids = comms["community_id"].tolist()
        if (residents["community_id"] == UNASSIGNED).all():
            assert options.communities is not None
            raise InputDataError(
                f"no resident lies inside any polygon of communities file "
                f"{options.communities.name}; check that both layers are in the same place "
                "(their CRS, or --coords for GCJ-02/BD-09 data)"
            )
        assert layers.raw_communities is not None
        subdistricts = _subdistricts(layers.raw_communities, comms, options)
    else:
        residents["community_id"] = _community_column(layers.raw_residents, options, warnings)
        community_ids = [c for c in pd.unique(residents["community_id"]) if c != UNASSIGNED]
    zone_raw = np.full(len(residents), "", dtype=object)
    if layers.zones is not None:
        assert options.zones is not None
        zone_raw = zone_values(
            res_points(),
            to_metric(layers.zones, crs),
            options.zone_field,
            warnings,
            name=options.zones.name,
        )
    return Placed(
        residents=residents,
        resident_xy=res_xy,
        facilities=facilities,
        communities=comms,
        community_ids=community_ids,
        subdistricts=subdistricts,
        zone_raw=zone_raw,
    )


def polygon_areas_m2(layer: gpd.GeoDataFrame, crs: CRS) -> np.ndarray | None:
    """Area in ``crs`` (square metres) of each polygon of ``layer``; NaN for other rows.

    Invalid polygons (a bow tie) are measured repaired, as their points are taken. None when
    the layer holds no polygons (residents given as points).
    """
    geoms = layer.geometry.to_numpy(dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    if not polygonal.any():
        return None
    if layer.crs is not None:
        geoms = to_metric(layer[[layer.geometry.name]], crs).geometry.to_numpy(dtype=object)
    invalid = polygonal & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return np.where(polygonal, shapely.area(geoms), np.nan)


def _subdistricts(
    raw: gpd.GeoDataFrame, comms: gpd.GeoDataFrame, options: AuditOptions
) -> dict[str, str]:
    """Community id → sub-district (街道) name, from ``--subdistrict-field`` of the communities."""
    field = options.subdistrict_field
    columns = [str(c) for c in raw.columns]
    if field is None:
        field = next((c for c in ("subdistrict", "街道", "街道名称") if c in columns), None)
        if field is None:
            return {}
    elif field not in columns:
        assert options.communities is not None
        raise InputDataError(
            f"column {field!r} not found in communities file {options.communities.name}; "
            f"available: {', '.join(c for c in columns if c != raw.geometry.name)}; pass "
            "--subdistrict-field"
        )
    values = raw[field].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return {cid: str(v) for cid, v in zip(comms["community_id"], values, strict=True) if v}


def _community_column(
    layer: gpd.GeoDataFrame, options: AuditOptions, warnings: list[str]
) -> list[str]:
    """Community ids from a column on the residents (all unassigned when there is none)."""
    columns = [str(c) for c in layer.columns]
    if options.community_field in columns:
        values = layer[options.community_field].astype("string").str.strip()
        values = values.mask(values.isna() | (values == ""), UNASSIGNED)
        return values.astype(object).tolist()
    if options.community_field != "community":
        raise InputDataError(
            f"column {options.community_field!r} not found in residents file "
            f"{options.residents.name}; available: {', '.join(columns)}; pass --community-field "
            "or --communities"
        )
    warnings.append(
        "no communities given (no --communities and no 'community' column on the residents); "
        "every resident is reported as unassigned"
    )
    return [UNASSIGNED] * len(layer)
