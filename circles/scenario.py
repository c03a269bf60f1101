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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from circles.audit import AuditResult, run_audit
from circles.settings import Settings

if TYPE_CHECKING:
    from circles.report.files import PendingCsv


@dataclass
class Scenario:
    """An audit's results, and with planned facilities the planned audit and the comparison.

    ``residents_csv`` is the status quo's residents table already formatted as CSV (or None),
    ``planned_residents_csv`` the planned audit's.
    """

    result: AuditResult
    planned: AuditResult | None
    comparison: pd.DataFrame | None
    residents_csv: PendingCsv | None
    planned_residents_csv: PendingCsv | None = None


def run_scenario(
    options: Settings,
    progress: Callable[[str], None] = lambda _: None,
) -> Scenario:
    """Audit the status quo, and the planned scenario when ``options.planned`` is given.

    ``progress`` receives each stage's name (see :data:`circles.audit.STAGES`), and
    ``"planned"`` before the planned audit.

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
    formatted: dict[str, Any] = {}

    def stage(name: str) -> None:
        progress(name)
        if name == "snap" and writer.ident is None:
            writer.start()

    def on_residents(table: pd.DataFrame, key: str = "status_quo") -> None:
        from circles.report.files import PendingCsv

        formatted[key] = PendingCsv(table)  # formatted while coverage is worked out

    def on_planned_residents(table: pd.DataFrame) -> None:
        on_residents(table, "planned")

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
        formatted.get("status_quo"),
        formatted.get("planned"),
    )
