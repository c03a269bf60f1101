"""Errors to exit codes: one line on stderr, 2 for the user's errors, 3 for a bug.

Exit codes: 0 ran; 1 gaps found with ``--fail-on-gaps``; 2 usage, rule or input error;
3 internal error (a bug: rerun with ``--debug`` and report the traceback).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from circles.errors import CirclesError, RuleError

try:  # typer vendors click since 0.20; older typers use click itself
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exc  # type: ignore[no-redef]
# typer 0.29 keeps Abort in typer.exceptions, not in its vendored click's exceptions
_Abort: Any = getattr(_click_exc, "Abort", None) or getattr(typer, "Abort", RuntimeError)

err = Console(stderr=True, highlight=False)


class OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, an unknown option) as one line, exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Run the command; map what escapes it to one line on stderr and an exit code."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
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


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and end the command with ``code``."""
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def rule_problems(exc: CirclesError) -> None:
    """Print every problem of the rule files, then their count; end the command with 2."""
    lines = exc.problems if isinstance(exc, RuleError) else [str(exc)]
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    count = len(lines)
    err.print(
        f"[bold red]error:[/] {count} problem{'s' if count != 1 else ''} in the rule files",
        markup=True,
    )
    raise typer.Exit(2)


@contextlib.contextmanager
def reported(debug: bool, *, first_line: bool = False) -> Iterator[None]:
    """End a command the way every command ends on an error.

    Rule problems are listed and a user error (:class:`CirclesError`) is one line, exit 2
    (``first_line``: only the first line of a longer message); anything else is a bug, exit 3,
    said in one line. ``debug`` shows the traceback first.
    """
    try:
        yield
    except typer.Exit:
        raise
    except RuleError as exc:
        if debug:
            traceback.print_exc()
        rule_problems(exc)
    except CirclesError as exc:
        if debug:
            traceback.print_exc()
        message = str(exc)
        if first_line:
            message = message.splitlines()[0] if message else type(exc).__name__
        fail(message)
    except Exception as exc:  # a bug: say so, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report "
            "the traceback",
            code=3,
        )
