"""The status quo and, with planned facilities, the planned scenario and their comparison.

``run_scenario`` is what ``circles audit`` runs: one audit, or two when ``planned`` is given
(the second with the planned facilities added), and the before/after comparison. While the
audits work, the report writer is imported and the residents table is formatted as CSV on other
threads (both joined before it returns); on request, the residents' GIS layer is written by a
child process (see :mod:`circles.report.layer_process`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles.audit import AuditResult, run_audit
from circles.settings import Settings

if TYPE_CHECKING:
    from circles.report.files import Ahead


@dataclass
class Scenario:
    """An audit's results, and with planned facilities the planned audit and the comparison.

    ``ahead`` is what was started for the status quo's residents while it was audited (their
    table formatted as CSV, and with ``write_ahead`` their GIS layer: see
    :func:`run_scenario`), ``planned_ahead`` the same for the planned audit's, or None. The
    report writer closes these; a caller that writes no report closes them with :meth:`close`.
    """

    result: AuditResult
    planned: AuditResult | None
    comparison: pd.DataFrame | None
    ahead: Ahead | None = None
    planned_ahead: Ahead | None = None

    def close(self) -> None:
        """Stop what is still being made for the report (for a caller that writes none)."""
        for started in (self.ahead, self.planned_ahead):
            if started is not None:
                started.close()


#: the stages after an audit's memory peak (coverage and the summary): the residents' layer
#: is handed to its child process then, so that the child's memory is not added to the peak
AFTER_PEAK = ("areas", "impact")


def run_scenario(
    options: Settings,
    progress: Callable[[str], None] = lambda _: None,
    *,
    write_ahead: bool = False,
) -> Scenario:
    """Audit the status quo, and the planned scenario when ``options.planned`` is given.

    ``progress`` receives each stage's name (see :data:`circles.audit.STAGES`), and
    ``"planned"`` before the planned audit. With ``write_ahead``, each audit's residents
    report files are written while the audit goes on, into a scratch folder beside
    ``options.out``: the CSV as it is formatted, and with GeoPackage layers
    (``options.layer_format``) the GIS layer by a child process (see
    :mod:`circles.report.layer_process`).

    Raises
    ------
    CirclesError
        Any problem the user can fix (rules, inputs, network).
    """
    planned_path = options.planned
    status_quo = options.model_copy(update={"planned": None}) if planned_path else options
    meanwhile = _Meanwhile(options, progress, on_disk=write_ahead)
    # the planned audit takes what the status quo's found and still holds (circles.reuse)
    reuse = None
    if planned_path is not None:
        from circles.reuse import Reuse

        reuse = Reuse()
    with meanwhile:
        result = run_audit(
            status_quo,
            progress=meanwhile.progress("status_quo"),
            on_residents=meanwhile.on_residents("status_quo"),
            reuse=reuse,
        )
        planned = None
        if planned_path is not None:
            progress("planned")
            planned = run_audit(
                options,
                progress=meanwhile.progress("planned"),
                on_residents=meanwhile.on_residents("planned"),
                reuse=reuse,
            )
    comparison = None
    if planned is not None:
        from circles.evaluate.compare import compare

        comparison = compare(result.coverage, planned.coverage, result.residents, planned.residents)
        before, after = result.geo, planned.geo
        if (
            before is not None
            and after is not None
            and np.array_equal(after.resident_xy, before.resident_xy, equal_nan=True)
        ):
            after.resident_points = before.resident_points  # made once, for both reports
    return Scenario(
        result,
        planned,
        comparison,
        meanwhile.started.get("status_quo"),
        meanwhile.started.get("planned"),
    )


class _Meanwhile:
    """What the scenario does while its audits run, for the report that follows.

    The report writer (openpyxl) is imported while the networks snap, when the main thread
    waits on work that runs without the GIL; each audit's residents table is formatted as CSV
    as soon as it is final, and its GIS layer handed to a child process once the audit's
    memory peak has passed (:data:`AFTER_PEAK`, or when the audit ends). Leaving the block
    joins the import; when an audit failed, what was started is stopped.
    """

    def __init__(self, options: Settings, progress: Callable[[str], None], *, on_disk: bool):
        self._options, self._progress, self._on_disk = options, progress, on_disk
        self._writer = threading.Thread(
            target=importlib.import_module, args=("circles.report.files",), daemon=True
        )
        self.started: dict[str, Ahead] = {}

    def progress(self, key: str) -> Callable[[str], None]:
        """The ``progress`` callback of one audit (only the status quo's stages are shown)."""

        def stage(name: str) -> None:
            if key == "status_quo":
                self._progress(name)
            if name == "snap" and self._writer.ident is None:
                self._writer.start()
            if name in AFTER_PEAK and key in self.started:
                self.started[key].start()

        return stage

    def on_residents(self, key: str) -> Callable[[pd.DataFrame, np.ndarray, object], None]:
        """The ``on_residents`` callback of one audit."""

        def started(table: pd.DataFrame, xy: np.ndarray, crs: object) -> None:
            self.started[key] = _ahead(table, xy, crs, self._options, on_disk=self._on_disk)

        return started

    def __enter__(self) -> _Meanwhile:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self._writer.ident is not None:  # no thread of the scenario outlives it
            self._writer.join()
        for ahead in self.started.values():
            if error is not None:  # no child process outlives a failed audit
                ahead.close()
            else:  # an audit without service areas: started now
                ahead.start()


def _ahead(
    table: pd.DataFrame, xy: np.ndarray, crs: object, options: Settings, *, on_disk: bool
) -> Ahead:
    """Start on an audit's residents report files as soon as its table is final.

    The table is formatted as CSV while coverage is worked out. With ``on_disk`` (and a
    scratch folder beside ``options.out``), the formatted rows go to a file there instead of
    memory, and a GeoPackage layer is prepared for a child process (:meth:`Ahead.start`).
    """
    from circles.report.files import Ahead, PendingCsv

    scratch = None
    if on_disk:
        from circles.report.staging import scratch_folder

        scratch = scratch_folder(options.out)
    if scratch is None:
        return Ahead(csv=PendingCsv(table))
    ahead = Ahead(
        csv=PendingCsv(table, spool=scratch / "residents.csv", bom=options.csv_bom),
        scratch=scratch,
    )
    if options.layer_format == "gpkg":
        from circles.report.layer_process import PendingLayer

        (scratch / "layer").mkdir()
        ahead.layer = PendingLayer(
            table, xy, crs, options.crs_out, layer="residents", scratch=scratch / "layer"
        )
    return ahead
