"""GIS layers of the report folder: residents, communities and facilities as GPKG or GeoParquet.

Each layer is the matching table of the audit with its geometry, in the CRS ``--crs-out``
(WGS 84 unless told): ``residents`` one row per input resident in input order at the point the
audit used (a row without geometry keeps its place, with an empty geometry) and every
``residents.csv`` column; ``facilities`` one row per input facility with the ``facilities.csv``
columns; ``communities`` one row per community polygon (one row per community without geometry
when no polygons were given) with its sub-district (when the audit has them), residents and
population and, per circle and requirement, coverage and gap columns named short enough for any
GIS (see :func:`community_columns`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from circles.audit import AuditResult
from circles.errors import OutputError
from circles.report.shared import each

if TYPE_CHECKING:
    from circles.report.layer_process import PendingLayer

#: The layer file kinds: ``--format`` value → file suffix
LAYER_FORMATS = {"gpkg": ".gpkg", "parquet": ".parquet"}
LAYERS = ("residents", "communities", "facilities")
#: the service-area layers each ``--service-areas`` value writes
AREA_LAYERS = {
    "requirement": ("service_areas",),
    "per-facility": ("service_areas", "facility_areas"),
    "none": (),
}


def layer_names(layer_format: str = "gpkg", areas: str = "requirement") -> list[str]:
    """The file names of the GIS layers for ``layer_format`` (gpkg or parquet).

    ``areas`` is the ``--service-areas`` value: which service-area layers there are.
    """
    suffix = LAYER_FORMATS[layer_format]
    return [f"{layer}{suffix}" for layer in (*LAYERS, *AREA_LAYERS[areas])]


def areas_written(result: AuditResult) -> str:
    """The ``--service-areas`` value whose layers ``result`` carries."""
    geo = result.geo
    if geo is None or geo.service_areas is None:
        return "none"
    return "per-facility" if geo.facility_areas is not None else "requirement"


def community_columns(result: AuditResult) -> dict[str, tuple[str, str, str]]:
    """Short column name → (circle id, requirement id, what) of the communities layer.

    Circles are numbered in report order from 1 (``c1``, ``c2``…) and requirements within their
    circle from 1 (``c1r1``, ``c1r2``…); ``_cov`` is the population-weighted coverage ratio
    (0–1, empty for a community with nobody) and ``_gap`` is 1 where the requirement is a gap in
    the community (coverage below its target), 0 where it is not and empty where it cannot be
    told. The names stay within ten characters up to ``c99r99_cov``.
    """
    out: dict[str, tuple[str, str, str]] = {}
    for k, loaded in enumerate(result.circles, start=1):
        circle = loaded.circle
        out[f"c{k}_cov"] = (circle.id, "", "coverage_ratio")
        for j, requirement in enumerate(circle.requirements, start=1):
            out[f"c{k}r{j}_cov"] = (circle.id, requirement.id, "coverage_ratio")
            out[f"c{k}r{j}_gap"] = (circle.id, requirement.id, "is_gap")
    return out


def _gap_flag(value: object) -> float:
    """1.0 for a gap, 0.0 for none, NaN when unknown (None/NA)."""
    if value is True or value is np.True_:
        return 1.0
    if value is False or value is np.False_:
        return 0.0
    return float("nan")


def communities_frame(result: AuditResult) -> gpd.GeoDataFrame:
    """One row per community polygon: id, sub-district, residents, population, coverage, gaps.

    Without community polygons, one row per community of ``coverage.csv`` with no geometry.
    The values are those of ``coverage.csv`` (scope ``community``).
    """
    geo = result.geo
    cov = result.coverage
    rows = cov[cov["scope"] == "community"]
    polygons = geo.communities if geo is not None else None
    if polygons is not None:
        frame = gpd.GeoDataFrame(
            {"community_id": polygons["community_id"].astype(str).to_numpy(dtype=object)},
            geometry=polygons.geometry.to_numpy(dtype=object),
            crs=polygons.crs,
        )
    else:
        ids = [c for c in pd.unique(rows["community_id"]) if c != "unassigned"]
        crs = geo.crs if geo is not None else None
        frame = gpd.GeoDataFrame(
            {"community_id": np.array(ids, dtype=object)},
            geometry=np.full(len(ids), None, dtype=object),
            crs=crs,
        )
    ids = frame["community_id"]
    subdistricts = {
        str(c.get("community_id")): c.get("subdistrict")
        for c in result.summary.get("communities", [])
        if isinstance(c, dict) and c.get("subdistrict")
    }
    if subdistricts:  # the 街道 of each community, when the audit rolled coverage up to them
        frame["subdistrict"] = ids.map(subdistricts).to_numpy(dtype=object)
    first = result.circles[0].circle.id if result.circles else None
    whole = rows[(rows["circle_id"] == first) & (rows["requirement_id"] == "")]
    whole = whole.drop_duplicates("community_id").set_index("community_id")
    frame["residents"] = ids.map(whole["residents_total"]).fillna(0).astype("int64").to_numpy()
    frame["population"] = ids.map(whole["population_total"]).fillna(0.0).to_numpy(dtype=float)
    keyed = rows.drop_duplicates(["circle_id", "requirement_id", "community_id"]).set_index(
        ["circle_id", "requirement_id", "community_id"]
    )
    for name, (circle_id, requirement_id, what) in community_columns(result).items():
        index = pd.MultiIndex.from_arrays(
            [[circle_id] * len(ids), [requirement_id] * len(ids), ids.to_list()]
        )
        values = keyed[what].reindex(index).to_numpy(dtype=object)
        if what == "is_gap":
            frame[name] = np.array([_gap_flag(v) for v in values], dtype=float)
        else:
            frame[name] = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return frame


def _legend(result: AuditResult) -> str:
    """The communities layer's column names spelled out, for the layer description."""
    parts = []
    for name, (circle_id, requirement_id, _) in community_columns(result).items():
        if name.endswith("_cov"):
            key = name.removesuffix("_cov")
            parts.append(f"{key} = {circle_id}" + (f"/{requirement_id}" if requirement_id else ""))
    return (
        "coverage (_cov, 0-1) and gap flags (_gap, 1 = gap) per circle and requirement: "
        + "; ".join(parts)
    )


