"""Rule files: locating, loading with positions, and the meaning checks.

A rule file describes one circle (models in :mod:`circles.rules.schema`). Files are data: they are
parsed with ruamel.yaml's round-trip loader, which builds only maps, lists and scalars, so nothing
a user writes is ever executed. Validation runs in two passes, schema then meaning, and reports
every problem of every file at once as ``path:line:col: entity: message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from circles.catalogue.load import Catalogue, load_catalogue
from circles.errors import RuleError
from circles.rules.meaning import HubRow, MeaningChecker, read_hub_table
from circles.rules.positions import position, read_yaml, schema_pass, suggest
from circles.rules.schema import Circle, Requirement, Source, Tag

CATALOGUE_FILE = "facilities.yaml"

__all__ = [
    "Circle",
    "HubRow",
    "LoadedCircle",
    "Requirement",
    "Source",
    "Tag",
    "load_rules",
    "presets_root",
]


@dataclass(frozen=True)
class LoadedCircle:
    """A validated circle with the file it came from (and its hub table, if any)."""

    circle: Circle
    path: Path
    hub_table: tuple[HubRow, ...] = ()


# --------------------------------------------------------------------------- locating files


def presets_root() -> Path:
    """Folder holding the bundled rule presets and the facility catalogue."""
    try:
        root = Path(str(resources.files("circles.presets")))
        if (root / CATALOGUE_FILE).is_file():
            return root
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "rules"


def default_rules_path() -> Path:
    """The bundled Wuhan preset, used when ``--rules`` is not given."""
    return presets_root() / "wuhan"


def preset_names() -> list[str]:
    """Names of the bundled presets (folders of rule files)."""
    return sorted(p.name for p in presets_root().iterdir() if p.is_dir() and p.name[0] not in "._")


def resolve_rules_path(value: str | Path | None) -> Path:
    """Turn a ``--rules`` value into a path: a file, a folder, or a bundled preset name."""
    if value is None:
        return default_rules_path()
    path = Path(value)
    if path.exists():
        return path
    preset = presets_root() / str(value)
    if preset.is_dir() and str(value) in preset_names():
        return preset
    raise RuleError(
        [
            f"{value}: no such rule file or folder, and no bundled preset of that name "
            f"(bundled presets: {', '.join(preset_names())})"
        ]
    )


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the rule files they hold, sorted, catalogue excluded."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.y*ml")) if p.name != CATALOGUE_FILE)
        else:
            files.append(path)
    return files


# --------------------------------------------------------------------------- positions


# --------------------------------------------------------------------------- loading


def load_rules(
    paths: Sequence[str | Path] | None = None,
    *,
    circle_ids: Sequence[str] | None = None,
    catalogue: Catalogue | None = None,
) -> list[LoadedCircle]:
    """Load and validate rule files; raise :class:`RuleError` listing every problem.

    Parameters
    ----------
    paths
        Rule files, folders, or bundled preset names; the bundled Wuhan circles when empty.
    circle_ids
        Keep only these circles, in this order; an unknown id is an error.
    catalogue
        Facility catalogue for the meaning checks; the bundled one when None.

    Returns
    -------
    list of LoadedCircle
        The validated circles in file order (or ``circle_ids`` order).
    """
    catalogue = catalogue or load_catalogue()
    roots = [resolve_rules_path(p) for p in paths] if paths else [resolve_rules_path(None)]
    files = rule_files(roots)
    if not files:
        raise RuleError([f"{', '.join(map(str, roots))}: no rule files (*.yaml) found"])
    problems: list[str] = []
    loaded: list[LoadedCircle] = []
    first_seen: dict[str, Path] = {}
    for path in files:
        tree = read_yaml(path, problems)
        if tree is None:
            continue
        circle = schema_pass(path, tree, problems)
        if circle is None:
            continue
        found = MeaningChecker(path, tree, circle, catalogue).run()
        problems.extend(found)
        table = read_hub_table(path, tree, circle, problems) if circle.hub is not None else ()
        if circle.id in first_seen:
            line, col = position(tree, ["id"])
            problems.append(
                f"{path}:{line}:{col}: {circle.id}.id: duplicate circle id {circle.id!r} "
                f"(also in {first_seen[circle.id]})"
            )
            continue
        first_seen[circle.id] = path
        loaded.append(LoadedCircle(circle, path, table))
    if problems:
        raise RuleError(problems)
    if circle_ids:
        by_id = {lc.circle.id: lc for lc in loaded}
        unknown = [c for c in circle_ids if c not in by_id]
        if unknown:
            raise RuleError(
                [
                    f"--circle {c}: no such circle in the rules (available: {', '.join(by_id)})"
                    + suggest(c, by_id)
                    for c in unknown
                ]
            )
        loaded = [by_id[c] for c in dict.fromkeys(circle_ids)]
    return loaded
