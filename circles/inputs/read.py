"""Reading input layers and writing output files: driver by suffix, atomic output folders."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import geopandas as gpd

from circles.errors import InputDataError
from circles.inputs.tables import (
    detect_encoding,
    read_excel_points,
    read_parquet_layer,
    read_points_csv,
    refuse_degrees_as_metres,
)

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb", ".parquet"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
OSM_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
#: Files that hold several layers (GeoPackage) or sheets (Excel): ``path.gpkg:layer``
MULTI_LAYER_SUFFIXES = {".gpkg", *EXCEL_SUFFIXES}


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


def _gdal_reason(message: str, path: Path) -> str:
    """GDAL's first sentence without the path it repeats or its driver-prefix advice."""
    first = message.splitlines()[0] if message else ""
    first = first.split("; It might help", 1)[0].split(". It might help", 1)[0]
    for quoted in (f"'{path}' ", f"{path}: ", f"'{path}'", str(path)):
        first = first.replace(quoted, "")
    return first.strip(" .;:")


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
        return read_excel_points(path, layer_name, role, crs)
    if suffix == ".xls":
        raise InputDataError(
            f"{role} file {path} is an old Excel .xls workbook; save it as .xlsx (or CSV)"
        )
    layer = _read_vector(path, layer_name, role, crs, warnings)
    if layer.crs is None:
        if crs is None:
            raise InputDataError(
                f"{role} file {path} has no CRS; pass --crs with the projected CRS its "
                f"coordinates are in (e.g. --crs EPSG:32650), or --coords {role}=wgs84 (or "
                "gcj02, bd09) when they are longitude/latitude"
            )
        refuse_degrees_as_metres(layer.total_bounds, path, role, crs)
        layer = layer.set_crs(crs)
    return layer


def _read_vector(
    path: Path, layer_name: str | None, role: str, crs: str | None, warnings: list[str] | None
) -> gpd.GeoDataFrame:
    """A GeoParquet file, or a layer GDAL reads (GeoPackage, GeoJSON, Shapefile...)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_parquet_layer(path, role, crs)
    options: dict = {}
    if suffix == ".gpkg":
        options.update(_gpkg_layer(path, layer_name, role, warnings))
    if suffix == ".shp":
        encoding = _shapefile_encoding(path)
        if encoding:
            options["encoding"] = encoding
    try:
        return gpd.read_file(path, engine="pyogrio", **options)
    except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
        first = _gdal_reason(str(exc), path) or type(exc).__name__
        raise InputDataError(
            f"cannot read {role} file {path} ({first}); give a GeoPackage, GeoJSON, "
            "Shapefile or CSV"
        ) from exc


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
