"""Reading input layers and writing output files: driver by suffix, atomic output folders."""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import os
import shutil
import tempfile
import time
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
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
OSM_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
#: Files that hold several layers (GeoPackage) or sheets (Excel): ``path.gpkg:layer``
MULTI_LAYER_SUFFIXES = {".gpkg", *EXCEL_SUFFIXES}
LON_NAMES = (
    *("lon", "lng", "long", "longitude", "经度", "wgs84_lng", "wgs84_lon", "wgs_lng"),
    *("gcj02_lng", "gcj02_lon", "gcj_lng", "bd09_lng", "bd09_lon", "bd_lng", "x_lng"),
)
LAT_NAMES = (
    *("lat", "latitude", "纬度", "wgs84_lat", "wgs_lat", "gcj02_lat", "gcj_lat", "bd09_lat"),
    *("bd_lat", "y_lat"),
)
LOCATION_NAMES = ("location", "坐标", "经纬度", "lnglat", "lng_lat")
X_NAMES = ("x",)
Y_NAMES = ("y",)


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex (computed once per file version in a process).

    An audit asks for the network's hash several times (the cache key of each network built
    from it, and the summary); a city extract can be hundreds of megabytes.
    """
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def detect_encoding(raw: bytes) -> str:
    """The text encoding of ``raw``: UTF-8 (with or without BOM) when it decodes, else a guess.

    Chinese exports are UTF-8, UTF-8 with BOM, or GBK/GB18030; charset-normalizer decides
    between the legacy encodings, and GB18030 (a superset of GBK) is the fallback.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = raw[:200_000]
    if _reads_as_simplified_chinese(sample):
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "big5", "utf_16"]).best()
    name = (best.encoding if best is not None else "gb18030").lower()
    return "gb18030" if name in {"gbk", "gb2312", "gb18030"} else name


def _reads_as_simplified_chinese(sample: bytes) -> bool:
    """Whether ``sample`` decodes as GB18030 into common simplified Chinese (GB 2312) text.

    Mainland exports (Amap, Baidu, institutes' shapefiles) that are not UTF-8 are GBK. A short
    GBK text can look like Big5 to a statistical detector; GBK bytes read as GB18030 give
    characters of the common GB 2312 set, Big5 bytes mostly rarer ones.
    """
    text = sample.decode("gb18030", errors="ignore")
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return True
    common = sum(1 for ch in wide if _in_gb2312(ch))
    return common >= 0.9 * len(wide)


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _read_csv_text(path: Path, role: str) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputDataError(f"cannot read {role} file {path} ({exc.strerror})") from exc
    encoding = detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputDataError(
            f"cannot decode {role} file {path} as UTF-8 or GB18030; save it as UTF-8"
        ) from exc
    # Arrow reads UTF-8 bytes: the file's own when it is UTF-8 (without its BOM)
    utf8 = raw[3:] if encoding == "utf-8-sig" else raw if encoding == "utf-8" else None
    fast = _arrow_csv(text, text.encode("utf-8") if utf8 is None else utf8, sep)
    if fast is not None:
        return fast
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise InputDataError(f"{role} file {path} is empty; give a CSV with a header row") from exc
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputDataError(
            f"cannot read {role} file {path} ({first}); check it is a CSV"
        ) from exc


