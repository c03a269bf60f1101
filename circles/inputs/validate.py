"""Input validation: turn raw layers into residents, facilities and communities with ids.

Every input row is kept. Rows that cannot be used get a status instead of being dropped; values
that make the audit meaningless (a misspelt column, a negative population, duplicate ids) stop
the run with a message naming the file, the column, the value and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.errors import InputDataError
from circles.inputs.tables import text_to_float

UNASSIGNED = "unassigned"
STATUS_OK = "ok"
STATUS_NO_GEOMETRY = "no_geometry"
STATUS_OFF_NETWORK = "off_network"


def _column(layer: gpd.GeoDataFrame, name: str, path: Path, role: str, option: str) -> str:
    """Find ``name`` among the layer's columns (exact, then case-insensitive) or explain."""
    columns = [str(c) for c in layer.columns if c != layer.geometry.name]
    if name in columns:
        return name
    folded = {c.lower(): c for c in columns}
    if name.lower() in folded:
        return folded[name.lower()]
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputDataError(
        f"column {name!r} not found in {role} file {path.name}; {hint}available: "
        f"{', '.join(columns) or '(none)'}; pass {option}"
    )


def _ids(
    layer: gpd.GeoDataFrame, field: str | None, path: Path, role: str, option: str
) -> pd.Series:
    """Ids from ``field`` (must be unique and non-empty) or 1-based row numbers when absent."""
    columns = [str(c) for c in layer.columns]
    if field is None or (field == "id" and "id" not in columns):
        return pd.Series([str(i + 1) for i in range(len(layer))], index=layer.index, dtype=object)
    col = _column(layer, field, path, role, option)
    values = layer[col].astype("string").str.strip()
    empty = values.isna() | (values == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        count = int(empty.sum())
        raise InputDataError(
            f"{role} file {path.name}: column {col!r} is empty in {count} "
            f"row{'s' if count != 1 else ''} (first: row {row}); fill in the ids or pass "
            f"{option} naming another column"
        )
    dup = values.iloc[:0] if values.is_unique else values[values.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        rows = [int(r) + 1 for r in np.flatnonzero((values == first).to_numpy())]
        others = dup.nunique() - 1
        more = f"; {others} more ids repeat too" if others else ""
        raise InputDataError(
            f"{role} file {path.name}: column {col!r} repeats the id {first!r} (rows "
            f"{', '.join(map(str, rows[:5]))}){more}; make the ids unique or pass {option} "
            "naming another column"
        )
    return values.astype(object)


def representative_points(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, int]:
    """Points standing for each geometry (polygons and lines at a point on them).

    Returns
    -------
    points, valid, repaired
        Point geometries (None where the input is missing or empty), a boolean mask of rows with
        a point, and how many invalid geometries were repaired with ``make_valid`` first.
    """
    arr = geoms.to_numpy(dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    out = np.full(len(arr), None, dtype=object)
    repaired = 0
    if present.any():
        g = arr[present]
        invalid = ~shapely.is_valid(g)
        if invalid.any():
            g = g.copy()
            g[invalid] = shapely.make_valid(g[invalid])
            repaired = int(invalid.sum())
        kinds = shapely.get_type_id(g)
        pts = np.where(kinds == 0, g, np.array(None, dtype=object))
        other = kinds != 0
        if other.any():
            pts[other] = shapely.point_on_surface(g[other])
        out[present] = pts
    valid = ~(shapely.is_missing(out) | shapely.is_empty(out))
    out[~valid] = None
    return out, valid, repaired


def _numbers(
    raw: pd.Series, path: Path, col: str, ids: pd.Series, what: str
) -> tuple[pd.Series, pd.Series]:
    """Numbers of a column (NaN where blank); a non-number or a negative value is an error."""
    text = raw.astype("string").str.strip()
    blank = (text.isna() | (text == "")).fillna(value=True)
    number = pd.Series(text_to_float(raw), index=raw.index)
    bad = ~blank & ~np.isfinite(number)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError(
            f"residents file {path.name}: column {col!r} holds {text.iloc[row]!r} at row "
            f"{row + 1} (resident {ids.iloc[row]}), not a number; fix the value"
        )
    negative = (number < 0).fillna(value=False)
    if negative.any():
        row = int(np.flatnonzero(negative.to_numpy())[0])
        raise InputDataError(
            f"residents file {path.name}: column {col!r} is negative ({number.iloc[row]:g}) "
            f"at row {row + 1} (resident {ids.iloc[row]}); {what} must be >= 0"
        )
    return number, blank


def _households(
    layer: gpd.GeoDataFrame, path: Path, ids: pd.Series, field: str | None, per: float
) -> np.ndarray | None:
    """Households × persons per household (NaN where blank), or None without such a column."""
    columns = [str(c) for c in layer.columns]
    if field is None:
        field = next(
            (c for c in ("households", "户数", "household", "总户数") if c in columns), None
        )
        if field is None:
            return None
    else:
        field = _column(layer, field, path, "residents", "--households-field")
    if not per > 0:
        raise InputDataError(f"--persons-per-household {per:g} must be > 0")
    number, _ = _numbers(layer[field], path, field, ids, "households")
    return number.to_numpy(dtype=float) * per


def residents_table(
    layer: gpd.GeoDataFrame,
    path: Path,
    *,
    id_field: str | None,
    population_field: str,
    warnings: list[str],
    households_field: str | None = None,
    persons_per_household: float = 2.62,
) -> gpd.GeoDataFrame:
    """Residents as points with ``resident_id``, ``population`` and ``status``, in input order.

    Population comes from ``population_field``; where it is absent or blank, from households
    (``households_field``, or a ``households``/``户数`` column) × ``persons_per_household``;
    failing both, each resident weighs 1, with a warning.

    Raises
    ------
    InputDataError
        On an empty layer, duplicate ids, or non-numeric or negative population.
    """
    if len(layer) == 0:
        raise InputDataError(f"residents file {path.name} has no rows; give at least one resident")
    ids = _ids(layer, id_field, path, "residents", "--resident-id-field")
    columns = [str(c) for c in layer.columns]
    households = _households(layer, path, ids, households_field, persons_per_household)
    has_pop = population_field in columns or population_field.lower() in {
        c.lower() for c in columns
    }
    if not has_pop:
        if population_field != "population":
            _column(layer, population_field, path, "residents", "--population-field")
        if households is not None:
            population = np.where(np.isnan(households), 1.0, households)
            warnings.append(
                f"residents file {path.name}: population = households × "
                f"{persons_per_household:g} persons per household (--persons-per-household)"
            )
        else:
            population = np.ones(len(layer))
            warnings.append(
                f"residents file {path.name} has no {population_field!r} or households column; "
                "every resident weighs 1 (coverage is a share of residents, not of people); "
                "pass --population-field or --households-field"
            )
    else:
        col = _column(layer, population_field, path, "residents", "--population-field")
        number, blank = _numbers(layer[col], path, col, ids, "population")
        if households is not None:
            number = number.where(~blank, pd.Series(households, index=number.index))
            blank = blank & np.isnan(households)
        population = number.fillna(1.0).to_numpy(dtype=float)
        if blank.any():
            warnings.append(
                f"residents file {path.name}: {int(blank.sum())} rows have no {col!r} value "
                f"(first: resident {ids[blank].iloc[0]}); each weighs 1"
            )
    points, valid, repaired = representative_points(layer.geometry)
    if not valid.any():
        raise InputDataError(
            f"residents file {path.name}: none of its {len(layer)} rows has a geometry; give "
            "points or polygons (a CSV needs lon/lat or x/y columns)"
        )
    if repaired:
        warnings.append(
            f"residents file {path.name}: repaired {repaired} invalid geometries before taking "
            "their representative points"
        )
    if not valid.all():
        warnings.append(
            f"residents file {path.name}: {int((~valid).sum())} residents have no geometry; "
            f"kept with status {STATUS_NO_GEOMETRY} and counted as not covered"
        )
    status = np.where(valid, STATUS_OK, STATUS_NO_GEOMETRY).astype(object)
    return gpd.GeoDataFrame(
        {
            "resident_id": ids.to_numpy(dtype=object),
            "population": population,
            "status": status,
            "_row": np.arange(len(layer)),
        },
        geometry=gpd.GeoSeries(points, crs=layer.crs),
        crs=layer.crs,
    )


def facilities_table(
    layer: gpd.GeoDataFrame,
    path: Path,
    *,
    id_field: str | None,
    type_field: str,
    warnings: list[str],
    name_field: str | None = "name",
    keep: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Facilities as points with ``facility_id``, ``facility_type``, ``facility_name``, ``status``.

    The name (from ``name_field`` when the column exists) matches hubs to hub-table rows.
    ``keep`` names input columns carried over as they are (capacity columns the rules use),
    when the layer has them.

    Raises
    ------
    InputDataError
        When the type column is missing or ids are not unique.
    """
    if len(layer) == 0:
        raise InputDataError(f"facilities file {path.name} has no rows; give at least one facility")
    ids = _ids(layer, id_field, path, "facilities", "--facility-id-field")
    col = _column(layer, type_field, path, "facilities", "--facility-type-field")
    types = layer[col].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    points, valid, repaired = representative_points(layer.geometry)
    if repaired:
        warnings.append(f"facilities file {path.name}: repaired {repaired} invalid geometries")
    untyped = types == ""
    if untyped.any() and not col.startswith("__"):  # classified POIs: the audit lists them
        warnings.append(
            f"facilities file {path.name}: {int(untyped.sum())} facilities have no {col!r} "
            "value and are not used"
        )
    if not valid.all():
        warnings.append(
            f"facilities file {path.name}: {int((~valid).sum())} facilities have no geometry "
            "and are not used"
        )
    status = np.where(valid, STATUS_OK, STATUS_NO_GEOMETRY).astype(object)
    names = np.full(len(layer), "", dtype=object)
    if name_field is not None and name_field in [str(c) for c in layer.columns]:
        names = layer[name_field].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    kept = {
        column: layer[column].to_numpy(dtype=object)
        for column in dict.fromkeys(keep)
        if column in [str(c) for c in layer.columns]
        and column not in ("facility_id", "facility_type", "facility_name", "status")
    }
    return gpd.GeoDataFrame(
        {
            "facility_id": ids.to_numpy(dtype=object),
            "facility_type": types,
            "facility_name": names,
            "status": status,
            **kept,
        },
        geometry=gpd.GeoSeries(points, crs=layer.crs),
        crs=layer.crs,
    )


def communities_table(
    layer: gpd.GeoDataFrame, path: Path, *, field: str, warnings: list[str]
) -> gpd.GeoDataFrame:
    """Community polygons with a unique ``community_id``; invalid polygons repaired.

    Raises
    ------
    InputDataError
        On a missing id column, duplicate or empty ids, or no polygons at all.
    """
    col = _column(layer, field, path, "communities", "--community-field")
    ids = _ids(layer, col, path, "communities", "--community-field")
    if (ids == UNASSIGNED).any():
        raise InputDataError(
            f"communities file {path.name}: a community is named {UNASSIGNED!r}, which circles "
            "uses for residents in no community; rename it"
        )
    geoms = layer.geometry.to_numpy(dtype=object)
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [3, 6])
    if not polygonal.any():
        raise InputDataError(
            f"communities file {path.name} holds no polygons; give community boundaries as "
            "polygons, or put a community column on the residents instead"
        )
    if not polygonal.all():
        warnings.append(
            f"communities file {path.name}: {int((~polygonal).sum())} rows are not polygons and "
            "cannot hold residents"
        )
    invalid = polygonal & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        warnings.append(
            f"communities file {path.name}: repaired {int(invalid.sum())} invalid polygons"
        )
    geoms = np.where(polygonal, geoms, None)
    return gpd.GeoDataFrame(
        {"community_id": ids.to_numpy(dtype=object)},
        geometry=gpd.GeoSeries(geoms, crs=layer.crs),
        crs=layer.crs,
    )


def assign_communities(
    pts: np.ndarray, communities: gpd.GeoDataFrame, warnings: list[str]
) -> np.ndarray:
    """Community id of every resident point (the first polygon holding it, else unassigned).

    ``pts`` are shapely Points in the communities' CRS (None or empty: no geometry).
    """
    out = np.full(len(pts), UNASSIGNED, dtype=object)
    has = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    tree = shapely.STRtree(communities.geometry.to_numpy(dtype=object))
    res_idx, poly_idx = tree.query(pts[has], predicate="intersects")
    if len(res_idx):
        pairs = pd.DataFrame({"r": res_idx, "p": poly_idx}).sort_values(["r", "p"])
        counts = pairs.groupby("r").size()
        first = pairs.drop_duplicates("r")
        rows = np.flatnonzero(has)[first["r"].to_numpy()]
        out[rows] = communities["community_id"].to_numpy(dtype=object)[first["p"].to_numpy()]
        multi = int((counts > 1).sum())
        if multi:
            warnings.append(
                f"{multi} residents lie in more than one community (overlapping polygons or on a "
                "shared edge); each was assigned to the first in the communities file"
            )
    return out
