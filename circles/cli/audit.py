"""``circles audit``: options built from the Settings model; run the audit, write the report."""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from circles.cli.exits import err, reported
from circles.errors import ProjectFileError
from circles.settings import (
    Settings,
    default_of,
    edge_of,
    edges,
    field_info,
    kind_of,
    merge,
    to_edge,
)

# the command-line type of each kind of Settings field (None, or an empty list: not given)
_CLI_TYPES: dict[str, Any] = {
    "path": Path | None,
    "list": list[str] | None,
    "mapping": list[str] | None,
    "float": float | None,
    "int": int | None,
    "bool": bool | None,
    "text": str | None,
}


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def option_help(name: str, model: type[Settings] = Settings) -> str:
    """A Settings field's help: its description and its default, in the units users give."""
    text = field_info(name, model).description or ""
    default = edge_of(field_info(name, model)).default_text
    if default is None:
        value = to_edge(name, default_of(name, model), model)
        default = "" if value in (None, [], {}) else _shown(value)
    return f"{text} [default: {default}]" if default else text


def settings_parameters(model: type[Settings] = Settings) -> list[inspect.Parameter]:
    """One Typer option per Settings field: flag, type, help and default all from the model."""
    params = []
    for name, edge in edges(model):
        if edge.invert:  # a switch such as --no-cache
            annotation: Any = bool
            default: Any = False
            option = typer.Option(*edge.flags(name), help=option_help(name, model))
        else:  # None: not given, so that a project file's value shows through
            annotation = _CLI_TYPES[kind_of(name, model)]
            default = None
            option = typer.Option(
                *edge.flags(name), help=option_help(name, model), show_default=False
            )
        params.append(command_parameter(name, annotation, default, option))
    return params


def command_parameter(name: str, kind: Any, default: Any, option: Any) -> inspect.Parameter:
    """One parameter of a command's signature, as Typer reads it (a Typer option or argument)."""
    return inspect.Parameter(
        name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=default,
        annotation=Annotated[kind, option],
    )


def _command_parameters() -> list[inspect.Parameter]:
    """The options of ``circles audit`` that are about this run of the command, not the audit."""
    options: list[tuple[str, Any, Any, Any]] = [
        (
            "overwrite",
            bool,
            False,
            typer.Option("--overwrite", help="Replace report files already in --out."),
        ),
        ("lang", str, "en", typer.Option(help="Language of the workbook and maps: en or zh.")),
        (
            "maps",
            bool,
            False,
            typer.Option(
                "--maps",
                help="Also write PNG maps to OUT/maps/: one per circle and one per requirement.",
            ),
        ),
        (
            "excel_residents",
            bool,
            False,
            typer.Option("--excel-residents", help="Add every resident as a sheet of report.xlsx."),
        ),
        (
            "fail_on_gaps",
            bool,
            False,
            typer.Option("--fail-on-gaps", help="Exit with code 1 when any requirement has a gap."),
        ),
        ("quiet", bool, False, typer.Option("-q", "--quiet", help="Print nothing but errors.")),
        (
            "verbose",
            bool,
            False,
            typer.Option(
                "-v",
                "--verbose",
                help="Print the full tables (every requirement, hub destination and community) "
                "instead of the one-screen summary, and every warning.",
            ),
        ),
        ("debug", bool, False, typer.Option("--debug", help="Show the traceback of an error.")),
        (
            "timings",
            bool,
            False,
            typer.Option(
                "--timings", help="Print the time of each stage and the peak memory to stderr."
            ),
        ),
    ]
    project = typer.Argument(
        help="Project file (circles.yaml) holding the options below; options given on the "
        "command line win.",
        show_default=False,
    )
    return [
        command_parameter("project", Path | None, None, project),
        *settings_parameters(),
        *(command_parameter(*option) for option in options),
    ]


