"""Rule files: the circle schema, loading YAML with positions, and the meaning checks.

A rule file describes one circle. Files are data: they are parsed with ruamel.yaml's round-trip
loader (which builds only maps, lists and scalars) and validated by pydantic models that forbid
unknown keys, so a typo is an error and nothing a user writes is ever executed.

Validation runs in two passes, schema then meaning, and reports every problem of every file at
once as ``path:line:col: entity: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from circles.catalogue import Catalogue, load_catalogue
from circles.errors import RuleError

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
CATALOGUE_FILE = "facilities.yaml"
MAX_WALK_TIME_MIN = 180.0
MAX_WALK_DISTANCE_M = 15_000.0

Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]


class Tag(StrEnum):
    """How far a number has been checked against its source (see STANDARDS.md)."""

    verified = "verified"
    recalled = "recalled"
    default = "default"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a number comes from: a document and clause, or a URL, and its verification tag."""

    ref: str = Field(min_length=1, description="Document and clause, or URL, behind the number.")
    tag: Tag = Field(description="verified, recalled (from memory of the text) or default (ours).")


class Name(_Strict):
    """A bilingual display name."""

    zh: str = Field(min_length=1, description="Chinese name, shown with --lang zh.")
    en: str = Field(min_length=1, description="English name, shown with --lang en.")


