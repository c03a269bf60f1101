"""The report folder's files: CSV tables, GIS layers, summary.json, report.xlsx."""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import math
import shutil
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from circles.audit import AuditResult
from circles.report.checkup import checkup_table
from circles.report.excel import write_workbook
from circles.report.gis import LAYER_FORMATS, areas_written, layer_names, write_layers
from circles.report.model import ReportModel, build_report_model
from circles.report.shared import shared_transforms
from circles.report.staging import staged_output
from circles.report.webmap import write_web_map
from circles.runtime import collector_paused

if TYPE_CHECKING:
    from circles.report.layer_process import PendingLayer

#: The tables of every report folder, whatever the format of its GIS layers
TABLE_FILES = [
    "residents.csv",
    "facilities.csv",
    "coverage.csv",
    "city_checkup.csv",
    "network_issues.csv",
    "summary.json",
    "report.xlsx",
    "map.html",
]
#: The files of a report folder with the default options (GIS layers as GeoPackage)
REPORT_FILES = TABLE_FILES + layer_names("gpkg")
#: The facility-side view, written with ``--facility-impact`` only
IMPACT_FILE = "facility_impact.csv"
#: Capacity requirements: per facility its capacity and the nearest-first load
CAPACITY_FILE = "capacity.csv"


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _clean(value.item())
    return value


