"""Tables of points (CSV, Excel, Parquet) read like one another: encodings, coordinate columns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.errors import InputDataError

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


def find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` among ``columns``, in any case and spacing (its own spelling)."""
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


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


def read_csv_text(path: Path, role: str) -> pd.DataFrame:
    """Every column of a CSV/TSV as text, in the file's own encoding (UTF-8, BOM, GBK)."""
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
    fast = arrow_csv(text, text.encode("utf-8") if utf8 is None else utf8, sep)
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


def arrow_csv(text: str, utf8: bytes, sep: str) -> pd.DataFrame | None:
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
    return points_from_table(read_csv_text(path, role), path, role, crs=crs)


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
    lon, lat = find_column(columns, LON_NAMES), find_column(columns, LAT_NAMES)
    x, y = find_column(columns, X_NAMES), find_column(columns, Y_NAMES)
    location = find_column(columns, LOCATION_NAMES)
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
            refuse_degrees_as_metres(bounds, path, role, crs)
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


def read_excel_points(
    path: Path, sheet: str | None, role: str, crs: str | None
) -> gpd.GeoDataFrame:
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


def read_parquet_layer(path: Path, role: str, crs: str | None) -> gpd.GeoDataFrame:
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


def refuse_degrees_as_metres(bounds: np.ndarray, path: Path, role: str, crs: str) -> None:
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