class Requirement(_Strict):
    """One rule inside a circle: a facility type, a threshold, a minimum count and a target."""

    id: Identifier = Field(description="Requirement id, unique within the circle.")
    name: Name | None = Field(default=None, description="Display name; defaults to the id.")
    facility_type: Identifier | list[Identifier] = Field(
        description="A facility-type id from the catalogue, or a list meaning any of them."
    )
    max_time_min: float | None = Field(
        default=None, gt=0, description="Threshold: maximum travel time in minutes."
    )
    max_distance_m: float | None = Field(
        default=None, gt=0, description="Threshold: maximum network distance in metres."
    )
    min_count: int = Field(
        default=1, ge=1, description="How many distinct facilities must lie within the threshold."
    )
    target_coverage: float = Field(
        gt=0, le=1, description="Share of the population that should meet the requirement (0-1]."
    )
    sources: dict[str, Source] = Field(
        description="A source for every number above, keyed by the field name."
    )

    @field_validator("facility_type")
    @classmethod
    def _non_empty_list(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("give at least one facility type")
        return value

    @model_validator(mode="after")
    def _one_threshold(self) -> Requirement:
        if (self.max_time_min is None) == (self.max_distance_m is None):
            raise ValueError("give exactly one of max_time_min or max_distance_m")
        return self

    @property
    def facility_types(self) -> tuple[str, ...]:
        """The facility types that satisfy the requirement (any of them), sorted."""
        if isinstance(self.facility_type, str):
            return (self.facility_type,)
        return tuple(sorted(set(self.facility_type)))

    @property
    def max_time_s(self) -> float | None:
        """Threshold in seconds, or None when the threshold is a distance."""
        return None if self.max_time_min is None else self.max_time_min * 60.0

    def numbers(self) -> dict[str, float]:
        """The numeric fields that are set and must carry a source."""
        out: dict[str, float] = {"target_coverage": self.target_coverage}
        if self.max_time_min is not None:
            out["max_time_min"] = self.max_time_min
        if self.max_distance_m is not None:
            out["max_distance_m"] = self.max_distance_m
        if self.min_count != 1:
            out["min_count"] = self.min_count
        return out

    def label(self, lang: str = "en") -> str:
        """Display name in the given language (the id when the rule gives no name)."""
        if self.name is None:
            return self.id
        return self.name.zh if lang == "zh" else self.name.en


class Circle(_Strict):
    """One circle: a named set of requirements evaluated with one travel mode."""

    id: Identifier = Field(description="Circle id, unique across the rule files of an audit.")
    name: Name = Field(description="Display name in Chinese and English.")
    description: str | None = Field(default=None, description="Free text shown in reports.")
    mode: Literal["walk"] = Field(description="Travel mode. `walk`: undirected street network.")
    tier: Literal["basic", "quality"] = Field(
        default="basic",
        description="TD/T 1062-2021 element class: basic (must) or quality (optional).",
    )
    speed_m_per_min: float = Field(gt=0, description="Walking speed in metres per minute.")
    target_coverage: float | None = Field(
        default=None, gt=0, le=1, description="Optional target for the whole circle (0-1]."
    )
    sources: dict[str, Source] = Field(
        description="A source for every number of the circle (speed_m_per_min, target_coverage)."
    )
    requirements: list[Requirement] = Field(
        min_length=1, description="The requirements; a resident meets the circle when it meets all."
    )

    @property
    def speed_m_s(self) -> float:
        """Speed in metres per second."""
        return self.speed_m_per_min / 60.0

    def numbers(self) -> dict[str, float]:
        """The circle-level numeric fields that are set and must carry a source."""
        out = {"speed_m_per_min": self.speed_m_per_min}
        if self.target_coverage is not None:
            out["target_coverage"] = self.target_coverage
        return out

    def label(self, lang: str = "en") -> str:
        """Display name in the given language."""
        return self.name.zh if lang == "zh" else self.name.en


@dataclass(frozen=True)
class LoadedCircle:
    """A validated circle with the file it came from."""

    circle: Circle
    path: Path


# --------------------------------------------------------------------------- locating files


def presets_root() -> Path:
    """Folder holding the bundled rule presets and the facility catalogue."""
    try:
        root = Path(str(resources.files("circles.presets")))
        if (root / CATALOGUE_FILE).is_file():
            return root
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "rules"


def default_rules_path() -> Path:
    """The bundled Wuhan walking circles, used when ``--rules`` is not given."""
    return presets_root() / "wuhan"


def resolve_rules_path(value: str | Path | None) -> Path:
    """Turn a ``--rules`` value into a path: a file, a folder, or a bundled preset name."""
    if value is None:
        return default_rules_path()
    path = Path(value)
    if path.exists():
        return path
    preset = presets_root() / str(value)
    if preset.is_dir():
        return preset
    presets = sorted(p.name for p in presets_root().iterdir() if p.is_dir() and p.name[0] != "_")
    raise RuleError(
        [
            f"{value}: no such rule file or folder, and no bundled preset of that name "
            f"(bundled presets: {', '.join(presets)})"
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


def _position(node: Any, loc: Sequence[str | int]) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node of ``loc`` that exists in the YAML tree."""
    line, col = 1, 1
    if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
        line, col = node.lc.line + 1, node.lc.col + 1
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            kline, kcol = node.lc.key(key)
            line, col = kline + 1, kcol + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            iline, icol = node.lc.item(key)
            line, col = iline + 1, icol + 1
            node = node[key]
        else:
            break
    return line, col


def _entity(data: Any, loc: Sequence[str | int]) -> str:
    """Readable entity path such as ``life_15min.requirements[2](fresh_market).max_time_min``."""
    circle_id = data.get("id") if isinstance(data, dict) else None
    parts = [str(circle_id) if isinstance(circle_id, str) else "circle"]
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and 0 <= key < len(node):
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f"({node['id']})"
            else:
                node = None
            parts[-1] += label
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def _plain(node: Any) -> Any:
    """Convert ruamel's commented containers into plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; check the spelling against rules/README.md"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"got {error.get('input')!r}; expected one of {expected}"
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{msg} (got {error.get('input')!r})" if kind not in {"model_type"} else msg


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path, problems: list[str]) -> Any:
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}:1:1: file: cannot read the file ({exc}); save it as UTF-8")
        return None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(f"{path}:{line}:{col}: file: YAML syntax error: {exc.problem or exc}")
    except YAMLError as exc:
        problems.append(f"{path}:1:1: file: YAML syntax error: {exc}")
    return None


def _schema_pass(path: Path, tree: Any, problems: list[str]) -> Circle | None:
    if not isinstance(tree, CommentedMap):
        problems.append(f"{path}:1:1: file: a rule file must be a mapping of keys (id, name, ...)")
        return None
    data = _plain(tree)
    try:
        return Circle.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [
                p for p in error["loc"] if not (isinstance(p, str) and p in {"str", "list[str]"})
            ]
            loc = [p for p in loc if not (isinstance(p, str) and p.startswith("list["))]
            line, col = _position(tree, loc)
            problems.append(
                f"{path}:{line}:{col}: {_entity(data, loc)}: {_pydantic_message(error)}"
            )
        return None


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else "; see rules/facilities.yaml for the ids"


def _meaning_pass(
    path: Path, tree: CommentedMap, circle: Circle, catalogue: Catalogue, problems: list[str]
) -> None:
    data = _plain(tree)

    def add(loc: list[str | int], message: str) -> None:
        line, col = _position(tree, loc)
        problems.append(f"{path}:{line}:{col}: {_entity(data, loc)}: {message}")

    for key in circle.sources.keys() - circle.numbers().keys():
        add(["sources", key], f"source given for {key!r}, which the circle does not set")
    for key in circle.numbers().keys() - circle.sources.keys():
        add([key], f"no source for {key}; add sources.{key} with ref and tag")
    if circle.mode == "walk" and not 20 <= circle.speed_m_per_min <= 120:
        add(
            ["speed_m_per_min"],
            f"walking speed {circle.speed_m_per_min:g} m/min is outside "
            "20-120 m/min; 60 m/min is the planning default",
        )

    seen: dict[str, int] = {}
    for i, req in enumerate(circle.requirements):
        here: list[str | int] = ["requirements", i]
        if req.id in seen:
            add(
                [*here, "id"],
                f"duplicate requirement id {req.id!r} (first at requirements[{seen[req.id]}])",
            )
        seen.setdefault(req.id, i)
        types = [req.facility_type] if isinstance(req.facility_type, str) else req.facility_type
        for j, ftype in enumerate(types):
            if ftype not in catalogue.types:
                loc = [*here, "facility_type"] + (
                    [j] if isinstance(req.facility_type, list) else []
                )
                add(loc, f"unknown facility type {ftype!r}" + _suggest(ftype, catalogue.types))
        if req.max_time_min is not None and req.max_time_min > MAX_WALK_TIME_MIN:
            add(
                [*here, "max_time_min"],
                f"{req.max_time_min:g} min is not a walking threshold "
                f"(at most {MAX_WALK_TIME_MIN:g})",
            )
        if req.max_distance_m is not None and req.max_distance_m > MAX_WALK_DISTANCE_M:
            add(
                [*here, "max_distance_m"],
                f"{req.max_distance_m:g} m is not a walking threshold "
                f"(at most {MAX_WALK_DISTANCE_M:g})",
            )
        for key in req.sources.keys() - req.numbers().keys():
            add(
                [*here, "sources", key],
                f"source given for {key!r}, which the requirement does not set",
            )
        for key in req.numbers().keys() - req.sources.keys():
            add(
                [*here, key] if key in tree["requirements"][i] else here,
                f"no source for {key}; add sources.{key} with ref and tag",
            )


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
        Rule files, folders, or bundled preset names; the bundled Wuhan walking circles when empty.
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
    roots = [resolve_rules_path(p) for p in (paths or [None])]
    files = rule_files(roots)
    problems: list[str] = []
    if not files:
        raise RuleError([f"{', '.join(map(str, roots))}: no rule files (*.yaml) found"])
    loaded: list[LoadedCircle] = []
    first_seen: dict[str, Path] = {}
    for path in files:
        tree = _read_yaml(path, problems)
        if tree is None:
            continue
        circle = _schema_pass(path, tree, problems)
        if circle is None:
            continue
        _meaning_pass(path, tree, circle, catalogue, problems)
        if circle.id in first_seen:
            line, col = _position(tree, ["id"])
            problems.append(
                f"{path}:{line}:{col}: {circle.id}.id: duplicate circle id "
                f"{circle.id!r} (also in {first_seen[circle.id]})"
            )
            continue
        first_seen[circle.id] = path
        loaded.append(LoadedCircle(circle, path))
    if problems:
        raise RuleError(problems)
    if circle_ids:
        by_id = {lc.circle.id: lc for lc in loaded}
        unknown = [c for c in circle_ids if c not in by_id]
        if unknown:
            raise RuleError(
                [
                    f"--circle {c}: no such circle in the rules "
                    f"(available: {', '.join(by_id)})"
                    + _suggest(c, by_id).replace("; see rules/facilities.yaml for the ids", "")
                    for c in unknown
                ]
            )
        loaded = [by_id[c] for c in dict.fromkeys(circle_ids)]
    return loaded
