"""Command-line interface (Typer): the ``circles`` app, its commands and the process exit.

Each command lives in its own module (``audit``, ``rules``, ``facilities``, ``compare``): it
parses its options, calls the library and maps exceptions to exit codes (:mod:`.exits`).
Exit codes: 0 ran; 1 gaps found with ``--fail-on-gaps``; 2 usage, rule or input error;
3 internal error (a bug: rerun with ``--debug`` and report the traceback).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, Any

import typer

from circles import __version__
from circles.cli.audit import audit
from circles.cli.batch import batch
from circles.cli.compare import compare_command
from circles.cli.exits import OneLineErrors
from circles.cli.facilities import facilities_app
from circles.cli.rules import rules_app
from circles.cli.suggest import suggest

app = typer.Typer(
    cls=OneLineErrors,
    name="circles",
    help="Audit how well residents reach everyday facilities on the street network: Wuhan's "
    "service circles and the GB 50180 life circles, population-weighted, by community.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(rules_app, name="rules")
app.add_typer(facilities_app, name="facilities")
app.command("audit")(audit)
app.command("compare")(compare_command)
app.command("suggest")(suggest)
app.command("batch")(batch)


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


__all__ = ["app", "run"]
