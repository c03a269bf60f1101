"""Machine-readable outputs and the report folder: CSV tables, summary.json, report.xlsx."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

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


def write_report(result: AuditResult, out: Path, *, overwrite: bool) -> list[Path]:
    """Write every report file into ``out`` atomically; return the paths written.

    Raises
    ------
    OutputError
        When ``out`` already holds report files and ``overwrite`` is false, or cannot be written.
    """
    with staged_output(out, REPORT_FILES, overwrite=overwrite) as stage:
        result.residents.to_csv(stage / "residents.csv", index=False, encoding="utf-8")
        result.facilities.to_csv(stage / "facilities.csv", index=False, encoding="utf-8")
        result.coverage.to_csv(stage / "coverage.csv", index=False, encoding="utf-8")
        result.network_issues.to_csv(stage / "network_issues.csv", index=False, encoding="utf-8")
        (stage / "summary.json").write_text(summary_json(result.summary), encoding="utf-8")
        write_workbook(stage / "report.xlsx", result.summary, result.coverage)
    return [out / name for name in REPORT_FILES]
