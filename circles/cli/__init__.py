"""Command-line interface (Typer): parse options, call the library, print, set the exit code.

Exit codes: 0 ran; 1 gaps found with ``--fail-on-gaps``; 2 usage, rule or input error;
3 internal error (a bug: rerun with ``--debug`` and report the traceback).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from typer.core import TyperGroup

from circles import __version__
from circles.errors import CirclesError, ProjectFileError, RuleError

try:  # typer vendors click since 0.20; older typers use click itself
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exc  # type: ignore[no-redef]  # same module, older typer
# typer 0.29 keeps Abort in typer.exceptions, not in its vendored click's exceptions
_Abort = cast(
    "type[BaseException]",
    getattr(_click_exc, "Abort", None) or getattr(typer, "Abort", RuntimeError),
)


class _OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, an unknown option) as one line, exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if not standalone_mode:
            return super().main(*args, **kwargs)
        try:
            code = super().main(*args, **kwargs)
        except _click_exc.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except _click_exc.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "circles"
            sys.stderr.write(f"error: {exc.format_message()} (see {command} --help)\n")
            sys.exit(2)
        except _click_exc.ClickException as exc:
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        except _Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        except CirclesError as exc:  # a command that did not map its own errors
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(2)
        except Exception as exc:  # a bug: one line, exit 3
            sys.stderr.write(
                f"error: internal error ({type(exc).__name__}: {exc}); please report it with "
                "the command that caused it\n"
            )
            sys.exit(3)
        sys.exit(code if isinstance(code, int) else 0)


def run() -> None:
    """The ``circles`` command: run it, then end the process without tearing the heap down.

    A city audit leaves hundreds of thousands of objects alive; freeing them one by one at
    interpreter exit takes a quarter of a second and achieves nothing. Once the command has
    finished (its files moved into place, its output flushed) the process ends at once.
    An unexpected exception still ends the normal way, with its traceback.
    """
    try:
        app(prog_name="circles")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        # a reader that went away, or a closed stream, has nothing left to receive
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code or 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="circles",
    help="Audit how well residents reach everyday facilities on the street network: Wuhan's "
    "service circles and the GB 50180 life circles, population-weighted, by community.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False)
rules_app = typer.Typer(
    cls=_OneLineErrors,
    help="Check, list and show rule files; print their JSON Schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(rules_app, name="rules")
facilities_app = typer.Typer(
    cls=_OneLineErrors,
    help="Look at facility files: how source POI categories map to facility types.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(facilities_app, name="facilities")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"circles {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Audit how well residents reach everyday facilities on the street network."""


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _parse_coords(given: list[str], project: Any) -> dict[str, str]:
    """``--coords`` values (``LAYER=SYSTEM`` or a bare ``SYSTEM``) as a layer → system map."""
    out: dict[str, str] = {}
    if isinstance(project, list) and len(project) == 1 and isinstance(project[0], str):
        project = project[0]
    if isinstance(project, str):
        out["*"] = project.strip().lower()
    elif isinstance(project, dict):
        out.update({str(k): str(v).strip().lower() for k, v in project.items()})
    elif project is not None:
        raise ProjectFileError(
            "coords in the project file: give a system (gcj02) or a mapping of layer to system"
        )
    for item in given:
        layer, sep, system = item.partition("=")
        if sep:
            out[layer.strip()] = system.strip().lower()
        else:
            out["*"] = layer.strip().lower()
    return out


def _pick(cli: Any, project: dict[str, Any], key: str, default: Any = None) -> Any:
    """The option's value: the command line first, then the project file, then the default."""
    if cli is not None and cli not in ([], ()):
        return cli
    return project.get(key, default)


