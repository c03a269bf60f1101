"""Reading input layers and writing output files: driver by suffix, atomic output folders."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.errors import InputDataError, OutputError

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb", ".parquet"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
LON_NAMES = ("lon", "lng", "long", "longitude", "经度")
LAT_NAMES = ("lat", "latitude", "纬度")
X_NAMES = ("x",)
Y_NAMES = ("y",)
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _read_csv_text(path: Path, role: str) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    last_error: Exception | None = None
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)
        except UnicodeDecodeError as exc:
            last_error = exc
        except pd.errors.EmptyDataError as exc:
            raise InputDataError(
                f"{role} file {path} is empty; give a CSV with a header row"
            ) from exc
        except (pd.errors.ParserError, OSError) as exc:
            raise InputDataError(f"cannot read {role} file {path}: {exc}") from exc
    raise InputDataError(
        f"cannot decode {role} file {path} as UTF-8 or GB18030 ({last_error}); save it as UTF-8"
    )


def read_points_csv(path: Path, role: str, *, crs: str | None) -> gpd.GeoDataFrame:
    """Read a CSV of points with lon/lat (WGS 84) or x/y (in ``crs``) columns.

    Rows whose coordinates are missing or not numbers keep their row with an empty geometry.
    """
    frame = _read_csv_text(path, role)
    columns = [str(c) for c in frame.columns]
    lon, lat = _find_column(columns, LON_NAMES), _find_column(columns, LAT_NAMES)
    x, y = _find_column(columns, X_NAMES), _find_column(columns, Y_NAMES)
    if lon is not None and lat is not None:
        xcol, ycol, layer_crs = lon, lat, "EPSG:4326"
    elif x is not None and y is not None:
        if crs is None:
            raise InputDataError(
                f"{role} file {path} has x/y columns but no CRS; pass --crs naming the CRS of x/y "
                "(e.g. --crs EPSG:32650), or give lon/lat columns in WGS 84"
            )
        xcol, ycol, layer_crs = x, y, crs
    else:
        raise InputDataError(
            f"{role} file {path} has no coordinate columns; expected lon/lat (or lng/lat, "
            f"经度/纬度) or x/y; found: {', '.join(columns)}"
        )
    xs = pd.to_numeric(frame[xcol].str.strip(), errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[ycol].str.strip(), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[ok] = shapely.points(xs[ok], ys[ok])
    data = frame.drop(columns=[xcol, ycol])
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=layer_crs), crs=layer_crs)


def read_layer(path: Path, role: str, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer or a CSV of points, with a CRS, rows in file order.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile (or another OGR format) or CSV.
    role
        What the layer is for (``residents``, ``facilities``...), used in messages.
    crs
        CRS to assume when the layer carries none (and of CSV x/y columns).

    Raises
    ------
    InputDataError
        When the file is missing, unreadable, or has no CRS and none was given.
    """
    if not path.exists():
        raise InputDataError(f"{role} file {path} does not exist; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise InputDataError(f"{role} path {path} is a folder; give the file itself")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_points_csv(path, role, crs=crs)
    try:
        layer = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputDataError(
            f"cannot read {role} file {path} ({first}); give a GeoPackage, GeoJSON, Shapefile "
            "or CSV"
        ) from exc
    if layer.crs is None:
        if crs is None:
            raise InputDataError(
                f"{role} file {path} has no CRS; pass --crs with the CRS its coordinates are in "
                "(e.g. --crs EPSG:4326)"
            )
        layer = layer.set_crs(crs)
    return layer


# --------------------------------------------------------------------------- output


@contextmanager
def staged_output(out: Path, names: list[str], *, overwrite: bool) -> Iterator[Path]:
    """Give a staging folder; on success move the named files into ``out``, else leave nothing.

    Refuses to start when any of ``names`` already exists in ``out`` and ``overwrite`` is false,
    so a run never clobbers an earlier report by accident and a failure never leaves a half report.
    """
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise OutputError(
            f"output folder {out} already holds {', '.join(existing)}; pass --overwrite to replace "
            "them or choose another --out"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder; choose another --out")
    parent = out.parent if out.parent != Path("") else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(
            f"cannot write to {parent} ({exc.strerror}); choose another --out"
        ) from exc
    try:
        yield stage
        missing = [n for n in names if not (stage / n).exists()]
        if missing:
            raise OutputError(f"internal: report files not written: {', '.join(missing)}")
        if not out.exists():
            os.replace(stage, out)
            return
        for name in names:
            os.replace(stage / name, out / name)
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {out} ({exc}); choose another --out"
        ) from exc
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
