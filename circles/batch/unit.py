"""One batch unit as a Dask task: an ordinary audit into its folder, with a record of its inputs.

A unit's folder ``OUT/units/NAME/`` holds ``report/`` (the report ``circles audit`` writes),
``unit.json`` (its status, time, counts and the fingerprint of its inputs), and the tables the
combined outputs are built from: ``residents.parquet`` (the residents table, exactly) and
``times.parquet`` (per requirement, each resident's time to what it needs, for the medians of
the combined coverage). Partitioned units also hold ``inputs/`` (their residents and their
facilities within the halo).
"""

from __future__ import annotations

import hashlib
import json
import resource
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from circles.errors import CirclesError
from circles.settings import Settings

#: The files of a finished unit besides its report
UNIT_FILE = "unit.json"
RESIDENTS_FILE = "residents.parquet"
TIMES_FILE = "times.parquet"
REPORT_DIR = "report"


class UnitError(Exception):
    """A unit's audit failed: its one-line message, and its kind (``user`` or ``bug``)."""

    def __init__(self, message: str, kind: str = "user"):
        super().__init__(message, kind)
        self.message = message
        self.kind = kind

    @property
    def user(self) -> bool:
        """True for a problem the user can fix (kind ``user``), False for a bug."""
        return self.kind == "user"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class UnitTask:
    """What a worker needs to audit one unit: name, settings, folder and input fingerprint."""

    name: str
    settings: Settings
    folder: Path
    fingerprint: str


def fingerprint(settings: Settings, extra: dict[str, Any] | None = None) -> str:
    """SHA-256 over the SHA-256 of every input file and the settings (``out`` left out)."""
    from circles.inputs.read import sha256, split_layer

    files: dict[str, str] = {}
    for key in ("network", "facilities", "residents", "communities", "zones"):
        path = getattr(settings, key)
        if path is not None:
            real = split_layer(Path(path))[0]
            files[key] = sha256(real) if real.is_file() else f"missing:{real}"
    for i, rule in enumerate(settings.rules):
        real = Path(rule)
        files[f"rules[{i}]"] = sha256(real) if real.is_file() else str(rule)
    document = {
        "files": files,
        "settings": settings.model_dump(mode="json", exclude={"out"}),
        "extra": extra or {},
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finished(folder: Path, print_: str) -> dict | None:
    """A unit's record when its folder holds a complete report for this fingerprint, else None."""
    record_path = folder / UNIT_FILE
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("status") != "ok" or record.get("fingerprint") != print_:
        return None
    needed = [folder / RESIDENTS_FILE, folder / TIMES_FILE, folder / REPORT_DIR / "summary.json"]
    if not all(p.exists() for p in needed):
        return None
    return record


def run_unit(task: UnitTask) -> dict:
    """Audit one unit and write its folder; return its record (status, seconds, counts).

    Runs on a Dask worker. Every error becomes a :class:`UnitError` (picklable, one line) so
    that the client reports it; ``user`` tells a problem the user can fix from a bug.
    """
    start = time.perf_counter()
    try:
        return _run(task, start)
    except CirclesError as exc:
        raise UnitError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        raise UnitError(f"internal error ({type(exc).__name__}: {exc}){where}", "bug") from None


def _run(task: UnitTask, start: float) -> dict:
    from circles.audit import run_audit
    from circles.report.files import LayerOptions, write_report

    settings = task.settings
    folder = task.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / UNIT_FILE).unlink(missing_ok=True)  # no stale record while the unit runs
    result = run_audit(settings, keep_internals=True)
    assert result.internals is not None
    placed, checks = result.internals.placed, result.internals.checks
    times = pd.DataFrame(
        {f"{c}/{r}": np.asarray(v, dtype=float) for (c, r), v in checks.times_min.items()}
    )
    community_ids = [str(c) for c in placed.community_ids]
    subdistricts = {str(k): str(v) for k, v in placed.subdistricts.items()}
    result.internals = None
    write_report(
        result,
        folder / REPORT_DIR,
        overwrite=True,
        layers=LayerOptions(
            settings.layer_format, settings.crs_out, settings.csv_bom, settings.basemap
        ),
    )
    write_table(result.residents, folder / RESIDENTS_FILE)
    write_table(times, folder / TIMES_FILE)
    population = float(result.residents["population"].sum())
    record = {
        "name": task.name,
        "status": "ok",
        "seconds": round(time.perf_counter() - start, 3),
        "residents": len(result.residents),
        "population": population,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fingerprint": task.fingerprint,
        "community_ids": community_ids,
        "subdistricts": subdistricts,
        "circles": [lc.circle.id for lc in result.circles],
        "warnings": list(result.summary.get("warnings", []))[:20],
    }
    (folder / UNIT_FILE).write_text(
        json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return record


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """A table (a layer: GeoParquet) as Parquet, exactly; a column of mixed kinds (ids) as text."""
    try:
        frame.to_parquet(path, index=False)
    except (TypeError, ValueError, ArithmeticError):  # pyarrow: mixed kinds in a column
        fixed = frame.copy()
        for column in fixed.columns:
            if fixed[column].dtype == object:
                fixed[column] = fixed[column].map(lambda v: None if v is None else str(v))
        fixed.to_parquet(path, index=False)
