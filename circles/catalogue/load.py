"""Facility catalogue: the canonical facility-type ids, their names and source-data mappings."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from circles.errors import RuleError
from circles.rules.schema import CatalogueFile, FacilityEntry


@dataclass(frozen=True)
class Catalogue:
    """All facility types known to the rules, keyed by id."""

    types: dict[str, FacilityEntry] = field(default_factory=dict)
    path: Path | None = None
    non_facility_labels: tuple[str, ...] = ()

    def label(self, type_id: str, lang: str = "en") -> str:
        """Display name of a facility type (the id itself when unknown)."""
        entry = self.types.get(type_id)
        if entry is None:
            return type_id
        return entry.zh if lang == "zh" else entry.en


def bundled_catalogue_path() -> Path:
    """Path of the bundled ``facilities.yaml``."""
    try:
        root = Path(str(resources.files("circles.presets")))
        if (root / "facilities.yaml").is_file():
            return root / "facilities.yaml"
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "rules" / "facilities.yaml"


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the facility catalogue (the bundled one by default), once per file.

    Raises
    ------
    RuleError
        When the file cannot be read or does not follow the catalogue schema.
    """
    path = path or bundled_catalogue_path()
    return _load_catalogue(path, path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=8)
def _load_catalogue(path: Path, mtime_ns: int) -> Catalogue:
    """Parse a catalogue file (cached on its path and modification time)."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise RuleError(
            [f"{path}:1:1: catalogue: cannot read the facility catalogue ({exc})"]
        ) from exc
    try:
        parsed = CatalogueFile.model_validate(data)
    except ValidationError as exc:
        raise RuleError(
            [
                f"{path}:1:1: catalogue.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from exc
    skip = parsed.non_facility_categories
    return Catalogue(
        types=dict(parsed.facility_types),
        path=path,
        non_facility_labels=tuple(skip.labels) if skip is not None else (),
    )
