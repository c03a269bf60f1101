"""Machine-readable outputs and the report folder: CSV tables, summary.json, report.xlsx."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from circles.audit import AuditResult
from circles.io import staged_output
from circles.report.excel import write_workbook

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


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as UTF-8 CSV through Arrow (fast for 10^5-10^6 rows); NaN becomes empty."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    pacsv.write_csv(table, path, write_options=options)


def write_report(result: AuditResult, out: Path, *, overwrite: bool) -> list[Path]:
    """Write every report file into ``out`` atomically; return the paths written.

    Raises
    ------
    OutputError
        When ``out`` already holds report files and ``overwrite`` is false, or cannot be written.
    """
    with staged_output(out, REPORT_FILES, overwrite=overwrite) as stage:
        write_csv(result.residents, stage / "residents.csv")
        write_csv(result.facilities, stage / "facilities.csv")
        write_csv(result.coverage.astype({"is_gap": "boolean"}), stage / "coverage.csv")
        write_csv(result.network_issues, stage / "network_issues.csv")
        (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")
        write_workbook(stage / "report.xlsx", result.summary, result.coverage)
    return [out / name for name in REPORT_FILES]
