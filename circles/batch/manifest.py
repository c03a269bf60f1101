"""Batch manifests: the shared project keys and the units (project files, mappings or a partition).

A manifest (``MANIFEST.yaml``) holds the keys of a project file, shared by every unit, and
either ``units:`` — a list whose items are project files (paths relative to the manifest's
folder; the unit's keys win over the shared ones) or mappings of project keys with a ``name:`` —
or ``partition: {by: POLYGONS, field: COLUMN}``, one dataset split into one unit per polygon
(per value of ``field``). It is read under the same YAML limits as project files.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from circles.errors import ManifestError, ProjectFileError
from circles.inputs.read import split_layer
from circles.project import KEYS, load_project, project_values, read_mapping

#: The keys a manifest holds besides the project-file keys
BATCH_KEYS = ("units", "partition")
#: The keys of ``partition:``
PARTITION_KEYS = ("by", "field")
#: Keys circles batch sets itself for every unit
RESERVED_KEYS = ("out", "planned")
_SAFE_NAME = re.compile(r"^[^/\\:*?\"<>|\x00-\x1f]+$")


@dataclass(frozen=True)
class Partition:
    """``partition:``: the polygon layer and the column naming each unit (None: row numbers)."""

    by: Path
    field: str | None = None


@dataclass
class Unit:
    """One unit of a batch: its name and its project keys (shared keys merged, unit's win)."""

    name: str
    keys: dict[str, Any]
    project: Path | None = None


@dataclass
class Manifest:
    """A read manifest: the shared keys, and the units or the partition (exactly one)."""

    path: Path
    shared: dict[str, Any]
    units: list[Unit] = field(default_factory=list)
    partition: Partition | None = None


def _unknown(path: Path, key: str, where: str = "") -> ManifestError:
    known = sorted([*KEYS, *BATCH_KEYS])
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ManifestError(
        f"{path}: unknown key {where}{key!r}; {hint}a manifest holds the project-file keys "
        "(see circles audit --help) and either units: or partition:"
    )


def load_manifest(path: Path) -> Manifest:
    """Read and check a batch manifest.

    Raises
    ------
    ManifestError
        An unknown key, both or neither of ``units``/``partition``, a unit whose project file
        is missing, a unit mapping without ``name:``, duplicate unit names, or a bad
        ``partition`` mapping (each message names the key and the fix).
    ProjectFileError
        When the file (or a unit's project file) is not readable YAML or a value does not fit
        its key.
    """
    if not path.exists():
        raise ManifestError(f"manifest {path} does not exist; check the path")
    data = read_mapping(path)
    base = path.parent
    for key in data:
        if str(key) not in KEYS and str(key) not in BATCH_KEYS:
            raise _unknown(path, str(key))
        if str(key) in RESERVED_KEYS:
            raise ManifestError(
                f"{path}: key {key!r} is not for a manifest: "
                + (
                    "circles batch --out DIR names the output folder (units go to DIR/units/)"
                    if key == "out"
                    else "planned facilities are not audited by circles batch; remove the key "
                    "and run circles audit with --planned on the unit"
                )
            )
    given = [key for key in BATCH_KEYS if data.get(key) is not None]
    if len(given) != 1:
        raise ManifestError(
            f"{path}: give exactly one of units: (a list of project files or mappings) and "
            f"partition: (by: POLYGONS, field: COLUMN); got {' and '.join(given) or 'neither'}"
        )
    shared = project_values({k: v for k, v in data.items() if k not in BATCH_KEYS}, path)
    manifest = Manifest(path=path, shared=shared)
    if "partition" in given:
        manifest.partition = _partition(path, data["partition"])
    else:
        manifest.units = _units(path, data["units"], shared, base)
    return manifest


def _partition(path: Path, value: Any) -> Partition:
    if not isinstance(value, dict) or "by" not in value:
        raise ManifestError(
            f"{path}: partition {value!r} must be a mapping with by: (a polygon file) and "
            "optionally field: (the column naming each unit), e.g. partition: {by: "
            "districts.gpkg, field: name}"
        )
    for key in value:
        if key not in PARTITION_KEYS:
            raise ManifestError(
                f"{path}: unknown key partition.{key!r}; partition takes by: and field:"
            )
    by = path.parent / str(value["by"])
    if not split_layer(by)[0].exists():  # FILE.gpkg:LAYER names a layer
        raise ManifestError(
            f"{path}: partition.by {str(value['by'])!r}: {by} does not exist; give the polygon "
            "file relative to the manifest's folder"
        )
    name_field = value.get("field")
    if name_field is not None and not isinstance(name_field, str | int):
        raise ManifestError(f"{path}: partition.field {name_field!r} must be a column name")
    return Partition(by=by, field=None if name_field is None else str(name_field))


def _units(path: Path, value: Any, shared: dict[str, Any], base: Path) -> list[Unit]:
    if not isinstance(value, list) or not value:
        raise ManifestError(
            f"{path}: units must be a non-empty list of project files or mappings of keys "
            "with name:, e.g. units: [wuhan/circles.yaml, xiangyang/circles.yaml]"
        )
    units = [_unit(path, i, item, shared, base) for i, item in enumerate(value)]
    seen: dict[str, int] = {}
    for i, unit in enumerate(units):
        if not _SAFE_NAME.match(unit.name) or unit.name in (".", ".."):
            raise ManifestError(
                f"{path}: units[{i}] name {unit.name!r} cannot be a folder name; use letters, "
                "digits, - and _"
            )
        if unit.name in seen:
            raise ManifestError(
                f"{path}: units[{seen[unit.name]}] and units[{i}] are both named {unit.name!r}; "
                "give each a distinct name: (a mapping) or a distinct file name"
            )
        seen[unit.name] = i
    return units


def _unit(path: Path, i: int, item: Any, shared: dict[str, Any], base: Path) -> Unit:
    """One item of ``units:``: a project file or a mapping of keys with ``name:``."""
    if isinstance(item, str):
        project = base / item
        if not project.exists():
            raise ManifestError(
                f"{path}: units[{i}] {item!r}: project file {project} does not exist; give "
                "its path relative to the manifest's folder"
            )
        # a project file conventionally called circles.yaml is named after its folder
        stem = project.name.split(".")[0]
        name = project.resolve().parent.name if stem == "circles" else stem
        own = load_project(project)
        if own.get("planned") is not None:
            raise ManifestError(
                f"{path}: units[{i}] {item!r} gives planned:, which circles batch does not audit; "
                "remove it or audit that unit with circles audit"
            )
        own.pop("out", None)  # circles batch --out decides where units go
        return Unit(name, {**shared, **own}, project)
    elif isinstance(item, dict):
        if "name" not in item:
            raise ManifestError(
                f"{path}: units[{i}] is a mapping without name:; give each unit mapping a "
                "name: (its folder under OUT/units/)"
            )
        keys = {k: v for k, v in item.items() if k != "name"}
        for key in keys:
            if str(key) not in KEYS:
                raise _unknown(path, str(key), f"units[{i}].")
            if str(key) in RESERVED_KEYS:
                raise ManifestError(f"{path}: units[{i}].{key} is not for a batch unit; remove it")
        try:
            own = project_values(keys, path, base)
        except ProjectFileError as exc:
            raise ManifestError(f"{exc} (in units[{i}])") from exc
        return Unit(str(item["name"]), {**shared, **own})
    raise ManifestError(
        f"{path}: units[{i}] {item!r} is neither a project file nor a mapping of keys"
    )


def unit_name(value: Any) -> str:
    """A partition value as a unit (folder) name: text, with unsafe characters replaced."""
    text = str(value).strip()
    cleaned = re.sub(r"[/\\:*?\"<>|\x00-\x1f]", "_", text)
    return cleaned if cleaned and cleaned not in (".", "..") else "_"