def _arrow_csv(text: str, utf8: bytes, sep: str) -> pd.DataFrame | None:
    """Every column as text, read by Arrow's parallel CSV reader, as pandas would read it.

    ``text`` is the file's text and ``utf8`` the same as UTF-8 bytes.

    None when the file needs pandas' reader: no plain header (blank or repeated names), or rows
    Arrow refuses (ragged rows, say); pandas then reads it, or says what is wrong.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).rstrip("\r")
    header = next(csv.reader([first_line], delimiter=sep), [])
    if not header or "" in header or len(set(header)) != len(header):
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.to_pandas()


def text_to_float(values: pd.Series) -> np.ndarray:
    """Numbers written as text (spaces around them allowed); NaN for blanks and non-numbers."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # Arrow's parser: fast, and exact like pandas'; it refuses blanks and non-numbers
        text = pc.utf8_trim_whitespace(pa.array(values, type=pa.string(), from_pandas=True))
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        text = values.astype("string").str.strip()
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _split_location(frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """A single "lng,lat" column (as Amap exports it) split into two text columns."""
    parts = frame[column].astype(str).str.replace("，", ",").str.split(",", n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = ""
    return parts[0].fillna(""), parts[1].fillna("")


def read_points_csv(path: Path, role: str, *, crs: str | None) -> gpd.GeoDataFrame:
    """Read a CSV of points with lon/lat (WGS 84) or x/y (in ``crs``) columns.

    Rows whose coordinates are missing or not numbers keep their row with an empty geometry.
    """
    return points_from_table(_read_csv_text(path, role), path, role, crs=crs)


def points_from_table(
    frame: pd.DataFrame, path: Path, role: str, *, crs: str | None
) -> gpd.GeoDataFrame:
    """Points of a table (CSV, Excel sheet, plain Parquet) from its coordinate columns.

    The columns are found as in a CSV: lon/lat (or lng/lat, 经度/纬度, an Amap ``location`` of
    "lng,lat") in WGS 84, or x/y in ``crs``. Rows whose coordinates are missing or not numbers
    keep their row with an empty geometry.
    """
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    columns = list(frame.columns)
    lon, lat = _find_column(columns, LON_NAMES), _find_column(columns, LAT_NAMES)
    x, y = _find_column(columns, X_NAMES), _find_column(columns, Y_NAMES)
    location = _find_column(columns, LOCATION_NAMES)
    used = (lon, lat)
    if (lon is None or lat is None) and location is not None:
        used = (location, location)
        frame["__lon"], frame["__lat"] = _split_location(frame, location)
        lon, lat = "__lon", "__lat"
        frame = frame.drop(columns=[location])
    if lon is not None and lat is not None:
        xcol, ycol, layer_crs = lon, lat, "EPSG:4326"
    elif x is not None and y is not None:
        if crs is None:
            raise InputDataError(
                f"{role} file {path} has x/y columns but no CRS; pass --crs naming the CRS of x/y "
                "(e.g. --crs EPSG:32650), or give lon/lat columns in WGS 84"
            )
        xcol, ycol, layer_crs = x, y, crs
        xs, ys = text_to_float(frame[x]), text_to_float(frame[y])
        if np.isfinite(xs).any() and np.isfinite(ys).any():
            bounds = np.array([np.nanmin(xs), np.nanmin(ys), np.nanmax(xs), np.nanmax(ys)])
            _refuse_degrees_as_metres(bounds, path, role, crs)
    else:
        raise InputDataError(
            f"{role} file {path} has no coordinate columns; expected lon/lat (or lng/lat, "
            f"经度/纬度, a 'location' column of \"lng,lat\") or x/y; found: {', '.join(columns)}"
        )
    xs, ys = text_to_float(frame[xcol]), text_to_float(frame[ycol])
    ok = np.isfinite(xs) & np.isfinite(ys)
    if layer_crs == "EPSG:4326" and ok.any():
        _check_lonlat(xs[ok], ys[ok], xcol, ycol, path, role)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[ok] = shapely.points(xs[ok], ys[ok])
    data = frame.drop(columns=[xcol, ycol])
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=layer_crs), crs=layer_crs)
    if (
        layer_crs == "EPSG:4326"
    ):  # which columns, for inferring GCJ-02/BD-09 (circles.inputs.coordsys)
        out.attrs["coordinate_columns"] = used
    return out


def _gdal_reason(message: str, path: Path) -> str:
    """GDAL's first sentence without the path it repeats or its driver-prefix advice."""
    first = message.splitlines()[0] if message else ""
    first = first.split("; It might help", 1)[0].split(". It might help", 1)[0]
    for quoted in (f"'{path}' ", f"{path}: ", f"'{path}'", str(path)):
        first = first.replace(quoted, "")
    return first.strip(" .;:")


