"""``circles compare``: coverage before and after a plan, from two report folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circles.cli.exits import err, fail
from circles.errors import CirclesError


def compare_command(
    before: Annotated[Path, typer.Argument(help="The report folder of the status quo.")],
    after: Annotated[Path, typer.Argument(help="The report folder of the plan.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Write comparison.csv and comparison.xlsx here.", show_default=False
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the workbook: en or zh.")] = "en",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace comparison files already in --out.")
    ] = False,
    csv_bom: Annotated[
        bool,
        typer.Option(
            "--csv-bom/--no-csv-bom",
            help="Start comparison.csv with the UTF-8 byte order mark, for Excel.",
        ),
    ] = True,
) -> None:
    """Compare two audits: coverage before, after and the change, and who newly meets what."""
    from circles.evaluate.compare import compare
    from circles.report.compare_report import read_report, render_comparison, write_comparison

    try:
        _, cov_before, res_before = read_report(before)
        _, cov_after, res_after = read_report(after)
        comparison = compare(cov_before, cov_after, res_before, res_after)
        if out is not None:
            write_comparison(out, comparison, lang=lang, overwrite=overwrite, csv_bom=csv_bom)
    except CirclesError as exc:
        fail(str(exc))
        return
    render_comparison(Console(highlight=False), comparison)
    if out is not None:
        err.print(f"comparison written to {out}/", highlight=False)
