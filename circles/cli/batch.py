"""``circles batch``: audit the units of a manifest on Dask and combine their reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from circles.cli.exits import err, reported


def batch(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="Manifest (MANIFEST.yaml): the project-file keys shared by every unit, and "
            "units: (project files or mappings of keys) or partition: {by: POLYGONS, field: "
            "COLUMN}.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "-o", "--out", help="Batch folder: units in OUT/units/NAME/, combined files in OUT."
        ),
    ] = Path("circles-batch"),
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running Dask scheduler (tcp://host:port); without it a local "
            "cluster of worker processes is started and stopped.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes of the local cluster. [default: 2]", min=1),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Skip units whose folder holds a complete report for unchanged inputs and "
            "settings.",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Redo every unit of the manifest in a folder that holds an earlier batch.",
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    """Audit many districts or cities as Dask tasks; exit 2 when any unit failed."""
    from circles.batch import run_batch

    def show(line: str) -> None:
        err.print(line, markup=False, highlight=False, soft_wrap=True)

    with reported(debug, first_line=True):
        result = run_batch(
            manifest,
            out,
            scheduler=scheduler,
            workers=workers,
            resume=resume,
            overwrite=overwrite,
            progress=show,
        )
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    failed = result.failed
    done = len(result.units) - len(failed)
    show(f"{done} of {len(result.units)} units audited; combined report written to {out}/")
    if failed:
        for record in failed:
            show(f"error: unit {record['name']}: {record['error']}")
        bug = any(not r.get("user_error", True) for r in failed)
        raise typer.Exit(3 if bug else 2)
