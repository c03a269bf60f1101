"""The status quo and, with planned facilities, the planned scenario and their comparison.

``run_scenario`` is what ``circles audit`` runs: one audit, or two when ``planned`` is given
(the second with the planned facilities added), and the before/after comparison. While the
audits work, the report writer is imported and the residents table is formatted as CSV on other
threads (both joined before it returns).
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
    table formatted as CSV, and with ``layers_ahead`` their GIS layer: see
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


def run_scenario(
    options: Settings,
    progress: Callable[[str], None] = lambda _: None,
    *,
    layers_ahead: bool = False,
) -> Scenario:
    """Audit the status quo, and the planned scenario when ``options.planned`` is given.

    ``progress`` receives each stage's name (see :data:`circles.audit.STAGES`), and
    ``"planned"`` before the planned audit. With ``layers_ahead`` and GeoPackage layers
    (``options.layer_format``), each audit's residents layer is written by a child process
    while the audit goes on, into a scratch folder beside ``options.out`` (see
    :mod:`circles.report.layer_process`).

    Raises
    ------
    CirclesError
        Any problem the user can fix (rules, inputs, network).
    """
    planned_path = options.planned
    status_quo = options.model_copy(update={"planned": None}) if planned_path else options
    # the report writer (openpyxl) is imported while the networks snap, when the main thread
    # waits on work that runs without the GIL
    writer = threading.Thread(
        target=importlib.import_module, args=("circles.report.files",), daemon=True
    )
    started: dict[str, Ahead] = {}

    def stage(name: str) -> None:
        progress(name)
        if name == "snap" and writer.ident is None:
            writer.start()

    def on_residents(table: pd.DataFrame, xy: np.ndarray, crs: object) -> None:
        started["status_quo"] = _ahead(table, xy, crs, options, layers=layers_ahead)

    def on_planned_residents(table: pd.DataFrame, xy: np.ndarray, crs: object) -> None:
        started["planned"] = _ahead(table, xy, crs, options, layers=layers_ahead)

    # the planned audit takes what the status quo's found and still holds (circles.reuse)
    reuse = None
    if planned_path is not None:
        from circles.reuse import Reuse

        reuse = Reuse()
    try:
        result = run_audit(status_quo, progress=stage, on_residents=on_residents, reuse=reuse)
        planned = None
        if planned_path is not None:
            progress("planned")
            planned = run_audit(options, reuse=reuse, on_residents=on_planned_residents)
    except BaseException:
        for ahead in started.values():  # no child process outlives a failed audit
            ahead.close()
        raise
    finally:
        if writer.ident is not None:  # no thread of the scenario outlives it
            writer.join()
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
        started.get("status_quo"),
        started.get("planned"),
    )


def _ahead(
    table: pd.DataFrame, xy: np.ndarray, crs: object, options: Settings, *, layers: bool
) -> Ahead:
    """Start on an audit's residents report files as soon as its table is final.

    The table is formatted as CSV while coverage is worked out; with ``layers`` its GeoPackage
    layer is written by a child process meanwhile (when a scratch folder can be made).
    """
    from circles.report.files import Ahead, PendingCsv

    ahead = Ahead(csv=PendingCsv(table))
    if layers and options.layer_format == "gpkg":
        from circles.report.layer_process import PendingLayer
        from circles.report.staging import scratch_folder

        scratch = scratch_folder(options.out)
        if scratch is not None:
            ahead.layer = PendingLayer(
                table, xy, crs, options.crs_out, layer="residents", scratch=scratch
            )
    return ahead
