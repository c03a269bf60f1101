"""A settings model's fields: their kinds, defaults and project keys; edge values merged into one.

Every function takes the model class (default :class:`~circles.settings.model.Settings`), so a
model with one more field gets that field everywhere: CLI, project file, summary.json.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from circles.errors import InputDataError, ProjectFileError
from circles.settings.edge import Edge, edge_of
from circles.settings.model import Settings

REQUIRED_PATHS = ("network", "facilities", "residents")


def edges(model: type[Settings] = Settings) -> Iterator[tuple[str, Edge]]:
    """Every field's name with its :class:`Edge`, in the model's order."""
    for name, info in model.model_fields.items():
        yield name, edge_of(info)


def field_info(name: str, model: type[Settings] = Settings) -> FieldInfo:
    """A field's pydantic information (type, default, description)."""
    return model.model_fields[name]


def default_of(name: str, model: type[Settings] = Settings) -> Any:
    """A field's default value (SI), or None when it has none."""
    info = field_info(name, model)
    return None if info.is_required() else info.get_default(call_default_factory=True)


def kind_of(name: str, model: type[Settings] = Settings) -> str:
    """A field's kind: path, list, mapping, float, int, bool or text."""
    annotation = field_info(name, model).annotation
    origin = typing.get_origin(annotation)
    if origin is list:
        return "list"
    if origin is dict:
        return "mapping"
    args = set(typing.get_args(annotation)) - {type(None)} or {annotation}
    for kind, cls in (("path", Path), ("bool", bool), ("int", int), ("float", float)):
        if cls in args:
            return kind
    return "text"


def project_keys(model: type[Settings] = Settings) -> dict[str, str]:
    """Project-file key → field name, for every field read from project files."""
    return {edge.key: name for name, edge in edges(model) if edge.key is not None}


def to_edge(name: str, value: Any, model: type[Settings] = Settings) -> Any:
    """A field's value in the units users see (CLI, project file, summary.json)."""
    return edge_of(field_info(name, model)).to_edge(value)


def _given(value: Any) -> bool:
    return value is not None and value not in ([], ())


def merge(
    project: Mapping[str, Any], cli: Mapping[str, Any], model: type[Settings] = Settings
) -> Settings:
    """Settings from a project file's values and the command line's: the command line wins.

    Parameters
    ----------
    project
        Values by project-file key, in edge units (as :func:`circles.project.load_project`
        returns them).
    cli
        Values by field name, in edge units; None (or an empty list, or False for an inverted
        switch) means not given. Mappings (``coords``) merge key by key.
    model
        The settings model to build.

    Raises
    ------
    ProjectFileError
        When a path the audit needs (network, facilities, residents) is given nowhere.
    InputDataError
        When a value does not fit its option.
    """
    by_key = project_keys(model)
    values: dict[str, Any] = {}
    for key, value in project.items():
        values[by_key[key]] = edge_of(field_info(by_key[key], model)).from_edge(value)
    for name, value in cli.items():
        edge = edge_of(field_info(name, model))
        if not _given(value) or (edge.invert and value is False):
            continue
        value = edge.from_edge(value)
        if isinstance(value, dict):
            value = {**values.get(name, {}), **value}
        values[name] = value
    missing = [f"--{name}" for name in REQUIRED_PATHS if values.get(name) is None]
    if missing:
        raise ProjectFileError(
            f"missing {', '.join(missing)}; give them as options or in a project file "
            "(circles audit PROJECT.yaml)"
        )
    try:
        return model(**values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        where = edge_of(field_info(name, model)) if name in model.model_fields else None
        shown = where.flags(name)[-1] if where else name
        raise InputDataError(
            f"{shown} {problem.get('input')!r}: {problem['msg']}; see circles audit --help"
        ) from exc
