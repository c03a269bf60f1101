"""``run_batch``: audit every unit of a manifest as Dask tasks, then combine their outputs.

Without a scheduler address a local Dask cluster is started (worker processes, one thread
each); with one, the user's cluster is used. Either is closed before ``run_batch`` returns, error
or not, so no process of the batch outlives it. Each unit is one task (an ordinary audit, see
:mod:`circles.batch.unit`), retried once when it fails; the others go on. The network cache is
the usual one (``$CIRCLES_CACHE_DIR``), keyed by the network's hash: a partition builds the
network once in a first task, before its units read it from the cache.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from circles.batch.combine import (
    combined_residents,
    overall_rows,
    partition_coverage,
    unit_tables,
    units_coverage,
)
from circles.batch.excel import write_batch_workbook
from circles.batch.manifest import Manifest, load_manifest
from circles.batch.unit import REPORT_DIR, UnitError, UnitTask, fingerprint, finished, run_unit
from circles.errors import ManifestError, OutputError
from circles.inputs.validate import UNASSIGNED
from circles.settings import Settings, merge

#: The combined files in OUT
BATCH_FILES = ["residents.csv", "coverage.csv", "summary.json", "units.csv", "report.xlsx"]
UNITS_DIR = "units"
#: Tries of a unit: the first and one retry
RETRIES = 1


@dataclass
class BatchResult:
    """What a batch did: one record per unit (status ok, failed or resumed) and the totals."""

    out: Path
    units: list[dict]
    unassigned: int = 0
    warnings: list[str] = field(default_factory=list)
    #: a partition's halo, metres (None with units)
    halo_m: float | None = None

    @property
    def failed(self) -> list[dict]:
        """The units that failed (after their retry)."""
        return [u for u in self.units if u["status"] == "failed"]


def _quiet(_: str) -> None:
    return None


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A Dask client: on the cluster at ``scheduler``, else on a local cluster of processes.

    Both the client and a local cluster are closed on leaving, whatever happens.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ManifestError(
                f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one "
                "(dask scheduler) or leave --scheduler out to run on this machine"
            ) from exc
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or 2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # failed units are reported, not logged
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _check_out(out: Path, *, overwrite: bool, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder; choose another --out")
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    clash = [n for n in present if n in (*BATCH_FILES, UNITS_DIR)]
    if clash and not (overwrite or resume):
        raise OutputError(
            f"output folder {out} already holds {', '.join(clash)}; pass --resume to go on with "
            "the units not finished, --overwrite to redo them all, or choose another --out"
        )


def _unit_settings(manifest: Manifest, out: Path) -> list[tuple[str, Settings]]:
    tasks = []
    for unit in manifest.units:
        try:
            settings = merge(unit.keys, {"out": out / UNITS_DIR / unit.name / REPORT_DIR})
        except ManifestError:
            raise
        except Exception as exc:
            raise ManifestError(f"{manifest.path}: unit {unit.name!r}: {exc}") from exc
        tasks.append((unit.name, settings))
    return tasks


def run_batch(
    manifest: Path | Manifest,
    out: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[str], None] = _quiet,
) -> BatchResult:
    """Audit every unit of a manifest on Dask and write the combined outputs into ``out``.

    Parameters
    ----------
    manifest
        The manifest file (or a manifest already read).
    out
        The batch folder: units go to ``out/units/NAME/``, the combined files to ``out``.
    scheduler
        A Dask scheduler address (``tcp://host:port``); None starts a local cluster.
    workers
        Worker processes of the local cluster (default 2).
    resume
        Skip a unit whose folder holds a complete report for unchanged inputs and settings.
    overwrite
        Redo every unit of a folder that holds an earlier batch.
    progress
        Receives one line as each unit finishes (name, seconds, residents), or fails.

    Raises
    ------
    CirclesError
        A bad manifest, an unusable output folder, a scheduler that does not answer, or (in a
        partition) inputs that cannot be read. Failures of single units do not raise: they are
        in the result's ``units`` with status ``failed``.
    """
    # absolute paths: the workers of a cluster do not share this process's working folder
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(Path(manifest).absolute())
    out = Path(out).absolute()
    _check_out(out, overwrite=overwrite, resume=resume)
    # everything the user can get wrong in the manifest is found before a cluster starts
    if manifest.partition is not None:
        from circles.batch.split import partition_tasks, shared_settings

        shared, loaded = shared_settings(manifest, out)
    else:
        tasks = [
            UnitTask(name, settings, out / UNITS_DIR / name, fingerprint(settings))
            for name, settings in _unit_settings(manifest, out)
        ]
        unassigned, warnings, order = 0, list[str](), None
    halo_m: float | None = None
    with dask_client(scheduler, workers) as client:
        if manifest.partition is not None:
            plan = partition_tasks(manifest, shared, loaded, out, client)
            tasks, unassigned, warnings, order = (
                plan.tasks,
                plan.unassigned,
                plan.warnings,
                plan.order,
            )
            halo_m = round(plan.halo_m, 1)
        records = _run_tasks(client, tasks, resume=resume, progress=progress)
    result = BatchResult(out, records, unassigned=unassigned, warnings=warnings, halo_m=halo_m)
    _combine(manifest, out, tasks, result, order)
    return result


def _run_tasks(
    client: Any, tasks: list[UnitTask], *, resume: bool, progress: Callable[[str], None]
) -> list[dict]:
    from distributed import as_completed

    records: dict[str, dict] = {}
    futures = {}
    for task in tasks:
        done = finished(task.folder, task.fingerprint) if resume else None
        if done is not None:
            records[task.name] = {**done, "status": "resumed"}
            progress(f"{task.name}: unchanged, skipped (--resume)")
            continue
        future = client.submit(run_unit, task, pure=False, retries=RETRIES)
        futures[future] = task
    start = time.perf_counter()
    for future in as_completed(list(futures)):
        task = futures[future]
        if future.status == "finished":
            record = future.result()
            records[task.name] = record
            progress(
                f"{task.name}: done in {record['seconds']:.1f} s, {record['residents']} residents"
            )
        else:
            exc = future.exception()
            message = str(exc) if isinstance(exc, UnitError) else f"{type(exc).__name__}: {exc}"
            records[task.name] = {
                "name": task.name,
                "status": "failed",
                "seconds": round(time.perf_counter() - start, 3),
                "error": message,
                "user_error": bool(getattr(exc, "user", False)),
            }
            progress(f"{task.name}: failed after a retry: {message}")
        future.release()
    return [records[t.name] for t in tasks]


def _combine(
    manifest: Manifest,
    out: Path,
    tasks: list[UnitTask],
    result: BatchResult,
    order: list | None = None,
) -> None:
    """Write the combined files; a partition's residents in ``order`` (the input's ids)."""
    from circles.report.files import summary_json, write_csv
    from circles.rules.load import load_rules

    ok = {r["name"]: r for r in result.units if r["status"] in ("ok", "resumed")}
    residents: dict[str, pd.DataFrame] = {}
    times: dict[str, pd.DataFrame] = {}
    settings = {t.name: t.settings for t in tasks}
    for task in tasks:
        if task.name in ok:
            residents[task.name], times[task.name] = unit_tables(task.folder)
    circles = {
        name: [
            lc.circle
            for lc in load_rules(
                settings[name].rules or None, circle_ids=settings[name].circle_ids or None
            )
        ]
        for name in residents
    }
    bom = tasks[0].settings.csv_bom if tasks else True
    table = combined_residents(residents)
    all_times = pd.concat(list(times.values()), ignore_index=True) if times else None
    if order is not None and len(table) and pd.Index(order).is_unique:  # as one audit gives it
        position = pd.Index(order).get_indexer(table["resident_id"])
        if (position >= 0).all():
            sort = np.argsort(position, kind="stable")
            table = table.iloc[sort].reset_index(drop=True)
            if all_times is not None:
                all_times = all_times.iloc[sort].reset_index(drop=True)
    if manifest.partition is not None:
        comm_ids = list(
            dict.fromkeys(c for name in residents for c in ok[name].get("community_ids", []))
        )
        subdistricts = {k: v for name in residents for k, v in ok[name]["subdistricts"].items()}
        first = next(iter(circles.values()), [])
        if not any(t.settings.communities for t in tasks):  # from a column: in input order
            comm_ids = [c for c in pd.unique(table["community_id"]) if c != UNASSIGNED]
        cov = (
            partition_coverage(table, all_times, first, comm_ids, subdistricts)
            if residents and all_times is not None
            else pd.DataFrame()
        )
    else:
        coverages = {
            name: pd.read_csv(
                out / UNITS_DIR / name / REPORT_DIR / "coverage.csv",
                encoding="utf-8-sig",
                dtype={"community_id": str},
                keep_default_na=False,
                na_values=[""],
            )
            for name in residents
        }
        cov = units_coverage(coverages, residents, times, circles) if residents else pd.DataFrame()
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "residents.csv", bom=bom)
    write_csv(cov, out / "coverage.csv", bom=bom)
    units = pd.DataFrame(
        [
            {
                "unit": r["name"],
                "status": r["status"],
                "seconds": r.get("seconds"),
                "residents": r.get("residents"),
                "population": r.get("population"),
                "peak_rss_mib": r.get("peak_rss_mib"),
                "error": r.get("error", ""),
            }
            for r in result.units
        ]
    )
    write_csv(units, out / "units.csv", bom=bom)
    summary = {
        "batch": {
            "manifest": str(manifest.path),
            "mode": "partition" if manifest.partition is not None else "units",
            "units_total": len(result.units),
            "units_ok": sum(r["status"] == "ok" for r in result.units),
            "units_resumed": sum(r["status"] == "resumed" for r in result.units),
            "units_failed": len(result.failed),
            "residents": len(table),
            "population": float(table["population"].sum()) if len(table) else 0.0,
            "unassigned_residents": result.unassigned,
            "halo_m": result.halo_m,
            "warnings": result.warnings,
        },
        "coverage": overall_rows(cov) if len(cov) else [],
        "units": [
            {k: v for k, v in r.items() if k not in ("community_ids", "subdistricts")}
            for r in result.units
        ],
    }
    (out / "summary.json").write_text(summary_json(summary), encoding="utf-8")
    write_batch_workbook(out / "report.xlsx", units, cov, summary)


def read_summary(out: Path) -> dict:
    """The batch's summary.json."""
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))