def _check_lonlat(
    lon: np.ndarray, lat: np.ndarray, lon_col: str, lat_col: str, path: Path, role: str
) -> None:
    """Refuse coordinates that cannot be lon/lat, and say when the columns look swapped."""
    name = lambda c: "location" if c.startswith("__") else c  # noqa: E731
    swapped = (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    if swapped.mean() > 0.5:
        raise InputDataError(
            f"{role} file {path}: columns {name(lon_col)!r} and {name(lat_col)!r} look swapped "
            f"({name(lat_col)!r} holds {lat[swapped][0]:g}, beyond ±90); swap them"
        )
    bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise InputDataError(
            f"{role} file {path}: {int(bad.sum())} rows are not longitude/latitude (e.g. "
            f"{lon[bad][0]:g}, {lat[bad][0]:g}); for projected x/y name the columns x and y and "
            "pass --crs"
        )


def _shapefile_encoding(path: Path) -> str | None:
    """Encoding of a shapefile's attributes when no .cpg says it: UTF-8 if it decodes, else GBK.

    Chinese shapefiles without a .cpg are usually GBK; read as Latin-1 (GDAL's fallback) their
    names would come out garbled.
    """
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next(
        (path.with_suffix(s) for s in (".dbf", ".DBF") if path.with_suffix(s).exists()), None
    )
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    body = raw[header:]
    if body.isascii():
        return None
    enc = detect_encoding(body)
    return "UTF-8" if enc.startswith("utf-8") else "GB18030"


def _layer_names(path: Path) -> list[str]:
    try:
        import pyogrio

        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable files are reported by the read itself
        return []


def split_layer(path: Path) -> tuple[Path, str | None]:
    r"""A ``path.gpkg:layer`` (or ``path.xlsx:sheet``) value as the file and the layer name.

    A path that exists as given is a file, even when its name holds a ``:``; a Windows drive
    letter (``C:\data\x.gpkg``) is not a layer separator. Only files that hold several
    layers (GeoPackage, Excel) take one.
    """
    if path.exists():
        return path, None
    text = str(path)
    # the first ':' after a GeoPackage or workbook name (a layer name may hold ':' itself);
    # a ':' at index 1 is a Windows drive letter
    for at in (i for i, ch in enumerate(text) if ch == ":" and i > 1):
        head, tail = text[:at], text[at + 1 :]
        if Path(head).suffix.lower() in MULTI_LAYER_SUFFIXES:
            if tail and not any(c in tail for c in "/\\"):
                return Path(head), tail
            break
    return path, None


def is_osm_xml(path: Path) -> bool:
    """Whether ``path`` names an OSM XML file (``.osm``, ``.osm.bz2``...), not a PBF extract."""
    return path.name.lower().endswith(OSM_XML_SUFFIXES)


def refuse_osm_xml(path: Path, role: str = "network") -> None:
    """Refuse an OSM XML file with the command that converts it to the PBF circles reads."""
    if is_osm_xml(path):
        stem = path.name[: path.name.lower().rindex(".osm")]
        raise InputDataError(
            f"{role} file {path} is OSM XML, which circles does not read; convert it to PBF "
            f"(osmium cat {path.name} -o {stem}.osm.pbf) and pass the .osm.pbf"
        )


def _read_excel(path: Path, sheet: str | None, role: str, crs: str | None) -> gpd.GeoDataFrame:
    """The points of an Excel sheet (the first, or ``sheet``) from its coordinate columns."""
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise several unrelated types
        raise InputDataError(
            f"cannot read {role} file {path} ({type(exc).__name__}: {exc}); save it as .xlsx "
            "from Excel, or as CSV"
        ) from exc
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is not None and sheet not in names:
            raise InputDataError(
                f"{role} file {path} has no sheet {sheet!r}; its sheets: {', '.join(names)}; "
                f"give {path.name}:SHEET"
            )
        frame = pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, dtype=str)
    frame = frame.dropna(how="all").fillna("")  # Excel's trailing empty rows
    return points_from_table(frame, path, role, crs=crs)


def _read_parquet(path: Path, role: str, crs: str | None) -> gpd.GeoDataFrame:
    """A GeoParquet layer, or the points of a plain Parquet table's coordinate columns."""
    import pyarrow as pa

    try:
        return gpd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
        if not isinstance(exc, pa.ArrowException) and "geo metadata" in str(exc):
            pass  # a plain Parquet table: read below
        else:
            first = str(exc).splitlines()[0].replace(f" '{path}'", "").replace(str(path), "")
            raise InputDataError(
                f"cannot read {role} file {path} ({first.strip()}); give a GeoParquet or a "
                "Parquet table with lon/lat or x/y columns"
            ) from exc
    return points_from_table(pd.read_parquet(path), path, role, crs=crs)