def summary_json(summary: dict) -> str:
    """The summary as pretty, stable JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(_clean(summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


#: The UTF-8 byte order mark: Excel reads a CSV that starts with it as UTF-8, not the code page
UTF8_BOM = b"\xef\xbb\xbf"
CHUNK_ROWS = 25_000  # rows converted to Arrow and formatted at a time


def _csv_bytes(
    frame: pd.DataFrame, schema: pa.Schema, start: int, stop: int, *, header: bool
) -> bytes:
    table = pa.Table.from_pandas(frame.iloc[start:stop], schema=schema, preserve_index=False)
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=header, quoting_style="needed")
    pacsv.write_csv(table, sink, write_options=options)
    return sink.getvalue()


class PendingCsv:
    """A table being formatted as UTF-8 CSV on other threads, to be written later.

    Arrow formats numbers without holding Python's lock, so the formatting goes on while the
    caller works; the rows go to Arrow and are formatted ``CHUNK_ROWS`` at a time on two
    threads, so that no copy of a large table is held whole (the bytes are the same as in one
    go). NaN becomes an empty field. With a ``spool`` file the formatted rows go to it as soon
    as they are ready, in order (with the byte order mark when ``bom``), instead of being held
    in memory: a city's residents table is hundreds of megabytes of text.
    """

    def __init__(self, frame: pd.DataFrame, *, spool: Path | None = None, bom: bool = True):
        schema = pa.Schema.from_pandas(frame, preserve_index=False)
        self._bom = bom
        self._spool: Path | None = None
        self._handle: BinaryIO | None = None
        if spool is not None:
            with contextlib.suppress(OSError):  # no spool file: the rows are held in memory
                self._handle = open(spool, "wb")  # noqa: SIM115 (closed by write or close)
                self._handle.write(UTF8_BOM if bom else b"")
                self._spool = spool
        self._lock = threading.Lock()
        self._ready: dict[int, bytes] = {}
        self._next = 0
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="circles-csv")
        starts = range(0, max(len(frame), 1), CHUNK_ROWS)
        self._parts = [
            self._pool.submit(self._format, i, frame, schema, a, header=a == 0)
            for i, a in enumerate(starts)
        ]
        self._pool.shutdown(wait=False)

    def _format(
        self, i: int, frame: pd.DataFrame, schema: pa.Schema, start: int, *, header: bool
    ) -> bytes:
        text = _csv_bytes(frame, schema, start, start + CHUNK_ROWS, header=header)
        if self._handle is None:
            return text
        with self._lock:  # written in order: each chunk once those before it are
            self._ready[i] = text
            while self._next in self._ready:
                self._handle.write(self._ready.pop(self._next))
                self._next += 1
        return b""

    def write(self, path: Path, *, bom: bool = True) -> None:
        """Write the CSV to ``path`` once formatted (re-raises a formatting error).

        With ``bom`` the file starts with the UTF-8 byte order mark, so that Excel (a Chinese
        Excel above all) opens it as UTF-8.
        """
        parts = [part.result() for part in self._parts]
        if self._handle is not None and self._spool is not None:
            self._handle.close()
            self._handle = None
            if bom == self._bom:
                shutil.move(self._spool, path)
                return
            parts = [self._spool.read_bytes().removeprefix(UTF8_BOM)]
        with open(path, "wb") as handle:
            if bom:
                handle.write(UTF8_BOM)
            for part in parts:
                handle.write(part)

    def close(self) -> None:
        """Wait for the formatting threads and remove the spool file (when not written)."""
        futures.wait(self._parts)
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)


@dataclass
class Ahead:
    """One audit's residents outputs started before its report is written.

    ``csv`` is the residents table being formatted as CSV (into a spool file in ``scratch``
    when there is one), ``layer`` its GeoPackage layer being written by a child process (see
    :mod:`circles.report.layer_process`), each or None.
    """

    csv: PendingCsv | None = None
    layer: PendingLayer | None = None
    #: the folder beside the report they are written into, removed by :meth:`close`
    scratch: Path | None = None

    def start(self) -> None:
        """Start writing the GIS layer (see :meth:`PendingLayer.start`)."""
        if self.layer is not None:
            self.layer.start()

    def close(self) -> None:
        """Stop what is still being made (for a report not written) and remove the scratch."""
        if self.csv is not None:
            self.csv.close()
        if self.layer is not None:
            self.layer.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = True) -> None:
    """A table as UTF-8 CSV through Arrow (see :class:`PendingCsv`); NaN becomes empty.

    With ``bom`` (the default) the file starts with the UTF-8 byte order mark for Excel;
    read it back with ``encoding="utf-8-sig"`` (pandas skips the mark either way).
    """
    PendingCsv(frame).write(path, bom=bom)


def _write_files(
    stage: Path,
    result: AuditResult,
    *,
    lang: str,
    maps: bool,
    excel_residents: bool,
    warnings: list[str],
    layers: LayerOptions,
    ahead: Ahead | None = None,
) -> list[str]:
    """Write one audit's report files into ``stage``; return their names.

    The residents table, by far the largest, is formatted on other threads meanwhile (or
    already was, and its GIS layer may already be being written: ``ahead``).
    """
    ahead = ahead if ahead is not None else Ahead()
    pending = ahead.csv if ahead.csv is not None else PendingCsv(result.residents)
    # the GIS layers are written on another thread meanwhile (GDAL works without Python's lock)
    if result.geo is not None:  # made here, not on two threads at once
        if ahead.layer is None:
            result.geo.residents  # noqa: B018
        result.geo.facilities  # noqa: B018
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="circles-layers")
    gis = pool.submit(  # in this context: a scenario's transforms are shared (report.shared)
        contextvars.copy_context().run,
        write_layers,
        stage,
        result,
        layer_format=layers.layer_format,
        crs_out=layers.crs_out,
        ready={"residents": ahead.layer} if ahead.layer is not None else None,
    )
    pool.shutdown(wait=False)
    try:
        names, model = _write_tables(
            stage, result, lang=lang, excel_residents=excel_residents, bom=layers.csv_bom
        )
        write_web_map(
            stage / "map.html",
            result,
            lang=lang,
            model=model,
            basemap=layers.basemap,
            warnings=warnings,
        )
    finally:
        futures.wait([gis])  # never leave the thread writing into a folder being removed
    names += gis.result()
    if maps:
        from circles.report.maps import write_maps

        (stage / "maps").mkdir()
        write_maps(stage / "maps", result, lang=lang, warnings=warnings, model=model)
        names.append("maps")
    pending.write(stage / "residents.csv", bom=layers.csv_bom)
    return names


def _write_tables(
    stage: Path, result: AuditResult, *, lang: str, excel_residents: bool, bom: bool
) -> tuple[list[str], ReportModel]:
    """The CSV tables, summary.json and report.xlsx; their names and the report model."""
    write_csv(result.facilities, stage / "facilities.csv", bom=bom)
    write_csv(result.coverage.astype({"is_gap": "boolean"}), stage / "coverage.csv", bom=bom)
    write_csv(result.network_issues, stage / "network_issues.csv", bom=bom)
    (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")
    model = build_report_model(result.summary, result.coverage)  # one model for every writer
    checkup = checkup_table(result.summary, result.coverage, result.residents)
    write_csv(checkup, stage / "city_checkup.csv", bom=bom)
    write_workbook(
        stage / "report.xlsx",
        result.summary,
        result.coverage,
        lang=lang,
        residents=result.residents if excel_residents else None,
        model=model,
        facility_impact=result.facility_impact,
        checkup=checkup,
    )
    names = list(TABLE_FILES)
    if result.facility_impact is not None:
        write_csv(result.facility_impact, stage / IMPACT_FILE, bom=bom)
        names.append(IMPACT_FILE)
    if result.allocation is not None:
        write_csv(result.allocation, stage / CAPACITY_FILE, bom=bom)
        names.append(CAPACITY_FILE)
    return names, model


@dataclass(frozen=True)
class LayerOptions:
    """How the report's files are written: GIS layers, CSV byte order mark, map.html basemap.

    ``basemap`` is ``none`` (map.html loads nothing), ``osm``, ``amap`` or ``tianditu[:KEY]``.
    """

    layer_format: str = "gpkg"
    crs_out: str = "EPSG:4326"
    csv_bom: bool = True
    basemap: str = "none"


def report_names(
    *,
    maps: bool = False,
    planned: bool = False,
    layer_format: str | None = "gpkg",
    areas: str | None = "requirement",
    impact: bool = False,
    capacity: bool = False,
) -> list[str]:
    """The files and folders a report folder holds.

    ``layer_format`` None lists the GIS layers of every format, ``areas`` None every
    service-area layer (the files of any report); ``impact`` adds the facility-side view,
    ``capacity`` the capacity table.
    """
    formats = list(LAYER_FORMATS) if layer_format is None else [layer_format]
    kinds = ["per-facility"] if areas is None else [areas]  # per-facility: every area layer
    layers = list(dict.fromkeys(name for f in formats for a in kinds for name in layer_names(f, a)))
    names = list(TABLE_FILES) + ([IMPACT_FILE] if impact else [])
    names += ([CAPACITY_FILE] if capacity else []) + layers
    names += ["maps"] if maps else []
    if planned:
        names += ["planned", "comparison.csv", "comparison.xlsx"]
    return names


def write_report(
    result: AuditResult,
    out: Path,
    *,
    overwrite: bool,
    lang: str = "en",
    maps: bool = False,
    excel_residents: bool = False,
    planned: AuditResult | None = None,
    comparison: pd.DataFrame | None = None,
    warnings: list[str] | None = None,
    layers: LayerOptions | None = None,
    ahead: Ahead | None = None,
    planned_ahead: Ahead | None = None,
) -> list[Path]:
    """Write every report file into ``out`` atomically; return the paths written.

    With a ``planned`` audit, its report goes to ``out/planned/`` and the ``comparison`` of
    the two to ``comparison.csv`` and ``comparison.xlsx``. ``ahead`` is what was started for
    ``result``'s residents before (see :func:`circles.scenario.run_scenario`), ``planned_ahead``
    for ``planned``'s; both are closed when this returns. ``layers`` says how the GIS layers
    (residents, communities, facilities) and the CSV files are written (default: GeoPackage in
    WGS 84, CSV with a byte order mark).

    Raises
    ------
    OutputError
        When ``out`` already holds report files and ``overwrite`` is false, or cannot be written.
    """
    warnings = warnings if warnings is not None else []
    layers = layers if layers is not None else LayerOptions()
    names = report_names(
        maps=maps,
        planned=planned is not None,
        layer_format=layers.layer_format,
        areas=areas_written(result),
        impact=result.facility_impact is not None,
        capacity=result.allocation is not None,
    )
    options: dict[str, Any] = {
        "lang": lang,
        "maps": maps,
        "excel_residents": excel_residents,
        "warnings": warnings,
        "layers": layers,
    }
    known = set(
        report_names(
            maps=True, planned=True, layer_format=None, areas=None, impact=True, capacity=True
        )
    )
    try:
        with (
            collector_paused(),
            shared_transforms(),  # the planned report takes the status quo's unchanged areas
            staged_output(out, names, overwrite=overwrite, whole=True, known=known) as stage,
        ):
            _write_files(stage, result, ahead=ahead, **options)
            if planned is not None and comparison is not None:
                from circles.report.compare_report import write_comparison_workbook

                (stage / "planned").mkdir()
                _write_files(stage / "planned", planned, ahead=planned_ahead, **options)
                write_csv(comparison, stage / "comparison.csv", bom=layers.csv_bom)
                write_comparison_workbook(stage / "comparison.xlsx", comparison, lang)
    finally:
        for started in (ahead, planned_ahead):
            if started is not None:  # no child process outlives the report
                started.close()
    return [out / name for name in names]
