"""``circles rules``: check, list and show rule files; print their JSON Schema and reference."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from circles.cli.exits import OneLineErrors, fail, rule_problems
from circles.errors import CirclesError

rules_app = typer.Typer(
    cls=OneLineErrors,
    help="Check, list and show rule files; print their JSON Schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
        rule_problems(exc)
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
        rule_problems(exc)
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
        rule_problems(exc)
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
        fail(f"stale: {', '.join(stale)}; run circles rules docs --write")
    typer.echo("generated rule docs are current")