def audit(**given: Any) -> None:
    """Audit the circles on a street network and write the report folder."""
    project: Path | None = given.pop("project")
    overwrite, lang, maps, excel_residents, fail_on_gaps, quiet, verbose, debug, timings = (
        given.pop(name)
        for name in (
            "overwrite",
            "lang",
            "maps",
            "excel_residents",
            "fail_on_gaps",
            "quiet",
            "verbose",
            "debug",
            "timings",
        )
    )
    with reported(debug):
        from circles.project import load_project

        settings = merge(load_project(project) if project is not None else {}, given)
        if lang not in ("en", "zh"):
            raise ProjectFileError(f"--lang {lang!r}: use en or zh")
        from circles.report.staging import check_out_folder

        check_out_folder(
            settings.out,
            [
                *(settings.network, settings.facilities, settings.residents),
                *(settings.communities, settings.zones, settings.planned, *settings.rules),
                project,
            ],
        )
        result = _run(
            settings,
            settings.out,
            overwrite=overwrite,
            quiet=quiet,
            verbose=verbose,
            timings=timings,
            report={"lang": lang, "maps": maps, "excel_residents": excel_residents},
        )
    if fail_on_gaps and result:
        raise typer.Exit(1)


audit.__signature__ = inspect.Signature(_command_parameters(), return_annotation=None)  # type: ignore[attr-defined]


def _run(
    options: Settings,
    out_dir: Path,
    *,
    overwrite: bool,
    quiet: bool,
    verbose: bool,
    timings: bool,
    report: dict[str, Any],
) -> bool:
    """Run the audit with progress on stderr, write the report, print the summary.

    The summary (stdout) is one screen, or the full tables with ``verbose``; warnings go to
    stderr (the first few, or all with ``verbose``). Progress shows on stderr only when it is
    a terminal.

    Returns True when any requirement has a gap overall or in a community.
    """
    import resource
    import time

    from circles.audit import STAGES
    from circles.report.terminal_brief import WARNINGS_SHOWN
    from circles.scenario import run_scenario

    marks: list[tuple[str, float]] = [("start", time.perf_counter())]

    def mark(stage: str) -> None:
        marks.append((stage, time.perf_counter()))

    if quiet or not err.is_terminal:
        scenario = run_scenario(options, progress=mark, write_ahead=True)
    else:
        scenario = _run_with_progress(options, mark, STAGES)
    result, planned, comparison = scenario.result, scenario.planned, scenario.comparison
    mark("write")
    from circles.report.files import LayerOptions, write_report
    from circles.report.terminal import render

    map_warnings: list[str] = []
    try:
        write_report(
            result,
            out_dir,
            overwrite=overwrite,
            planned=planned,
            comparison=comparison,
            warnings=map_warnings,
            layers=LayerOptions(
                options.layer_format, options.crs_out, options.csv_bom, options.basemap
            ),
            ahead=scenario.ahead,
            planned_ahead=scenario.planned_ahead,
            **report,
        )
    finally:
        scenario.close()  # the residents' layers written ahead: done, or stopped
    mark("end")
    if timings:
        for (stage, begin), (_, end) in itertools.pairwise(marks[1:]):
            err.print(f"timing: {stage} {end - begin:.3f} s", highlight=False)
        err.print(f"timing: total {marks[-1][1] - marks[0][1]:.3f} s", highlight=False)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        err.print(f"timing: peak_rss {peak_kib / 1024:.0f} MiB", highlight=False)
    if not quiet:
        from circles.report.terminal_brief import render_brief, render_warnings

        console = Console(highlight=False)
        if verbose:
            render(console, result.summary, result.coverage)
        else:
            render_brief(console, result.summary, result.coverage, report_dir=str(out_dir))
        if comparison is not None:
            from circles.report.compare_report import render_comparison

            render_comparison(console, comparison)
        render_warnings(err, result.summary, limit=None if verbose else WARNINGS_SHOWN)
        for warning in map_warnings:
            err.print(f"[yellow]warning: {warning}[/]", markup=True)
        err.print(f"report written to {out_dir}/", highlight=False)
    gaps = result.coverage["is_gap"]
    return bool(gaps.apply(lambda g: g is True).any())


def _run_with_progress(options: Settings, mark: Any, stages: dict[str, str]) -> Any:
    """Run the scenario with a rich progress display of its stages on stderr (a terminal)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from circles.scenario import run_scenario

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting…", total=len(stages))

        def show(stage: str) -> None:
            mark(stage)
            if stage == "planned":  # a second audit, with the planned facilities
                progress.update(task, description="auditing with the planned facilities…")
                return
            done = list(stages).index(stage) if stage in stages else None
            progress.update(task, description=stages.get(stage, stage) + "…", completed=done)

        return run_scenario(options, progress=show, write_ahead=True)
