"""Facility catalogue: the canonical facility-type ids and their display names."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from circles.errors import RuleError


@dataclass(frozen=True)
class FacilityType:
    """One canonical facility type."""

    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Catalogue:
    """All facility types known to the rules, keyed by id."""

    types: dict[str, FacilityType] = field(default_factory=dict)
    path: Path | None = None

    def label(self, type_id: str, lang: str = "en") -> str:
        """Display name of a facility type (the id itself when unknown)."""
        ftype = self.types.get(type_id)
        if ftype is None:
            return type_id
        return ftype.zh if lang == "zh" else ftype.en


def _bundled_path() -> Path:
    try:
        root = Path(str(resources.files("circles.presets")))
        if (root / "facilities.yaml").is_file():
            return root / "facilities.yaml"
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "rules" / "facilities.yaml"


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read the facility catalogue (the bundled ``rules/facilities.yaml`` by default).

    Raises
    ------
    RuleError
        When the file cannot be read or an entry lacks its names.
    """
    path = path or _bundled_path()
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise RuleError(
            [f"{path}:1:1: catalogue: cannot read the facility catalogue ({exc})"]
        ) from exc
    entries = data.get("facility_types") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise RuleError([f"{path}:1:1: catalogue: expected a 'facility_types' mapping"])
    types: dict[str, FacilityType] = {}
    problems = []
    for type_id, entry in entries.items():
        if not isinstance(entry, dict) or not entry.get("zh") or not entry.get("en"):
            problems.append(f"{path}:1:1: facility_types.{type_id}: needs zh and en names")
            continue
        types[str(type_id)] = FacilityType(str(type_id), str(entry["zh"]), str(entry["en"]))
    if problems:
        raise RuleError(problems)
    return Catalogue(types=types, path=path)
