"""The status quo and, with planned facilities, the planned scenario and their comparison.

``run_scenario`` is what ``circles audit`` runs: one audit, or two when ``planned`` is given
(the second with the planned facilities added), and the before/after comparison. While the
audits work, the report writer is imported and the residents table is formatted as CSV on other
threads (joined before it returns); asked to, it also writes the residents' GIS layer for the
report folder meanwhile (:class:`circles.report.gis.ResidentsLayer`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyproj import CRS

from circles.audit import AuditResult, ResidentsHook, run_audit
from circles.settings import Settings

if TYPE_CHECKING:
    from circles.report.files import ResidentsFiles


@dataclass
class Scenario:
    """An audit's results, and with planned facilities the planned audit and the comparison.

    ``residents`` are the status quo's residents files being made (CSV text, and the GIS layer
    when asked for; or None), ``planned_residents`` the planned audit's: give them to
    :func:`circles.report.files.write_report`, or :meth:`discard` them.
    """

    result: AuditResult
    planned: AuditResult | None
    comparison: pd.DataFrame | None
    residents: ResidentsFiles | None
    planned_residents: ResidentsFiles | None = None

    def discard(self) -> None:
        """Remove the residents files made ahead that no report took."""
        for made in (self.residents, self.planned_residents):
            if made is not None:
                made.discard()


def run_scenario(
    options: Settings,
    progress: Callable[[str], None] = lambda _: None,
    *,
    early_layers: bool = False,
) -> Scenario:
    """Audit the status quo, and the planned scenario when ``options.planned`` is given.

    ``progress`` receives each stage's name (see :data:`circles.audit.STAGES`), and
    ``"planned"`` before the planned audit. With ``early_layers`` the residents' GIS layers
    for the report folder ``options.out`` are written while the audits end (beside it, until
    :func:`circles.report.files.write_report` takes them).

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

    def on_residents(key: str) -> ResidentsHook:
        def started(table: pd.DataFrame, xy: np.ndarray, crs: CRS) -> None:
            from circles.report.files import LayerOptions, residents_files

            # formatted (and the layer written beside the report folder) while the audit ends
            out = options.out if early_layers else None
            layers = LayerOptions.of(options)
            formatted[key] = residents_files(table, xy, crs, out=out, layers=layers)

        return started

    # the planned audit takes what the status quo's found and still holds (circles.reuse)
    reuse = None
    if planned_path is not None:
        from circles.reuse import Reuse

        reuse = Reuse()
    try:
        result = run_audit(
            status_quo, progress=stage, on_residents=on_residents("status_quo"), reuse=reuse
        )
        planned = None
        if planned_path is not None:
            progress("planned")
            planned = run_audit(options, reuse=reuse, on_residents=on_residents("planned"))
        comparison = None if planned is None else _compare(result, planned)
    except BaseException:
        for made in formatted.values():
            made.discard()
        raise
    finally:
        if writer.ident is not None:  # no thread of the scenario outlives it
            writer.join()
    return Scenario(
        result,
        planned,
        comparison,
        formatted.get("status_quo"),
        formatted.get("planned"),
    )


def _compare(result: AuditResult, planned: AuditResult) -> pd.DataFrame:
    """The comparison of the two audits (and the planned report takes the residents' points)."""
    from circles.evaluate.compare import compare

    comparison = compare(result.coverage, planned.coverage, result.residents, planned.residents)
    before, after = result.geo, planned.geo
    if (
        before is not None
        and after is not None
        and np.array_equal(after.resident_xy, before.resident_xy, equal_nan=True)
    ):
        after.resident_points = before.resident_points  # made once, for both reports
    return comparison