@app.command()
def audit(
    project: Annotated[
        Path | None,
        typer.Argument(
            help="Project file (circles.yaml) holding the options below; options given on the "
            "command line win.",
            show_default=False,
        ),
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="Street network: an OSM extract (.osm.pbf; walkable ways only) or a "
            "line layer (GPKG/GeoJSON/SHP) whose lines meet at shared end points. Every line "
            "is kept: parallel lines between two junctions are separate edges, and a closed "
            "line is a loop reached either way round."
        ),
    ] = None,
    facilities: Annotated[
        Path | None,
        typer.Option(
            help="Facility points (GPKG/GeoJSON/SHP/GeoParquet, or a CSV, .xlsx or Parquet "
            "table with lon/lat or x/y columns; FILE.gpkg:LAYER or FILE.xlsx:SHEET picks one); "
            "polygons are taken at a representative point. An Amap/Baidu POI export or a POI "
            "table with OSM tags is classified through rules/facilities.yaml (an Amap export "
            "without --coords is read as GCJ-02, with a warning); an OSM extract (.osm.pbf, "
            ".osm) gives its POIs carrying a catalogue tag (nodes, and ways and relations at a "
            "point inside them)."
        ),
    ] = None,
    residents: Annotated[
        Path | None,
        typer.Option(help="Residents (compounds, buildings) as points or polygons, same formats."),
    ] = None,
    communities: Annotated[
        Path | None,
        typer.Option(
            help="Community (社区) polygons; without it, --community-field is read from "
            "the residents."
        ),
    ] = None,
    zones: Annotated[
        Path | None,
        typer.Option(
            help="Zone polygons for circles with per-zone thresholds (the EMS circle); their "
            "--zone-field holds a zone id (central) or a district name the rules list (江岸区).",
            show_default=False,
        ),
    ] = None,
    zone_field: Annotated[
        str | None,
        typer.Option(
            help="Zone id or district name column of --zones. [default: zone]", show_default=False
        ),
    ] = None,
    coords: Annotated[
        list[str] | None,
        typer.Option(
            help="Coordinate system of an input layer given in longitude/latitude: "
            "LAYER=wgs84|gcj02|bd09 (LAYER: facilities, residents, communities, zones, "
            "planned), or a bare system for every layer in longitude/latitude (projected "
            "layers keep their CRS); GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are converted "
            "to WGS 84. Repeatable.",
            show_default=False,
        ),
    ] = None,
    rules: Annotated[
        list[str] | None,
        typer.Option(
            help="Rule file, folder or bundled preset name (repeatable). "
            "[default: the bundled wuhan preset]",
            show_default=False,
        ),
    ] = None,
    circle: Annotated[
        list[str] | None,
        typer.Option(
            "--circle",
            help="Circle id to evaluate (repeatable). [default: all]",
            show_default=False,
        ),
    ] = None,
    facility_type_field: Annotated[
        str | None,
        typer.Option(
            help="Facility type column holding catalogue ids. [default: `type` when it holds "
            "catalogue ids; an Amap/Baidu export (typecode, type string, 大类/中类[/小类] in the "
            "older or newer labels such as 医疗保健/综合医院, or names alone) or OSM tags "
            "(amenity=school…) are classified through rules/facilities.yaml instead; see "
            "circles facilities classify]",
            show_default=False,
        ),
    ] = None,
    facility_id_field: Annotated[
        str | None,
        typer.Option(
            help="Facility id column. [default: id, else row numbers]", show_default=False
        ),
    ] = None,
    facility_name_field: Annotated[
        str | None,
        typer.Option(
            help="Facility name column; hubs match line-haul tables by id or name. [default: name]",
            show_default=False,
        ),
    ] = None,
    population_field: Annotated[
        str | None,
        typer.Option(
            help="Population column of the residents; where it is absent or empty, "
            "households × --persons-per-household, else a weight of 1, with a warning. "
            "[default: population]",
            show_default=False,
        ),
    ] = None,
    resident_id_field: Annotated[
        str | None,
        typer.Option(
            help="Resident id column. [default: id, else row numbers]", show_default=False
        ),
    ] = None,
    households_field: Annotated[
        str | None,
        typer.Option(
            help="Households column (户数) of the residents; population = households × "
            "--persons-per-household where the population is absent. [default: households or "
            "户数 when present]",
            show_default=False,
        ),
    ] = None,
    persons_per_household: Annotated[
        float | None,
        typer.Option(
            help="Persons per household for --households-field. [default: 2.62, China's 2020 "
            "census national average]",
            show_default=False,
        ),
    ] = None,
    subdistrict_field: Annotated[
        str | None,
        typer.Option(
            help="Sub-district (街道) column of --communities; coverage rolls up to it. "
            "[default: subdistrict or 街道 when present]",
            show_default=False,
        ),
    ] = None,
    community_field: Annotated[
        str | None,
        typer.Option(
            help="Community id/name column of --communities (or of the residents). "
            "[default: community]",
            show_default=False,
        ),
    ] = None,
    walk_speed: Annotated[
        float | None,
        typer.Option(
            help="Walking speed in metres per minute, overriding the rules' speed for a "
            "scenario (e.g. 48 for elderly residents).",
            show_default=False,
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            help="Metric CRS to measure in (e.g. EPSG:32650), also assumed for layers "
            "that carry no CRS. [default: the local UTM zone]",
            show_default=False,
        ),
    ] = None,
    max_snap: Annotated[
        float | None,
        typer.Option(
            help="Points farther than this many metres from the network are flagged "
            "off_network and count as not covered. [default: 250]",
            show_default=False,
        ),
    ] = None,
    road_class_field: Annotated[
        str | None,
        typer.Option(
            help="Road class column of a centre-line network, for driving speeds. "
            "[default: highway, when present]",
            show_default=False,
        ),
    ] = None,
    speed_field: Annotated[
        str | None,
        typer.Option(
            help="Speed column (km/h) of a centre-line network; used before the class "
            "speed. [default: maxspeed, when present]",
            show_default=False,
        ),
    ] = None,
    oneway_field: Annotated[
        str | None,
        typer.Option(
            help="One-way column of a centre-line network (yes/true/1/t/ft: along the "
            "line; -1/reverse/tf: against it; no/false/0/f or empty: both ways; other "
            "values are read as both ways, with a warning). [default: oneway, when present]",
            show_default=False,
        ),
    ] = None,
    min_component_nodes: Annotated[
        int | None,
        typer.Option(
            help="Components of the network with fewer nodes are fragments (never the "
            "largest); points nearest to a fragment are flagged off_network. [default: 50]",
            show_default=False,
        ),
    ] = None,
    split_crossings: Annotated[
        bool | None,
        typer.Option(
            "--split-crossings/--no-split-crossings",
            help="Centre-lines: split lines where they cross, except across levels (bridge, "
            "tunnel, layer columns), and where an end rests on another line; every split is "
            "listed in network_issues.csv. [default: only when the lines look drawn without "
            "junctions: crossings on 10 % of the lines and half the nodes on fragments]",
            show_default=False,
        ),
    ] = None,
    join_ends: Annotated[
        float | None,
        typer.Option(
            help="Centre-lines: join a dangling line end to the nearest line within this many "
            "metres by a straight connector (walked); listed in network_issues.csv. "
            "[default: 0, off]",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Travel-time engine: builtin (bounded multi-source searches, no preprocessing) "
            "or pandana (contraction hierarchies, rebuilt every run). [default: builtin]",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Build the network from the extract even when the cache holds it (the cache "
            "lives in $CIRCLES_CACHE_DIR, else ~/.cache/circles).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Report folder. [default: ./circles-report]", show_default=False
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace report files already in --out.")
    ] = False,
    planned: Annotated[
        Path | None,
        typer.Option(
            help="Planned facilities (same formats as --facilities): the audit runs for the "
            "status quo and with them added; the planned report goes to OUT/planned/ and "
            "comparison.csv/.xlsx show the change per circle, requirement and community.",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the workbook and maps: en or zh.")] = "en",
    maps: Annotated[
        bool, typer.Option("--maps", help="Also write one PNG map per circle to OUT/maps/.")
    ] = False,
    excel_residents: Annotated[
        bool,
        typer.Option("--excel-residents", help="Add every resident as a sheet of report.xlsx."),
    ] = False,
    fail_on_gaps: Annotated[
        bool,
        typer.Option("--fail-on-gaps", help="Exit with code 1 when any requirement has a gap."),
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
    timings: Annotated[
        bool,
        typer.Option(
            "--timings", help="Print the time of each stage and the peak memory to stderr."
        ),
    ] = False,
) -> None:
    """Audit the circles on a street network and write the report folder."""
    from circles.audit import (
        DEFAULT_MAX_SNAP_M,
        DEFAULT_MIN_COMPONENT_NODES,
        DEFAULT_PERSONS_PER_HOUSEHOLD,
        AuditOptions,
    )

    try:
        from circles.project import load_project

        proj = load_project(project) if project is not None else {}
        paths = {
            key: _pick(value, proj, key)
            for key, value in (
                ("network", network),
                ("facilities", facilities),
                ("residents", residents),
            )
        }
        missing = [f"--{k}" for k, v in paths.items() if v is None]
        if missing:
            raise ProjectFileError(
                f"missing {', '.join(missing)}; give them as options or in a project file "
                "(circles audit PROJECT.yaml)"
            )
        options = AuditOptions(
            network=Path(paths["network"]),
            facilities=Path(paths["facilities"]),
            residents=Path(paths["residents"]),
            communities=_pick(communities, proj, "communities"),
            zones=_pick(zones, proj, "zones"),
            planned=_pick(planned, proj, "planned"),
            zone_field=_pick(zone_field, proj, "zone_field", "zone"),
            coords=_parse_coords(coords or [], proj.get("coords")),
            facility_name_field=_pick(facility_name_field, proj, "facility_name_field", "name"),
            road_class_field=_pick(road_class_field, proj, "road_class_field"),
            speed_field=_pick(speed_field, proj, "speed_field"),
            oneway_field=_pick(oneway_field, proj, "oneway_field"),
            rules=list(_pick(rules, proj, "rules", [])),
            circle_ids=list(_pick(circle, proj, "circles", [])),
            facility_type_field=_pick(facility_type_field, proj, "facility_type_field"),
            households_field=_pick(households_field, proj, "households_field"),
            persons_per_household=float(
                _pick(
                    persons_per_household,
                    proj,
                    "persons_per_household",
                    DEFAULT_PERSONS_PER_HOUSEHOLD,
                )
            ),
            subdistrict_field=_pick(subdistrict_field, proj, "subdistrict_field"),
            facility_id_field=_pick(facility_id_field, proj, "facility_id_field", "id"),
            population_field=_pick(population_field, proj, "population_field", "population"),
            resident_id_field=_pick(resident_id_field, proj, "resident_id_field", "id"),
            community_field=_pick(community_field, proj, "community_field", "community"),
            walk_speed_m_per_min=_pick(walk_speed, proj, "walk_speed"),
            crs=_pick(crs, proj, "crs"),
            max_snap_m=float(_pick(max_snap, proj, "max_snap", DEFAULT_MAX_SNAP_M)),
            min_component_nodes=int(
                _pick(min_component_nodes, proj, "min_component_nodes", DEFAULT_MIN_COMPONENT_NODES)
            ),
            split_crossings=_pick(split_crossings, proj, "split_crossings"),
            join_ends_m=float(_pick(join_ends, proj, "join_ends", 0.0)),
            engine=str(_pick(engine, proj, "engine", "builtin")),
            cache=not no_cache,
        )
        out_dir = Path(_pick(out, proj, "out", Path("circles-report")))
        if lang not in ("en", "zh"):
            raise ProjectFileError(f"--lang {lang!r}: use en or zh")
        from circles.inputs.read import check_out_folder

        check_out_folder(
            out_dir,
            [
                *(options.network, options.facilities, options.residents, options.communities),
                *(options.zones, options.planned, *options.rules, project),
            ],
        )
        result = _run(
            options,
            out_dir,
            overwrite=overwrite,
            quiet=quiet,
            timings=timings,
            report={"lang": lang, "maps": maps, "excel_residents": excel_residents},
        )
    except RuleError as exc:
        if debug:
            traceback.print_exc()
        _rule_problems(exc)
        return
    except CirclesError as exc:
        if debug:
            traceback.print_exc()
        _fail(str(exc))
        return
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: say so, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        _fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report "
            "the traceback",
            code=3,
        )
        return
    if fail_on_gaps and result:
        raise typer.Exit(1)


def _run(
    options: Any,
    out_dir: Path,
    *,
    overwrite: bool,
    quiet: bool,
    timings: bool,
    report: dict[str, Any],
) -> bool:
    """Run the audit with progress on stderr, write the report, print the summary table.

    Returns True when any requirement has a gap overall or in a community.
    """
    import importlib
    import resource
    import threading
    import time

    from circles.audit import STAGES, run_audit

    marks: list[tuple[str, float]] = [("start", time.perf_counter())]
    # the report writer (openpyxl) is imported while the networks snap, when the main thread
    # waits on work that runs without the GIL
    writer = threading.Thread(
        target=importlib.import_module, args=("circles.report.files",), daemon=True
    )

    def mark(stage: str) -> None:
        marks.append((stage, time.perf_counter()))
        if stage == "snap" and writer.ident is None:  # not started yet
            writer.start()

    planned_path = options.planned
    if planned_path is not None:
        options = dataclasses.replace(options, planned=None)
    residents_csv: list[Any] = []  # formatted while the audit works out coverage

    def on_residents(table: Any) -> None:
        from circles.report.files import PendingCsv

        residents_csv.append(PendingCsv(table))

    try:
        if quiet:
            result = run_audit(options, progress=mark, on_residents=on_residents)
            planned = (
                run_audit(dataclasses.replace(options, planned=planned_path))
                if planned_path
                else None
            )
        else:
            with err.status("starting", spinner="dots") as status:

                def show(stage: str) -> None:
                    mark(stage)
                    status.update(STAGES.get(stage, stage) + "…")

                result = run_audit(options, progress=show, on_residents=on_residents)
                planned = None
                if planned_path is not None:
                    status.update("auditing with the planned facilities…")
                    planned = run_audit(dataclasses.replace(options, planned=planned_path))
    finally:
        if writer.ident is not None:  # no thread of the command outlives the audit
            writer.join()
    comparison = None
    if planned is not None:
        from circles.evaluate.compare import compare

        comparison = compare(result.coverage, planned.coverage, result.residents, planned.residents)
    mark("write")
    from circles.report.files import write_report
    from circles.report.terminal import render

    map_warnings: list[str] = []
    write_report(
        result,
        out_dir,
        overwrite=overwrite,
        planned=planned,
        comparison=comparison,
        warnings=map_warnings,
        residents_csv=residents_csv[0] if residents_csv else None,
        **report,
    )
    mark("end")
    if timings:
        for (stage, begin), (_, end) in itertools.pairwise(marks[1:]):
            err.print(f"timing: {stage} {end - begin:.3f} s", highlight=False)
        err.print(f"timing: total {marks[-1][1] - marks[0][1]:.3f} s", highlight=False)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        err.print(f"timing: peak_rss {peak_kib / 1024:.0f} MiB", highlight=False)
    if not quiet:
        console = Console(highlight=False)
        render(console, result.summary, result.coverage)
        if comparison is not None:
            from circles.report.compare_report import render_comparison

            render_comparison(console, comparison)
        for warning in map_warnings:
            err.print(f"[yellow]warning: {warning}[/]", markup=True)
        err.print(f"report written to {out_dir}/", highlight=False)
    gaps = result.coverage["is_gap"]
    return bool(gaps.apply(lambda g: g is True).any())


# --------------------------------------------------------------------------- circles rules


def _rule_problems(exc: CirclesError) -> None:
    lines = exc.problems if isinstance(exc, RuleError) else [str(exc)]
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    count = len(lines)
    err.print(
        f"[bold red]error:[/] {count} problem{'s' if count != 1 else ''} in the rule files",
        markup=True,
    )
    raise typer.Exit(2)


@rules_app.command("check")
def rules_check(
    paths: Annotated[
        list[str],
        typer.Argument(help="Rule files, folders or bundled preset names (wuhan, gb50180)."),
    ],
) -> None:
    """Validate rule files: exit 0 when all are valid, 2 with every problem listed otherwise."""
    from circles.rules.load import load_rules

    try:
        loaded = load_rules(paths)
    except CirclesError as exc:
        _rule_problems(exc)
        return
    files = len({lc.path for lc in loaded})
    typer.echo(
        f"ok: {len(loaded)} circles in {files} files: " + ", ".join(lc.circle.id for lc in loaded)
    )


@rules_app.command("list")
def rules_list(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Rule files, folders or preset names. [default: every bundled preset]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the circles of rule files with their model and requirements."""
    from circles.report.rules_view import circles_table
    from circles.rules.load import load_rules, preset_names, presets_root

    try:
        loaded = load_rules(paths or preset_names())
    except CirclesError as exc:
        _rule_problems(exc)
        return
    Console(highlight=False).print(circles_table(loaded, base=presets_root()))


@rules_app.command("show")
def rules_show(
    circle_id: Annotated[str, typer.Argument(help="The circle id (see circles rules list).")],
    rules: Annotated[
        list[str] | None,
        typer.Option(
            help="Rule files, folders or preset names to look in. [default: every bundled preset]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show one circle's requirements with thresholds, targets and their sources."""
    from circles.report.rules_view import requirements_table
    from circles.rules.load import load_rules, preset_names

    try:
        (loaded,) = load_rules(rules or preset_names(), circle_ids=[circle_id])
    except CirclesError as exc:
        _rule_problems(exc)
        return
    Console(highlight=False).print(requirements_table(loaded))


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file (for editor completion)."""
    from circles.rules.docs import json_schema_text

    typer.echo(json_schema_text(), nl=False)


@rules_app.command("docs")
def rules_docs(
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite rules/schema.json and rules/README.md.")
    ] = False,
) -> None:
    """Check (or with --write, rewrite) the generated schema and rule reference."""
    from circles.rules.docs import json_schema_text, readme_with_reference, write_docs
    from circles.rules.load import presets_root

    root = presets_root()
    if write:
        for path in write_docs(root):
            typer.echo(f"wrote {path}")
        return
    schema = root / "schema.json"
    readme = root / "README.md"
    stale = []
    if not schema.exists() or schema.read_text(encoding="utf-8") != json_schema_text():
        stale.append(str(schema))
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if readme_with_reference(text) != text:
        stale.append(str(readme))
    if stale:
        _fail(f"stale: {', '.join(stale)}; run circles rules docs --write")
    typer.echo("generated rule docs are current")


# --------------------------------------------------------------------------- circles facilities


@facilities_app.command("classify")
def facilities_classify(
    path: Annotated[
        Path,
        typer.Argument(
            help="POI file: an Amap/Baidu CSV export, a layer (OSM tags as columns, a `tags` "
            "JSON or `other_tags` column), or an OSM extract (.osm.pbf)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--out",
            help="Also write every row with its facility type to this CSV.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out if it exists.")
    ] = False,
) -> None:
    """Show how a POI file's categories map to facility types, without running an audit.

    Each row gets the type of the first rule that matches, in this order: Amap typecode, full
    type string (大类;中类;小类, Baidu 一级;二级), a label of Amap's newer tree at any level
    (医疗保健;综合医院, 社区卫生服务中心; deepest first), OSM tags (amenity=school,
    isced:level=1…), then name keywords (for every type; not for categories such as 餐饮 or
    公司企业 that hold no facility). `exclude` words in the name veto a type. The tables show,
    per category, which rule matched and the counts; --out keeps `facility_type`, `matched_by`
    and `rule` for every row.
    """
    from circles.catalogue.poi import classify_file
    from circles.report.classify_view import classification_tables

    try:
        frame, result = classify_file(path)
        if out is not None:
            if out.exists() and not overwrite:
                from circles.errors import OutputError

                raise OutputError(f"{out} exists; pass --overwrite to replace it")
            table = frame.drop(columns=[frame.geometry.name]).assign(
                facility_type=result["facility_type"],
                matched_by=result["matched_by"],
                rule=result["rule"],
            )
            try:
                table.to_csv(out, index=False, encoding="utf-8")
            except OSError as exc:
                from circles.errors import OutputError

                raise OutputError(f"cannot write {out} ({exc}); choose another --out") from exc
    except CirclesError as exc:
        _fail(str(exc))
        return
    console = Console(highlight=False)
    for table in classification_tables(result):
        console.print(table)


# --------------------------------------------------------------------------- circles compare


@app.command("compare")
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
) -> None:
    """Compare two audits: coverage before, after and the change, and who newly meets what."""
    from circles.evaluate.compare import compare
    from circles.report.compare_report import read_report, render_comparison, write_comparison

    try:
        _, cov_before, res_before = read_report(before)
        _, cov_after, res_after = read_report(after)
        comparison = compare(cov_before, cov_after, res_before, res_after)
        if out is not None:
            write_comparison(out, comparison, lang=lang, overwrite=overwrite)
    except CirclesError as exc:
        _fail(str(exc))
        return
    render_comparison(Console(highlight=False), comparison)
    if out is not None:
        err.print(f"comparison written to {out}/", highlight=False)