def read_layer(
    path: Path, role: str, *, crs: str | None = None, warnings: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Read a vector layer or a table of points, with a CRS, rows in file order.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, GeoParquet (or another OGR format), or a table of
        points: CSV, Excel (``.xlsx``) or plain Parquet. ``file.gpkg:layer`` and
        ``file.xlsx:sheet`` choose a layer or sheet (else the first, with a warning when there
        are several). For facilities also an ``.osm.pbf`` or ``.osm`` extract, read as the
        POIs carrying a catalogue OSM tag.
    role
        What the layer is for (``residents``, ``facilities``...), used in messages.
    crs
        CRS to assume when the layer carries none (and of x/y columns).
    warnings
        Where to say which layer of a several-layer file was read.

    Raises
    ------
    InputDataError
        When the file is missing, unreadable, or has no CRS and none was given.
    """
    path, layer_name = split_layer(path)
    if not path.exists():
        raise InputDataError(f"{role} file {path} does not exist; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise InputDataError(f"{role} path {path} is a folder; give the file itself")
    suffix = path.suffix.lower()
    if suffix in (".pbf", ".osm") and role in ("facilities", "planned"):
        from circles.inputs.osm_pois import read_osm_pois  # POIs by the catalogue's OSM tags

        return read_osm_pois(path, role)
    refuse_osm_xml(path, role)
    if suffix in CSV_SUFFIXES:
        return read_points_csv(path, role, crs=crs)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, layer_name, role, crs)
    if suffix == ".xls":
        raise InputDataError(
            f"{role} file {path} is an old Excel .xls workbook; save it as .xlsx (or CSV)"
        )
    options: dict = {}
    if suffix == ".gpkg":
        options.update(_gpkg_layer(path, layer_name, role, warnings))
    if suffix == ".parquet":
        layer = _read_parquet(path, role, crs)
    else:
        if suffix == ".shp":
            encoding = _shapefile_encoding(path)
            if encoding:
                options["encoding"] = encoding
        try:
            layer = gpd.read_file(path, engine="pyogrio", **options)
        except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
            first = _gdal_reason(str(exc), path) or type(exc).__name__
            raise InputDataError(
                f"cannot read {role} file {path} ({first}); give a GeoPackage, GeoJSON, "
                "Shapefile or CSV"
            ) from exc
    if layer.crs is None:
        if crs is None:
            raise InputDataError(
                f"{role} file {path} has no CRS; pass --crs with the projected CRS its "
                f"coordinates are in (e.g. --crs EPSG:32650), or --coords {role}=wgs84 (or "
                "gcj02, bd09) when they are longitude/latitude"
            )
        _refuse_degrees_as_metres(layer.total_bounds, path, role, crs)
        layer = layer.set_crs(crs)
    return layer


def _gpkg_layer(
    path: Path, name: str | None, role: str, warnings: list[str] | None
) -> dict[str, str]:
    """The ``layer=`` option reading a GeoPackage: the one asked for, else the first."""
    layers = _layer_names(path)
    if name is not None:
        if layers and name not in layers:
            raise InputDataError(
                f"{role} file {path} has no layer {name!r}; its layers: {', '.join(layers)}; "
                f"give {path.name}:LAYER"
            )
        return {"layer": name}
    if len(layers) > 1:
        if warnings is not None:
            others = ", ".join(repr(n) for n in layers[1:6]) + (", ..." if len(layers) > 6 else "")
            warnings.append(
                f"{role} file {path.name} holds {len(layers)} layers; read the first, "
                f"{layers[0]!r} (others: {others}); choose one with {path.name}:LAYER"
            )
        return {"layer": layers[0]}
    return {}


def _refuse_degrees_as_metres(bounds: np.ndarray, path: Path, role: str, crs: str) -> None:
    """Refuse a layer without a CRS whose coordinates are plainly degrees, assumed in metres.

    Read as metres of a projected ``crs``, longitude/latitude put the layer within 180 m of
    the CRS's origin, far from any city: zones would hold nobody and points lie off the
    network, silently.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        projected = CRS.from_user_input(crs).is_projected
    except CRSError:  # an unknown --crs is reported where it is checked
        return
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    if not projected or not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return
    if max(abs(xmin), abs(xmax)) <= 180 and max(abs(ymin), abs(ymax)) <= 90:
        raise InputDataError(
            f"{role} file {path} has no CRS and its coordinates look like longitude/latitude "
            f"(x {xmin:g} to {xmax:g}, y {ymin:g} to {ymax:g}), not metres of {crs}; pass "
            f"--coords {role}=wgs84 (or gcj02, bd09), or give the file its CRS (a .prj)"
        )


# --------------------------------------------------------------------------- output


def check_out_folder(out: Path, inputs: list[Path | str | None]) -> None:
    """Refuse an output folder that is, or holds, the folder of an input file.

    A report folder is replaced as a whole (``--overwrite``), so it must never hold the data
    it was computed from.

    Raises
    ------
    OutputError
        When ``out`` is an input's folder or one of its parents.
    """
    target = Path(out).resolve()
    for given in inputs:
        if given is None:
            continue
        path = split_layer(Path(given))[0]
        if not path.exists():
            continue
        folder = (path if path.is_dir() else path.parent).resolve()
        if folder == target or folder.is_relative_to(target):
            raise OutputError(
                f"--out {out} holds the input {given}; a report folder is replaced as a whole, "
                "so give a folder of its own (e.g. --out circles-report)"
            )


#: Files a file browser leaves in any folder; they do not make a report folder someone else's
_SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _stage_prefix(out: Path) -> str:
    return f".{out.name}."


def _remove_stale_stages(parent: Path, out: Path) -> None:
    """Remove staging folders of ``out`` left by runs that were killed (their process is gone)."""
    prefix = _stage_prefix(out)
    for stale in parent.glob(f"{glob_escape(prefix)}*.tmp"):
        pid_text = stale.name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit():  # named by an older circles: remove once an hour old
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 3600:
                    shutil.rmtree(stale, ignore_errors=True)
            continue
        if int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except OSError:  # alive, under another user
            continue


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename (Linux ``renameat2``); False where unsupported."""
    import ctypes
    import errno
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    path_arg = ctypes.c_char_p
    renameat2.argtypes = [ctypes.c_int, path_arg, ctypes.c_int, path_arg, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(stage: Path, out: Path) -> None:
    """Put the folder ``stage`` at ``out``, replacing the folder there as a whole.

    Where the system allows it the two are exchanged in one rename, so that ``out`` always holds
    either the old report or the new one; elsewhere the old folder is moved aside first.
    The old report ends up at ``stage``, removed by the caller.
    """
    if not out.exists():
        os.replace(stage, out)
        return
    if _exchange(stage, out):
        return
    aside = stage.with_name(stage.name.removesuffix(".tmp") + ".old.tmp")
    os.replace(out, aside)
    os.replace(stage, out)
    os.replace(aside, stage)


@contextmanager
def staged_output(
    out: Path,
    names: list[str],
    *,
    overwrite: bool,
    whole: bool = False,
    known: set[str] | None = None,
) -> Iterator[Path]:
    """Give a staging folder; on success move the named files into ``out``, else leave nothing.

    Refuses to start when any of ``names`` already exists in ``out`` and ``overwrite`` is false,
    so a run never clobbers an earlier report by accident and a failure never leaves a half report.

    With ``whole``, ``out`` is a report folder replaced as a whole: the new folder takes the old
    one's place in one rename (no stale ``maps/`` or ``planned/`` of an earlier run is left),
    and a folder holding anything but ``known`` names (the files of any report) is refused.
    Staging folders left by killed runs are removed.
    """
    locks = [
        lock for n in names for lock in (out / f"~${n}", out / f".~lock.{n}#") if lock.exists()
    ]
    if locks:
        name = locks[0].name.removeprefix("~$").removeprefix(".~lock.").removesuffix("#")
        raise OutputError(
            f"{out / name} is open in another program (lock file {locks[0].name}); close it and "
            "run again, or choose another --out"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder; choose another --out")
    known = set(names) | (known or set()) | _SYSTEM_FILES
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    existing = [n for n in names if n in present]
    if whole:  # files of an earlier report with other parts (maps/, planned/)
        existing += [n for n in present if n in known and n not in names]
    if existing and not overwrite:
        raise OutputError(
            f"output folder {out} already holds {', '.join(existing)}; pass --overwrite to replace "
            "them or choose another --out"
        )
    foreign = [n for n in present if n not in known]
    if whole and foreign:
        listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputError(
            f"output folder {out} holds files that are not part of a circles report ({listed}); "
            "the report folder is replaced as a whole: choose a new or empty --out"
        )
    parent = out.parent if out.parent != Path("") else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_stages(parent, out)
        stage = Path(
            tempfile.mkdtemp(
                prefix=f"{_stage_prefix(out)}{os.getpid()}.", suffix=".tmp", dir=parent
            )
        )
    except OSError as exc:
        raise OutputError(
            f"cannot write to {parent} ({exc.strerror}); choose another --out"
        ) from exc
    try:
        yield stage
        missing = [n for n in names if not (stage / n).exists()]
        if missing:
            raise OutputError(f"internal: report files not written: {', '.join(missing)}")
        if whole:
            _swap_in(stage, out)
            return
        if not out.exists():
            os.replace(stage, out)
            return
        for name in names:
            if (out / name).is_dir():  # a folder of the report (maps/, planned/): replace it
                shutil.rmtree(out / name)
            os.replace(stage / name, out / name)
    except PermissionError as exc:
        raise OutputError(
            f"cannot replace {exc.filename or out}: it is open in another program or read-only; "
            "close it and run again, or choose another --out"
        ) from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {out} ({exc}); choose another --out"
        ) from exc
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
