"""Comparing two audits: coverage before and after, and who newly meets each requirement.

Pure pandas: the two audits' coverage tables and (when both have them, with the same residents)
their residents tables, as read from two report folders or taken from two runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["circle_id", "requirement_id", "scope", "community_id"]
COMPARISON_COLUMNS = [
    *KEYS,
    "population_total",
    "coverage_before",
    "coverage_after",
    "coverage_change",
    "population_met_before",
    "population_met_after",
    "newly_met_population",
    "no_longer_met_population",
]


def _resident_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame | None:
    """Per requirement column and community: population that starts or stops meeting it."""
    if list(before["resident_id"]) != list(after["resident_id"]):
        return None
    shared = [c for c in before.columns if ("/" in c) and c in after.columns]
    circles = [
        c
        for c in before.columns
        if c in after.columns and c in set(col.split("/")[0] for col in shared)
    ]
    pop = after["population"].to_numpy(dtype=float)
    community = after["community_id"].astype(str).to_numpy(dtype=object)
    rows = []
    for column in [*circles, *shared]:
        was = before[column].to_numpy() == 1
        now = after[column].to_numpy() == 1
        circle_id, _, requirement_id = column.partition("/")
        gained, lost = pop * (now & ~was), pop * (was & ~now)
        frame = pd.DataFrame({"community_id": community, "gained": gained, "lost": lost})
        per = frame.groupby("community_id", sort=False)[["gained", "lost"]].sum()
        rows.append(
            pd.DataFrame(
                {
                    "circle_id": circle_id,
                    "requirement_id": requirement_id,
                    "scope": "overall",
                    "community_id": "",
                    "newly_met_population": [gained.sum()],
                    "no_longer_met_population": [lost.sum()],
                }
            )
        )
        rows.append(
            pd.DataFrame(
                {
                    "circle_id": circle_id,
                    "requirement_id": requirement_id,
                    "scope": "community",
                    "community_id": per.index.to_numpy(dtype=object),
                    "newly_met_population": per["gained"].to_numpy(),
                    "no_longer_met_population": per["lost"].to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else None


def compare(
    before: pd.DataFrame,
    after: pd.DataFrame,
    residents_before: pd.DataFrame | None = None,
    residents_after: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Coverage before, after and the change, per circle, requirement and community.

    ``newly_met_population`` counts the people who meet a requirement after but not before
    (and ``no_longer_met_population`` the reverse), from the residents tables when both list the
    same residents; otherwise only the net change of ``population_met`` is known and these two
    columns are NaN.
    """
    b = before.copy()
    a = after.copy()
    for frame in (a, b):
        frame["requirement_id"] = frame["requirement_id"].fillna("").astype(str)
        frame["community_id"] = frame["community_id"].fillna("").astype(str)
    merged = b[[*KEYS, "population_total", "population_met", "coverage_ratio"]].merge(
        a[[*KEYS, "population_total", "population_met", "coverage_ratio"]],
        on=KEYS,
        how="outer",
        suffixes=("_before", "_after"),
    )
    out = pd.DataFrame({k: merged[k] for k in KEYS})
    out["population_total"] = merged["population_total_after"].fillna(
        merged["population_total_before"]
    )
    out["coverage_before"] = merged["coverage_ratio_before"]
    out["coverage_after"] = merged["coverage_ratio_after"]
    out["coverage_change"] = out["coverage_after"] - out["coverage_before"]
    out["population_met_before"] = merged["population_met_before"]
    out["population_met_after"] = merged["population_met_after"]
    changes = (
        _resident_changes(residents_before, residents_after)
        if residents_before is not None and residents_after is not None
        else None
    )
    if changes is not None:
        out = out.merge(changes, on=KEYS, how="left")
        for col in ("newly_met_population", "no_longer_met_population"):
            known = out["scope"].isin(["overall", "community"])
            out.loc[known, col] = out.loc[known, col].fillna(0.0)
    else:
        out["newly_met_population"] = np.nan
        out["no_longer_met_population"] = np.nan
    order = {"overall": 0, "community": 1, "subdistrict": 2}
    out["_order"] = out["scope"].map(order)
    out = out.sort_values(
        ["circle_id", "requirement_id", "_order", "community_id"], kind="stable"
    ).drop(columns="_order")
    return out[COMPARISON_COLUMNS].reset_index(drop=True)
