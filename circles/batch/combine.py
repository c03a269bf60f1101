"""The batch's combined outputs: every unit's residents, coverage over all, and the units table.

``coverage.csv`` is recomputed, not added up: the units' residents tables are concatenated and
:func:`circles.evaluate.checks.coverage` runs once more over them, on their met columns and
populations and on the units' per-requirement times (for ``median_min_not_met``). The numbers are
then exactly those of one audit over all the residents. In a partition every unit reads the same
communities, so the rows are per community across units (a community cut by a unit border is
one row). With ``units:`` (separate cities) each unit's own rows are kept, with a ``unit``
column, and rows with unit ``all`` give each circle's overall coverage over every unit that
audits it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from circles.batch.unit import RESIDENTS_FILE, TIMES_FILE
from circles.evaluate.checks import coverage
from circles.rules.schema import Circle


def unit_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A finished unit's residents table and per-requirement times."""
    return pd.read_parquet(folder / RESIDENTS_FILE), pd.read_parquet(folder / TIMES_FILE)


def combined_residents(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every unit's residents, in unit order, with the unit's name first."""
    frames = [t.assign(unit=name)[["unit", *t.columns]] for name, t in tables.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"unit": []})


def _met_and_times(
    residents: pd.DataFrame, times: pd.DataFrame, circles: list[Circle]
) -> tuple[dict, dict]:
    met: dict[tuple[str, str], np.ndarray] = {}
    times_min: dict[tuple[str, str], np.ndarray] = {}
    for c in circles:
        met[(c.id, "")] = residents[c.id].to_numpy(dtype=bool)
        for r in c.requirements:
            met[(c.id, r.id)] = residents[f"{c.id}/{r.id}"].to_numpy(dtype=bool)
            column = f"{c.id}/{r.id}"
            if column in times.columns:
                times_min[(c.id, r.id)] = times[column].to_numpy(dtype=float)
    return met, times_min


def partition_coverage(
    residents: pd.DataFrame,
    times: pd.DataFrame,
    circles: list[Circle],
    community_ids: list[str],
    subdistricts: dict[str, str],
) -> pd.DataFrame:
    """Coverage over the residents of every unit of a partition (one row per community)."""
    met, times_min = _met_and_times(residents, times, circles)
    frame = residents[["community_id", "population"]].reset_index(drop=True)
    return coverage(
        frame,
        circles,
        met,
        community_ids,
        subdistricts=subdistricts or None,
        times_min=times_min,
    )


def units_coverage(
    coverages: dict[str, pd.DataFrame],
    residents: dict[str, pd.DataFrame],
    times: dict[str, pd.DataFrame],
    circles: dict[str, list[Circle]],
) -> pd.DataFrame:
    """Each unit's coverage with a ``unit`` column, then per circle the overall over all units.

    A circle audited by several units is taken as the first unit defines it (its targets).
    """
    frames = [cov.assign(unit=name) for name, cov in coverages.items()]
    first: dict[str, Circle] = {}
    for name in circles:
        for c in circles[name]:
            first.setdefault(c.id, c)
    for cid, circle in first.items():
        names = [n for n in circles if any(c.id == cid for c in circles[n])]
        rows = pd.concat([residents[n] for n in names], ignore_index=True)
        tms = pd.concat([times[n] for n in names], ignore_index=True)
        met, times_min = _met_and_times(rows, tms, [circle])
        frame = pd.DataFrame(
            {"community_id": np.zeros(len(rows), dtype=object), "population": rows["population"]}
        )
        frame["community_id"] = "all"
        cov = coverage(frame, [circle], met, [], times_min=times_min)
        frames.append(cov[cov["scope"] == "overall"].assign(unit="all"))
    out = pd.concat(frames, ignore_index=True)
    return out[["unit", *(c for c in out.columns if c != "unit")]]


def overall_rows(cov: pd.DataFrame) -> list[dict]:
    """The overall coverage rows (circle and requirement) as plain records for summary.json."""
    rows = cov[cov["scope"] == "overall"]
    if "unit" in rows.columns:
        rows = rows[rows["unit"] == "all"]
    keep = ["circle_id", "requirement_id", "population_total", "population_met"]
    keep += ["coverage_ratio", "target_coverage", "is_gap"]
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in rows[keep].to_dict("records")
    ]
