"""Project files: a ``circles.yaml`` holding the same keys as the ``circles audit`` options."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from circles.errors import ProjectFileError
from circles.rules.yaml_limits import bomb_message, shown, too_large
from circles.settings import edges, kind_of

# the keys project files accept, by kind, all derived from the Settings model
_KEY_KIND = {edge.key: (kind_of(name), edge.give) for name, edge in edges() if edge.key}
KEYS = set(_KEY_KIND)
PATH_KEYS = {key for key, (kind, _) in _KEY_KIND.items() if kind == "path"}
LIST_KEYS = {key for key, (kind, _) in _KEY_KIND.items() if kind == "list"}
NUMBER_KEYS = {key: give for key, (kind, give) in _KEY_KIND.items() if kind == "float"}
BOOL_KEYS = {key: give for key, (kind, give) in _KEY_KIND.items() if kind == "bool"}
INTEGER_KEYS = {key: give for key, (kind, give) in _KEY_KIND.items() if kind == "int"}
MAPPING_KEYS = {key for key, (kind, _) in _KEY_KIND.items() if kind == "mapping"}


def _typed(path: Path, key: str, value: Any) -> Any:
    """Check a value's type: numbers where numbers go, text (or lists of text) elsewhere."""
    if key in NUMBER_KEYS or key in BOOL_KEYS or key in INTEGER_KEYS:
        return _typed_scalar(path, key, value)
    if key in MAPPING_KEYS:
        return value
    if key in LIST_KEYS:
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise ProjectFileError(f"{path}: {key} must be a name or a list of names")
        return [str(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProjectFileError(
            f"{path}: {key} {shown(value)} must be a single value, not a list or mapping"
        )
    return str(value)


def _typed_scalar(path: Path, key: str, value: Any) -> Any:
    """A number, a whole number, or true/false/auto (None), as the key takes."""
    if key in NUMBER_KEYS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProjectFileError(
                f"{path}: {key} {shown(value)} is not a number; give {NUMBER_KEYS[key]}"
            )
        return float(value)
    if key in BOOL_KEYS:
        if value == "auto":
            return None
        if not isinstance(value, bool):
            raise ProjectFileError(
                f"{path}: {key} {value!r} is not true, false or auto; give {BOOL_KEYS[key]}"
            )
        return value
    if key in INTEGER_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProjectFileError(
                f"{path}: {key} {shown(value)} is not a whole number; give {INTEGER_KEYS[key]}"
            )
        return value
    return value


def load_project(path: Path) -> dict[str, Any]:
    """Read a project file; paths in it are taken relative to the file's folder.

    Raises
    ------
    ProjectFileError
        When the file is unreadable, not a mapping, or names an unknown key.
    """
    return project_values(read_mapping(path), path)


def project_values(data: dict, path: Path, base: Path | None = None) -> dict[str, Any]:
    """A mapping of project-file keys checked and typed as :func:`load_project` does.

    ``path`` names the file in messages; relative paths are taken against ``base`` (default:
    the file's folder). ``circles batch`` reads its manifest's shared keys through this.

    Raises
    ------
    ProjectFileError
        When a key is unknown or a value does not fit its key.
    """
    base = path.parent if base is None else base
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), sorted(KEYS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ProjectFileError(
                f"{path}: unknown key {key!r}; {hint}keys are the circles audit options: "
                f"{', '.join(sorted(KEYS))}"
            )
        if key in LIST_KEYS and not isinstance(value, list):
            value = [value]
        if value is None:
            continue
        value = _typed(path, key, value)
        if key in PATH_KEYS:
            value = base / str(value)
        elif key == "rules":
            value = [base / str(v) if (base / str(v)).exists() else str(v) for v in value]
        out[key] = value
    return out


def read_mapping(path: Path) -> dict:
    """A project file's (or batch manifest's) mapping, read under the YAML limits.

    An empty file is an empty mapping.

    Raises
    ------
    ProjectFileError
        When the file is missing, unreadable, not YAML, too large once expanded, or not a
        mapping.
    """
    if not path.exists():
        raise ProjectFileError(f"project file {path} does not exist; check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ProjectFileError(f"cannot read project file {path} ({exc.strerror})") from exc
    try:
        data = YAML(typ="safe").load(text)
    except RecursionError as exc:
        raise ProjectFileError(f"{path}: values nested too deeply; flatten the file") from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ProjectFileError(f"{where}: YAML syntax error: {exc.problem}") from exc
    except YAMLError as exc:
        raise ProjectFileError(f"{path}: YAML syntax error: {exc}") from exc
    if too_large(data):
        raise ProjectFileError(f"{path}: {bomb_message()}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectFileError(f"{path}: a project file is a mapping of option names to values")
    return data
