"""What an audit read and when: input and rule files with their SHA-256, the catalogue, the clock.

Gathered once by the audit, so that the summary built from it is a pure function of the tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from circles.catalogue.load import Catalogue, load_catalogue
from circles.inputs.read import sha256, split_layer
from circles.rules.load import LoadedCircle

if TYPE_CHECKING:
    from circles.audit import AuditOptions

INPUT_ROLES = ("network", "facilities", "residents", "communities", "zones", "planned")


@dataclass
class Provenance:
    """The run's timestamp (UTC, ISO 8601), input and rule files with hashes, the catalogue."""

    timestamp: str
    inputs: dict[str, dict | None]
    rules: list[dict]
    catalogue: Catalogue


def file_record(path: Path | str | None) -> dict | None:
    """``{"path", "sha256"}`` of an input (``file.gpkg:layer`` hashes the file)."""
    if path is None:
        return None
    return {"path": str(path), "sha256": sha256(split_layer(Path(path))[0])}


def gather_provenance(options: AuditOptions, loaded: list[LoadedCircle]) -> Provenance:
    """Hash the inputs and rule files, read the clock and load the catalogue."""
    return Provenance(
        timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        inputs={role: file_record(getattr(options, role)) for role in INPUT_ROLES},
        rules=[
            {"path": str(lc.path), "sha256": sha256(lc.path), "circle_id": lc.circle.id}
            for lc in loaded
        ],
        catalogue=load_catalogue(),
    )