def write_layers(
    folder: Path,
    result: AuditResult,
    *,
    layer_format: str = "gpkg",
    crs_out: str = "EPSG:4326",
    ready: dict[str, PendingLayer] | None = None,
) -> list[str]:
    """Write the GIS layers into ``folder``; return their names.

    The residents, communities and facilities, and the service areas the audit traced
    (``service_areas``, and ``facility_areas`` when it traced them per facility). ``ready``
    holds GeoPackage layers already being written elsewhere (by name: see
    :mod:`circles.report.layer_process`), moved in instead.

    Raises
    ------
    OutputError
        When ``layer_format`` is unknown or ``crs_out`` is not a CRS.
    """
    if layer_format not in LAYER_FORMATS:
        raise OutputError(f"--format {layer_format!r}: use {' or '.join(LAYER_FORMATS)}")
    try:
        crs = CRS.from_user_input(crs_out)
    except CRSError as exc:
        raise OutputError(f"--crs-out {crs_out!r} is not a CRS; give e.g. EPSG:4326") from exc
    geo = result.geo
    if geo is None:
        raise OutputError("internal: the audit result carries no geometry for the GIS layers")
    ready = ready if layer_format == "gpkg" and ready else {}
    frames = {  # a layer being written elsewhere is not made here
        "residents": None if "residents" in ready else geo.residents,
        "communities": communities_frame(result),
        "facilities": geo.facilities,
    }
    if geo.service_areas is not None:
        frames["service_areas"] = geo.service_areas
    if geo.facility_areas is not None:
        frames["facility_areas"] = geo.facility_areas
    names = layer_names(layer_format, areas_written(result))
    for (layer, frame), name in zip(frames.items(), names, strict=True):
        if frame is None:
            ready[layer].move_to(folder / name)
            continue
        if layer.endswith("_areas") and frame.crs is not None:
            out = areas_to_crs(frame, crs)
        else:
            out = frame.to_crs(crs) if frame.crs is not None else frame.set_crs(crs)
        out = out.reset_index(drop=True)
        if layer_format == "parquet":
            out.to_parquet(folder / name, index=False)
        else:
            options = {"DESCRIPTION": _legend(result)} if layer == "communities" else {}
            write_frame(out, folder / name, layer, options)
    return names


def write_frame(
    frame: gpd.GeoDataFrame, path: Path, layer: str, options: dict[str, str] | None = None
) -> None:
    """One GeoPackage layer (through Arrow: twice as fast for a city's residents)."""
    with _unsynced_sqlite():
        frame.to_file(
            path,
            layer=layer,
            driver="GPKG",
            engine="pyogrio",
            use_arrow=True,
            layer_options=options or {},
        )


def areas_to_crs(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """``frame.to_crs(crs)``, each area projected once for the reports of a scenario.

    The planned audit keeps the status quo's areas of the requirements without a planned type
    (:mod:`circles.report.shared`).
    """
    source = frame.crs

    def project(geoms: np.ndarray) -> np.ndarray:
        return gpd.GeoSeries(geoms, crs=source).to_crs(crs).to_numpy()

    key = ("layer", CRS.from_user_input(source).to_wkt(), crs.to_wkt())
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(
        each(frame.geometry.to_numpy(), key, project), index=frame.index, crs=crs
    )
    return out


@contextlib.contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """GDAL writes GeoPackages without waiting for the disk at each commit, for the block.

    The layers are written to the report's staging folder, swapped in only when complete, so a
    crash mid-write loses nothing; a fifth of the time of 300,000 residents is saved.
    """
    import pyogrio

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})
