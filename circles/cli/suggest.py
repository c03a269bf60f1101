"""``circles suggest``: where to add facilities for one requirement, and how many."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from circles.cli.audit import command_parameter, settings_parameters
from circles.cli.exits import err, reported
from circles.errors import ProjectFileError
from circles.settings import merge

CANDIDATES_HELP = (
    "Candidate sites: a point or polygon layer (vacant plots, planned sites; a polygon stands "
    "at a point inside it), same formats as --facilities. Without it, the candidates are the "
    "network's intersections inside the communities where the requirement has a gap (every "
    "community when none has one; the whole network without community polygons)."
)


def _own_parameters() -> list[inspect.Parameter]:
    options: list[tuple[str, Any, Any, Any]] = [
        (
            "requirement",
            str,
            ...,
            typer.Option(
                "--requirement",
                help="The requirement to serve, CIRCLE/REQUIREMENT "
                "(e.g. life_15min/kindergarten); walking or driving.",
                show_default=False,
            ),
        ),
        ("candidates", Path | None, None, typer.Option("--candidates", help=CANDIDATES_HELP)),
        ("add", int | None, None, typer.Option("--add", help="How many sites to add.")),
        (
            "target",
            float | None,
            None,
            typer.Option(
                "--target",
                help="Add sites until this coverage ratio of the requirement (e.g. 0.9) is "
                "reached, or say it cannot be (instead of --add).",
            ),
        ),
        (
            "exact",
            bool,
            False,
            typer.Option(
                "--exact",
                help="Also solve the maximal-covering integer program with HiGHS and report "
                "how far the greedy answer is from the optimum.",
            ),
        ),
        (
            "community",
            list[str] | None,
            None,
            typer.Option(
                "--community",
                help="Count only residents of this community (repeatable); default: all.",
            ),
        ),
        (
            "facility_type",
            str | None,
            None,
            typer.Option(
                "--type",
                help="Facility type of the new sites in planned.csv (default: the "
                "requirement's first type).",
            ),
        ),
        (
            "time_limit",
            float,
            120.0,
            typer.Option("--time-limit", help="Seconds the --exact solver may take."),
        ),
        (
            "suggest_out",
            Path,
            Path("circles-suggest"),
            typer.Option("-o", "--out", help="Folder of the suggestion's files."),
        ),
        ("overwrite", bool, False, typer.Option("--overwrite", help="Replace files in --out.")),
        ("lang", str, "en", typer.Option(help="Language of the workbook and curve: en or zh.")),
        ("debug", bool, False, typer.Option("--debug", help="Show the traceback of an error.")),
    ]
    return [command_parameter(*option) for option in options]


def suggest(**given: Any) -> None:
    """Suggest where to add facilities so that more residents meet one requirement.

    Runs the audit with the same options as `circles audit` (listed after the suggestion's
    own), then adds candidate sites one at a time, each the one that brings the most population
    to the requirement (greedy with lazy evaluation, then one-for-one swaps); --exact also
    solves the integer program. Writes suggested.csv/.gpkg,
    coverage_curve.csv/.png, communities.csv, planned.csv and suggested.xlsx into --out:
    `circles audit --planned OUT/planned.csv` reproduces the gain.
    """
    from circles.project import load_project
    from circles.suggest.run import SuggestOptions

    project: Path | None = given.pop("project")
    debug = given.pop("debug")
    lang, overwrite, out = given.pop("lang"), given.pop("overwrite"), given.pop("suggest_out")
    own = {
        k: given.pop(k)
        for k in (
            "requirement",
            "candidates",
            "add",
            "target",
            "exact",
            "community",
            "facility_type",
            "time_limit",
        )
    }
    with reported(debug):
        if lang not in ("en", "zh"):
            raise ProjectFileError(f"--lang {lang!r}: use en or zh")
        settings = merge(load_project(project) if project is not None else {}, given)
        options = SuggestOptions(
            requirement=own["requirement"],
            candidates=own["candidates"],
            add=own["add"],
            target=own["target"],
            exact=own["exact"],
            communities=tuple(own["community"] or ()),
            facility_type=own["facility_type"],
            time_limit_s=own["time_limit"],
        )
        _run(settings, options, out, overwrite=overwrite, lang=lang)


def _run(settings: Any, options: Any, out: Path, *, overwrite: bool, lang: str) -> None:
    from circles.report.staging import check_out_folder
    from circles.report.suggest_report import requirement_name, write_suggestion
    from circles.suggest.run import check_suggest_options, run_suggest

    check_suggest_options(options)
    check_out_folder(
        out,
        [
            settings.network,
            settings.facilities,
            settings.residents,
            settings.communities,
            options.candidates,
        ],
    )
    with err.status("auditing and ranking candidate sites…") if err.is_terminal else _null():
        result = run_suggest(settings, options)
    write_suggestion(result, out, overwrite=overwrite, lang=lang, bom=settings.csv_bom)
    console = Console(highlight=False)
    render(console, result, requirement_name(result, "en"))
    for warning in result.audit.summary.get("warnings", [])[:3] + result.notes:
        err.print(f"[yellow]warning: {warning}[/]", markup=True)
    err.print(f"suggestion written to {out}/", highlight=False)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def render(console: Console, result: Any, title: str, rows: int = 20) -> None:
    """The ranked sites and the coverage curve, one screen."""
    total, before = result.population_total, result.population_met_before
    console.print(
        f"[bold]{title}[/]: {result.population_met_before:,.0f} of {total:,.0f} people meet it "
        f"today ({before / total:.1%})"
        if total
        else f"[bold]{title}[/]: nobody to serve"
    )
    c = result.candidates
    console.print(
        f"candidates: {c.get('total', 0):,} ({c.get('source')}), {c.get('on_network', 0):,} on the "
        f"network, {c.get('reaching_someone', 0):,} reach someone who needs the facility"
    )
    table = Table(box=None, pad_edge=False)
    justify: Any
    for name, justify in (
        ("#", "right"),
        ("candidate", "left"),
        ("newly met", "right"),
        ("coverage", "right"),
        ("", "left"),
        ("communities gaining", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")
    sites = result.sites
    for row in sites.head(rows).itertuples(index=False):
        bar = "█" * round(12 * float(row.coverage_after))
        table.add_row(
            str(row.rank),
            str(row.candidate_id),
            f"{row.population_newly_met:,.0f}",
            f"{row.coverage_after:.1%}",
            bar,
            str(row.communities),
        )
    console.print(table)
    if len(sites) > rows:
        console.print(f"… {len(sites) - rows} more sites in suggested.csv")
    after = before + result.greedy_population
    console.print(
        f"{len(sites)} sites: +{result.greedy_population:,.0f} people, coverage "
        f"{before / total:.1%} → {after / total:.1%}"
        if total
        else ""
    )
    if result.exact is not None:
        e = result.exact
        got = result.greedy_population
        if e.status == "optimal":
            share = got / e.population if e.population else 1.0
            console.print(
                f"exact (HiGHS, optimal, {e.seconds:.1f} s): +{e.population:,.0f} people with "
                f"{len(sites)} sites; the ranked sites (greedy, then swaps) reach {share:.1%} of it"
            )
        else:
            bound = f"; at most +{e.bound:,.0f} possible" if e.bound is not None else ""
            share = f", the ranked sites reach {got / e.bound:.1%} of that" if e.bound else ""
            found = (
                f"best found +{e.population:,.0f} people"
                if e.population == e.population  # not NaN
                else "no solution found yet"
            )
            console.print(
                f"exact (HiGHS): {e.status} after {e.seconds:.0f} s, {found}{bound}{share}; "
                "raise --time-limit, or narrow the candidates or --community"
            )


suggest.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        command_parameter(
            "project",
            Path | None,
            None,
            typer.Argument(
                help="Project file (circles.yaml) holding the audit options; options given "
                "on the command line win.",
                show_default=False,
            ),
        ),
        *_own_parameters(),  # the suggestion's own options first, then the audit's
        *[p for p in settings_parameters() if p.name != "out"],
    ],
    return_annotation=None,
)
