"""Rule files: locating, loading with positions, and the meaning checks.

A rule file describes one circle (models in :mod:`circles.rules.schema`). Files are data: they are
parsed with ruamel.yaml's round-trip loader, which builds only maps, lists and scalars, so nothing
a user writes is ever executed. Validation runs in two passes, schema then meaning, and reports
every problem of every file at once as ``path:line:col: entity: message``.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from circles.catalogue.load import Catalogue, load_catalogue
from circles.errors import RuleError
from circles.rules.schema import Circle, Requirement, Source, Tag
from circles.rules.yaml_limits import bomb_message, shown, too_large

CATALOGUE_FILE = "facilities.yaml"
SUPPORTED_MODES = ("walk", "drive", "hub")
MAX_TIME_MIN = {"walk": 180.0, "drive": 180.0, "hub": 1440.0}
MAX_WALK_DISTANCE_M = 15_000.0
MAX_DRIVE_DISTANCE_M = 200_000.0
# the searches keep the min_count nearest facilities of every resident: residents × min_count
MAX_MIN_COUNT = 100
HUB_TABLE_COLUMNS = ("hub", "destination", "minutes", "ref", "tag")

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
class HubRow:
    """One line-haul time of a hub table."""

    hub: str
    destination: str
    minutes: float
    source: Source


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


def position(node: Any, loc: Sequence[str | int]) -> tuple[int, int]:
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
        return {k if isinstance(k, str) else str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


_TYPE_WORDS = {
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping of keys",
    "list_type": "a list",
    "model_type": "a mapping of keys",
}


def _pydantic_message(error: ErrorDetails) -> str:
    kind = error["type"]
    got = shown(error.get("input"))
    if kind == "extra_forbidden":
        return "unknown key; check the spelling against rules/README.md"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"got {got}; expected one of {expected}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"{got} is not an id: use lower-case letters, digits and _ (e.g. fresh_market)"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(error.get("ctx", {}).values()), "")
        limit_text = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
        return f"must be {bound} {limit_text} (got {got})"
    if kind == "too_short":
        return "must not be empty"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"got {got}; expected one of {expected}"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _loc(error: ErrorDetails) -> list[str | int]:
    """The error location without pydantic's union-branch labels."""
    out: list[str | int] = []
    for part in error["loc"]:
        if isinstance(part, str) and (
            part in {"str", "list[str]", "float", "int"}
            or part.startswith(("list[", "dict[", "constrained-", "function-"))
        ):
            continue
        out.append(part)
    return out


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path, problems: list[str]) -> Any:
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(f"{path}:1:1: file: no such file")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}:1:1: file: cannot read the file ({exc}); save it as UTF-8")
        return None
    if not text.strip():
        problems.append(
            f"{path}:1:1: file: the rule file is empty; describe one circle (id, name, mode, "
            "requirements), see rules/README.md"
        )
        return None
    try:
        tree = yaml.load(text)
    except RecursionError:
        problems.append(f"{path}:1:1: file: values nested too deeply; flatten the file")
        return None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        problems.append(f"{path}:{line}:{col}: file: YAML syntax error: {what}")
        return None
    except YAMLError as exc:
        problems.append(f"{path}:1:1: file: YAML syntax error: {exc}")
        return None
    if too_large(tree):
        problems.append(f"{path}:1:1: file: {bomb_message()}")
        return None
    if tree is None:
        problems.append(
            f"{path}:1:1: file: the rule file holds only comments; describe one circle (id, "
            "name, mode, requirements), see rules/README.md"
        )
    return tree


def _schema_pass(path: Path, tree: Any, problems: list[str]) -> Circle | None:
    if not isinstance(tree, CommentedMap):
        problems.append(f"{path}:1:1: file: a rule file must be a mapping of keys (id, name, ...)")
        return None
    data = _plain(tree)
    try:
        return Circle.model_validate(data)
    except ValidationError as exc:
        seen = set()
        for error in exc.errors():
            loc = _loc(error)
            line, col = position(tree, loc)
            message = f"{path}:{line}:{col}: {_entity(data, loc)}: {_pydantic_message(error)}"
            if message not in seen:
                seen.add(message)
                problems.append(message)
        return None


