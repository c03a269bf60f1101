"""Comparison reports: reading report folders, and writing a comparison as CSV, Excel, terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rich.console import Console
from rich.table import Table

from circles.errors import InputDataError
from circles.report.staging import staged_output
from circles.report.terminal_cells import word
from circles.report.text import text_for

COMPARISON_FILES = ["comparison.csv", "comparison.xlsx"]


def read_report(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame | None]:
    """The summary, coverage and residents tables of a report folder.

    Raises
    ------
    InputDataError
        When the folder is not a circles report.
    """
    if not (folder / "coverage.csv").is_file() or not (folder / "summary.json").is_file():
        raise InputDataError(
            f"{folder} is not a circles report folder (no coverage.csv and summary.json); give "
            "the --out folder of an audit"
        )
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        coverage = pd.read_csv(
            folder / "coverage.csv",
            encoding="utf-8-sig",  # with or without the byte order mark
            dtype={"requirement_id": str, "community_id": str},
            keep_default_na=False,
            na_values=[""],
        )
        residents = None
        if (folder / "residents.csv").is_file():
            residents = pd.read_csv(
                folder / "residents.csv",
                encoding="utf-8-sig",
                dtype={"resident_id": str, "community_id": str},
            )
    except (ValueError, OSError) as exc:  # JSON, CSV parsing and decoding errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputDataError(
            f"{folder} holds a damaged report ({type(exc).__name__}: {first}); run the audit "
            "again to rewrite it"
        ) from exc
    needed = ["circle_id", "requirement_id", "scope", "community_id", "population_total"]
    needed += ["population_met", "coverage_ratio"]
    missing = [c for c in needed if c not in coverage.columns]
    if missing or not isinstance(summary, dict):
        what = f"coverage.csv lacks {', '.join(missing)}" if missing else "summary.json"
        raise InputDataError(
            f"{folder} is not a circles report folder ({what}); give the --out folder of an audit"
        )
    coverage["requirement_id"] = coverage["requirement_id"].fillna("")
    coverage["community_id"] = coverage["community_id"].fillna("")
    if residents is not None and not {"resident_id", "community_id", "population"} <= set(
        residents.columns
    ):
        residents = None  # without them only the net change is known
    return summary, coverage, residents


def write_comparison(
    folder: Path,
    comparison: pd.DataFrame,
    *,
    lang: str = "en",
    overwrite: bool = False,
    csv_bom: bool = True,
) -> None:
    """Write ``comparison.csv`` and ``comparison.xlsx`` into ``folder`` (atomically).

    ``comparison.csv`` starts with the UTF-8 byte order mark unless ``csv_bom`` is false.
    """
    from circles.report.files import write_csv

    with staged_output(folder, COMPARISON_FILES, overwrite=overwrite) as stage:
        write_csv(comparison, stage / "comparison.csv", bom=csv_bom)
        write_comparison_workbook(stage / "comparison.xlsx", comparison, lang)


def write_comparison_workbook(path: Path, comparison: pd.DataFrame, lang: str) -> None:
    """The comparison as one Excel sheet: before, after, change (colour scale), newly met."""
    labels = {
        key.removeprefix("comparison_"): text
        for key, text in text_for("zh" if lang == "zh" else "en").items()
        if key.startswith("comparison_")
    }
    wb = Workbook()
    ws = wb.active
    ws.title = labels["sheet"]
    columns = [c for c in comparison.columns]
    ws.append([labels.get(c, c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    percent = {"coverage_before", "coverage_after", "coverage_change"}
    for row in comparison.itertuples(index=False):
        values = []
        for value in row:
            values.append(None if isinstance(value, float) and pd.isna(value) else value)
        ws.append(values)
    for j, name in enumerate(columns, start=1):
        letter = get_column_letter(j)
        if name in percent:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = "0.0%"
        width = max(len(str(labels.get(name, name))) * (2 if lang == "zh" else 1), 10) + 2
        ws.column_dimensions[letter].width = width
    last = ws.max_row
    if last > 1:
        change = get_column_letter(columns.index("coverage_change") + 1)
        ws.conditional_formatting.add(
            f"{change}2:{change}{last}",
            ColorScaleRule(
                start_type="num",
                start_value=-0.2,
                start_color="F8696B",
                mid_type="num",
                mid_value=0,
                mid_color="FFFFFF",
                end_type="num",
                end_value=0.2,
                end_color="63BE7B",
            ),
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    wb.save(path)


def render_comparison(console: Console, comparison: pd.DataFrame, *, max_rows: int = 15) -> None:
    """Overall change per circle and requirement, then the communities that gain most."""
    overall = comparison[comparison["scope"] == "overall"]
    table = Table(title=word("compare_title"), title_justify="left")
    for key in ("circle", "requirement"):
        table.add_column(word(key), justify="left")
    for key in ("compare_before", "compare_after", "compare_change", "compare_newly_met"):
        table.add_column(word(key), justify="right")
    for row in overall.itertuples():
        newly = row.newly_met_population
        table.add_row(
            row.circle_id,
            row.requirement_id or word("compare_whole_circle"),
            _pct(row.coverage_before),
            _pct(row.coverage_after),
            _pct(row.coverage_change, signed=True),
            "–" if pd.isna(newly) else f"{newly:,.0f}",
        )
    console.print(table)
    gains = comparison[(comparison["scope"] == "community") & (comparison["requirement_id"] != "")]
    gains = gains.sort_values("newly_met_population", ascending=False, na_position="last")
    gains = gains[gains["newly_met_population"].fillna(0) > 0].head(max_rows)
    if len(gains):
        best = Table(title=word("compare_gains_title"), title_justify="left")
        for key in (
            "community",
            "compare_circle_requirement",
            "compare_newly_met",
            "compare_before",
            "compare_after",
        ):
            best.add_column(word(key))
        for row in gains.itertuples():
            best.add_row(
                row.community_id,
                f"{row.circle_id}/{row.requirement_id}",
                f"{row.newly_met_population:,.0f}",
                _pct(row.coverage_before),
                _pct(row.coverage_after),
            )
        console.print(best)


def _pct(value: float, *, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.1%}"
