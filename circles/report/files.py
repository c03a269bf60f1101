"""Machine-readable outputs and the report folder: CSV tables, summary.json, report.xlsx."""

from __future__ import annotations

import io
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from circles.audit import AuditResult
from circles.io import staged_output
from circles.report.excel import write_workbook
from circles.runtime import collector_paused

REPORT_FILES = [
    "residents.csv",
    "facilities.csv",
    "coverage.csv",
    "network_issues.csv",
    "summary.json",
    "report.xlsx",
]


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


PARALLEL_ROWS = 50_000  # larger tables are formatted in two halves at once


def _csv_bytes(table: pa.Table, header: bool) -> bytes:
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=header, quoting_style="needed")
    pacsv.write_csv(table, sink, write_options=options)
    return sink.getvalue()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as UTF-8 CSV through Arrow; NaN becomes empty.

    Arrow formats numbers without holding Python's lock, so a large table is formatted in two
    halves on two threads (the bytes are the same as in one go).
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if table.num_rows < PARALLEL_ROWS:
        path.write_bytes(_csv_bytes(table, True))
        return
    half = table.num_rows // 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(_csv_bytes, table.slice(half), False)
        first = _csv_bytes(table.slice(0, half), True)
        with open(path, "wb") as handle:
            handle.write(first)
            handle.write(second.result())


def _write_files(
    stage: Path,
    result: AuditResult,
    *,
    lang: str,
    maps: bool,
    excel_residents: bool,
    warnings: list[str],
) -> list[str]:
    """Write one audit's report files into ``stage``; return their names.

    The residents table, by far the largest, is written on another thread meanwhile.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        residents = pool.submit(write_csv, result.residents, stage / "residents.csv")
        names = _write_rest(stage, result, lang, maps, excel_residents, warnings)
        residents.result()
    return names


def _write_rest(
    stage: Path,
    result: AuditResult,
    lang: str,
    maps: bool,
    excel_residents: bool,
    warnings: list[str],
) -> list[str]:
    write_csv(result.facilities, stage / "facilities.csv")
    write_csv(result.coverage.astype({"is_gap": "boolean"}), stage / "coverage.csv")
    write_csv(result.network_issues, stage / "network_issues.csv")
    (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")
    write_workbook(
        stage / "report.xlsx",
        result.summary,
        result.coverage,
        lang=lang,
        residents=result.residents if excel_residents else None,
    )
    names = list(REPORT_FILES)
    if maps:
        from circles.report.maps import write_maps

        (stage / "maps").mkdir()
        write_maps(stage / "maps", result, lang=lang, warnings=warnings)
        names.append("maps")
    return names


def report_names(*, maps: bool = False, planned: bool = False) -> list[str]:
    """The files and folders a report folder holds."""
    names = list(REPORT_FILES) + (["maps"] if maps else [])
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
) -> list[Path]:
    """Write every report file into ``out`` atomically; return the paths written.

    With a ``planned`` audit, its report goes to ``out/planned/`` and the ``comparison`` of
    the two to ``comparison.csv`` and ``comparison.xlsx``.

    Raises
    ------
    OutputError
        When ``out`` already holds report files and ``overwrite`` is false, or cannot be written.
    """
    warnings = warnings if warnings is not None else []
    names = report_names(maps=maps, planned=planned is not None)
    options = {"lang": lang, "maps": maps, "excel_residents": excel_residents, "warnings": warnings}
    with collector_paused(), staged_output(out, names, overwrite=overwrite) as stage:
        _write_files(stage, result, **options)
        if planned is not None and comparison is not None:
            from circles.report.compare_report import write_comparison_workbook

            (stage / "planned").mkdir()
            _write_files(stage / "planned", planned, **options)
            write_csv(comparison, stage / "comparison.csv")
            write_comparison_workbook(stage / "comparison.xlsx", comparison, lang)
    return [out / name for name in names]