def suggest(value: str, known: Iterable[str], fallback: str = "") -> str:
    """``; did you mean 'x'?`` for a near miss, else ``fallback``."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else fallback


class _Checker:
    """The meaning pass over one schema-valid circle."""

    def __init__(self, path: Path, tree: CommentedMap, circle: Circle, catalogue: Catalogue):
        self.path, self.tree, self.circle, self.catalogue = path, tree, circle, catalogue
        self.data = _plain(tree)
        self.problems: list[str] = []

    def add(self, loc: list[str | int], message: str) -> None:
        line, col = position(self.tree, loc)
        self.problems.append(f"{self.path}:{line}:{col}: {_entity(self.data, loc)}: {message}")

    def sources(self, loc: list[str | int], numbers: Iterable[str], given: dict) -> None:
        numbers = list(numbers)
        for key in sorted(given.keys() - set(numbers)):
            self.add([*loc, "sources", key], f"source given for {key!r}, which is not set here")
        for key in numbers:
            if key not in given:
                self.add([*loc, key], f"no source for {key}; add sources.{key} with ref and tag")

    def type_ids(self, loc: list[str | int], value: str | list[str] | None) -> None:
        types = [value] if isinstance(value, str) else list(value or [])
        for j, ftype in enumerate(types):
            if ftype not in self.catalogue.types:
                where = [*loc, j] if isinstance(value, list) else loc
                self.add(
                    where,
                    f"unknown facility type {ftype!r}"
                    + suggest(
                        ftype, self.catalogue.types, "; see rules/facilities.yaml for the ids"
                    ),
                )

    def run(self) -> list[str]:
        c = self.circle
        self.sources([], c.numbers(), c.sources)
        self.mode_blocks()
        for name, zone in c.zones.items():
            self.sources(["zones", name], ["districts"] if zone.districts else [], zone.sources)
        seen: dict[str, int] = {}
        for i, req in enumerate(c.requirements):
            here: list[str | int] = ["requirements", i]
            if req.id in seen:
                self.add(
                    [*here, "id"],
                    f"duplicate requirement id {req.id!r} (first at requirements[{seen[req.id]}])",
                )
            seen.setdefault(req.id, i)
            self.requirement(here, req)
        return self.problems

    def mode_blocks(self) -> None:
        c = self.circle
        needs_walk = c.mode == "walk" or (c.mode == "hub" and c.hub and c.hub.access == "walk")
        needs_drive = c.mode == "drive" or (c.mode == "hub" and c.hub and c.hub.access == "drive")
        if needs_walk and c.speed_m_per_min is None:
            self.add([], "walking needs speed_m_per_min (60 is the planning default)")
        if not needs_walk and c.speed_m_per_min is not None:
            self.add(
                ["speed_m_per_min"],
                f"speed_m_per_min is for walking; mode {c.mode} does "
                "not walk (driving speeds go under drive)",
            )
        if needs_walk and c.speed_m_per_min is not None and not 20 <= c.speed_m_per_min <= 120:
            self.add(
                ["speed_m_per_min"],
                f"walking speed {c.speed_m_per_min:g} m/min is outside "
                "20-120 m/min; 60 m/min is the planning default",
            )
        if needs_drive and c.drive is None:
            self.add([], "driving needs a drive block with road_class_km_per_h")
        if not needs_drive and c.drive is not None:
            self.add(["drive"], f"drive speeds are not used by mode {c.mode}")
        if c.drive is not None:
            if "default" not in c.drive.road_class_km_per_h:
                self.add(
                    ["drive", "road_class_km_per_h"],
                    "add a `default` speed for road classes not listed",
                )
            numbers = ["road_class_km_per_h"] + (
                ["congestion_factor"] if c.drive.congestion_factor != 1.0 else []
            )
            self.sources(["drive"], numbers, c.drive.sources)
        if c.mode == "hub" and c.hub is None:
            self.add([], "mode hub needs a hub block (hub_types, table, destinations...)")
        if c.mode != "hub" and c.hub is not None:
            self.add(["hub"], f"a hub block is only used by mode hub, not {c.mode}")
        if c.hub is not None:
            self.type_ids(["hub", "hub_types"], c.hub.hub_types)
            self.sources(["hub"], ["access_max_min", "transfer_min"], c.hub.sources)
        if c.direction == "from_facility" and c.mode != "drive":
            self.add(["direction"], "direction matters only on the directed drive network")

    def requirement(self, here: list[str | int], req: Requirement) -> None:
        c = self.circle
        self.sources(here, req.numbers(), req.sources)
        if c.mode in ("walk", "drive"):
            if req.facility_type is None:
                self.add(here, f"mode {c.mode} needs facility_type (an id, or a list of ids)")
            self.type_ids([*here, "facility_type"], req.facility_type)
            for key in ("destinations", "min_share"):
                if getattr(req, key) is not None:
                    self.add([*here, key], f"{key} is for mode hub, not {c.mode}")
        else:
            if req.facility_type is not None:
                self.add(
                    [*here, "facility_type"],
                    "mode hub reaches destinations, not facility "
                    "types; list them under destinations",
                )
            if not req.destinations:
                self.add(here, "mode hub needs destinations (ids from hub.destinations)")
            for j, dest in enumerate(req.destinations or []):
                if c.hub is not None and dest not in c.hub.destinations:
                    self.add(
                        [*here, "destinations", j],
                        f"unknown destination {dest!r}"
                        + suggest(dest, c.hub.destinations, "; add it to hub.destinations"),
                    )
            if req.max_distance_m is not None:
                self.add(
                    [*here, "max_distance_m"], "mode hub thresholds are times: use max_time_min"
                )
        self.threshold(here, req)

    def threshold(self, here: list[str | int], req: Requirement) -> None:
        c = self.circle
        if req.min_count > MAX_MIN_COUNT:
            self.add(
                [*here, "min_count"],
                f"min_count {req.min_count:,} is not a sane count (at most {MAX_MIN_COUNT}); "
                "give how many facilities must lie within the threshold",
            )
        has_time, has_dist = req.max_time_min is not None, req.max_distance_m is not None
        if req.max_time_min_by_zone is not None:
            if not has_time:
                self.add(
                    [*here, "max_time_min_by_zone"],
                    "zone thresholds without a default: "
                    "residents outside every zone need one; add max_time_min",
                )
            for zone in req.max_time_min_by_zone:
                if zone not in c.zones:
                    self.add(
                        [*here, "max_time_min_by_zone", zone],
                        f"unknown zone {zone!r}"
                        + suggest(zone, c.zones, "; declare it under the circle's zones"),
                    )
        elif not has_time and not has_dist:
            self.add(here, "no threshold: give max_time_min or max_distance_m")
        if has_time and has_dist:
            self.add([*here, "max_distance_m"], "give max_time_min or max_distance_m, not both")
        limit = MAX_TIME_MIN[c.mode]
        times = [("max_time_min", req.max_time_min)] + [
            (("max_time_min_by_zone", z), t) for z, t in (req.max_time_min_by_zone or {}).items()
        ]
        for key, minutes in times:
            if minutes is not None and minutes > limit:
                loc = [*here, *key] if isinstance(key, tuple) else [*here, key]
                self.add(
                    loc, f"{minutes:g} min is not a sane {c.mode} threshold (at most {limit:g})"
                )
        dist_limit = MAX_WALK_DISTANCE_M if c.mode == "walk" else MAX_DRIVE_DISTANCE_M
        if req.max_distance_m is not None and req.max_distance_m > dist_limit:
            self.add(
                [*here, "max_distance_m"],
                f"{req.max_distance_m:g} m is not a sane "
                f"{c.mode} threshold (at most {dist_limit:g})",
            )


def _hub_table(path: Path, tree: CommentedMap, circle: Circle, problems: list[str]) -> tuple:
    """Read and check a hub circle's line-haul table (a plain CSV, never executed)."""
    assert circle.hub is not None
    table = (path.parent / circle.hub.table).resolve()
    line, col = position(tree, ["hub", "table"])
    where = f"{path}:{line}:{col}: {circle.id}.hub.table"
    folder = path.parent.resolve()
    if not table.is_relative_to(folder):  # an absolute path, .. or a symlink leading out
        problems.append(
            f"{where}: {circle.hub.table!r} lies outside the rule file's folder {folder}; put "
            "the table in that folder and name it relative to the rule file"
        )
        return ()
    try:
        with table.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in HUB_TABLE_COLUMNS if c not in header]
            if missing:
                problems.append(
                    f"{where}: {table.name} lacks columns {', '.join(missing)} "
                    f"(needs {', '.join(HUB_TABLE_COLUMNS)})"
                )
                return ()
            rows = []
            for number, raw in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
                here = f"{table}:{number}:1: {circle.id}.hub.table"
                try:
                    minutes = float(row["minutes"])
                except ValueError:
                    problems.append(f"{here}: minutes {row['minutes']!r} is not a number")
                    continue
                if not minutes > 0:
                    problems.append(f"{here}: minutes must be greater than 0 (got {minutes:g})")
                if row["destination"] not in circle.hub.destinations:
                    problems.append(
                        f"{here}: unknown destination {row['destination']!r}"
                        + suggest(
                            row["destination"],
                            circle.hub.destinations,
                            "; add it to hub.destinations",
                        )
                    )
                if row["tag"] not in {t.value for t in Tag}:
                    problems.append(
                        f"{here}: tag {row['tag']!r} is not verified, recalled or default"
                    )
                    continue
                if not row["hub"] or not row["ref"]:
                    problems.append(f"{here}: every row needs a hub and a ref")
                    continue
                rows.append(
                    HubRow(
                        row["hub"],
                        row["destination"],
                        minutes,
                        Source(ref=row["ref"], tag=Tag(row["tag"])),
                    )
                )
            if not rows and not problems:
                problems.append(f"{where}: {table.name} has no rows")
            return tuple(rows)
    except FileNotFoundError:
        problems.append(f"{where}: no such file {table}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{where}: cannot read {table} ({exc})")
    return ()


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
    roots = [resolve_rules_path(p) for p in paths] if paths else [default_rules_path()]
    files = rule_files(roots)
    if not files:
        raise RuleError([f"{', '.join(map(str, roots))}: no rule files (*.yaml) found"])
    problems: list[str] = []
    loaded: list[LoadedCircle] = []
    first_seen: dict[str, Path] = {}
    for path in files:
        tree = _read_yaml(path, problems)
        if tree is None:
            continue
        circle = _schema_pass(path, tree, problems)
        if circle is None:
            continue
        found = _Checker(path, tree, circle, catalogue).run()
        problems.extend(found)
        table = _hub_table(path, tree, circle, problems) if circle.hub is not None else ()
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
