"""The batch's report.xlsx: the units, the overall coverage and the coverage by community."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

#: Sheets of the batch workbook, in order
SHEETS = ("units", "overall", "coverage")


def write_batch_workbook(
    path: Path, units: pd.DataFrame, coverage: pd.DataFrame, summary: dict
) -> None:
    """Write ``report.xlsx``: one sheet per table, header frozen, columns sized to fit.

    ``units`` is units.csv, ``coverage`` coverage.csv; the first sheet also carries the batch
    totals of ``summary``. Written beside it and moved into place when complete.
    """
    batch = summary.get("batch", {})
    totals = pd.DataFrame(
        {
            "item": [k for k in batch if k != "warnings"],
            "value": [batch[k] for k in batch if k != "warnings"],
        }
    )
    overall = coverage[coverage["scope"] == "overall"] if len(coverage) else coverage
    partial = path.parent / f".{path.name}.partial"
    try:
        with pd.ExcelWriter(partial, engine="openpyxl") as writer:
            units.to_excel(writer, sheet_name="units", index=False)
            totals.to_excel(writer, sheet_name="units", index=False, startrow=len(units) + 2)
            overall.to_excel(writer, sheet_name="overall", index=False)
            coverage.to_excel(writer, sheet_name="coverage", index=False)
            for name in SHEETS:
                sheet = writer.sheets[name]
                sheet.freeze_panes = "A2"
                for column in sheet.columns:
                    width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
                    sheet.column_dimensions[column[0].column_letter].width = min(width + 2, 50)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
