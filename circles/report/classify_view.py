"""Rich tables of a POI classification: categories mapped to facility types, and unmapped ones."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from circles.classify import unmapped_summary


def classification_tables(result: pd.DataFrame) -> list[Table]:
    """A table of mapped categories (category → type, count) and one of unmapped categories."""
    mapped = result[result["facility_type"] != ""]
    by = (
        mapped.groupby(["category", "facility_type"], dropna=False)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["facility_type", "count"], ascending=[True, False])
    )
    table = Table(title=f"Mapped: {len(mapped):,} of {len(result):,} POIs", title_justify="left")
    table.add_column("facility type", no_wrap=True)
    table.add_column("source category", overflow="fold")
    table.add_column("POIs", justify="right")
    for row in by.itertuples():
        table.add_row(
            str(row.facility_type), str(row.category or "(name keyword)"), f"{row.count:,}"
        )
    unmapped = unmapped_summary(result)
    rest = Table(
        title=f"Unmapped: {int(unmapped['count'].sum()) if len(unmapped) else 0:,} POIs — add "
        "their categories or name keywords to rules/facilities.yaml to use them",
        title_justify="left",
    )
    rest.add_column("source category", overflow="fold")
    rest.add_column("POIs", justify="right")
    for row in unmapped.head(40).itertuples():
        rest.add_row(str(row.category or "(none)"), f"{row.count:,}")
    return [table, rest]
