"""The documentation keeps up with the code: every CLI command and option is documented, and
the tests use the package through its public names only."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from circles.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "rules" / "README.md")

# Test modules still importing a private name from a module being restructured (issue 12):
# (test file, module, name). Delete an entry when its module is split and the name made public.
PRIVATE_IMPORTS_PENDING: set[tuple[str, str, str]] = set()


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the click tree under ``command``, with its path of names."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _documented(word: str, text: str) -> bool:
    """Whether ``word`` stands in ``text`` as a whole word (``--out`` is not ``--out-dir``)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _cli_words() -> list[str]:
    """The command paths (``circles rules check``) and every long option (``--out``) of each."""
    words = []
    for path, command in _commands(typer.main.get_command(app), ("circles",)):
        words.append(" ".join(path))
        for param in command.params:
            if getattr(param, "param_type_name", "") != "option" or param.hidden:
                continue
            names = (*param.opts, *param.secondary_opts)
            words += [f"{' '.join(path)} {name}" for name in names if name.startswith("--")]
    return words


@pytest.mark.parametrize("word", _cli_words())
def test_every_command_and_option_is_documented(word: str) -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    command, _, option = word.partition(" --")
    if option:
        assert _documented(f"--{option}", text), f"{command}: --{option} is in neither README"
    else:
        assert _documented(command, text), f"command {command!r} is in neither README"


def _private_imports(path: Path) -> Iterator[tuple[str, str]]:
    """``(module, name)`` of every private name a test module imports from the package."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "circles":
            module = node.module or ""
            for alias in node.names:
                name = alias.name
                private_module = any(part.startswith("_") for part in module.split("."))
                if private_module or (name.startswith("_") and not name.startswith("__")):
                    yield module, name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "circles" and any(p.startswith("_") for p in parts):
                    yield alias.name, ""


def test_tests_import_public_names_only() -> None:
    found = {
        (path.name, module, name)
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for module, name in _private_imports(path)
    }
    new = sorted(found - PRIVATE_IMPORTS_PENDING)
    assert not new, f"tests import private names (make them public): {new}"
    gone = sorted(PRIVATE_IMPORTS_PENDING - found)
    assert not gone, f"no longer imported; delete from PRIVATE_IMPORTS_PENDING: {gone}"


def test_public_api_names_resolve() -> None:
    import circles

    for name in circles.__all__:
        assert getattr(circles, name) is not None, name
    from circles.audit import run_audit
    from circles.errors import CirclesError

    assert circles.run_audit is run_audit and circles.CirclesError is CirclesError


def test_every_package_is_installed() -> None:
    """pyproject.toml lists every package under circles/ (an installed circles lacks the rest)."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "circles").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
