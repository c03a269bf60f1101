"""Rich tables of a POI classification: categories mapped to facility types, and unmapped ones."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from circles.catalogue.classify import MATCH_KINDS, matched_summary, unmapped_summary

KIND_LABELS = {
    "typecode": "typecode",
    "type_string": "type string",
    "label": "newer label",
    "osm_tag": "OSM tag",
    "name_keyword": "name keyword",
}


def classification_tables(result: pd.DataFrame) -> list[Table]:
    """Tables of a classification: rule kinds, mapped categories by rule, unmapped categories.

    ``result`` is :func:`circles.catalogue.classify.classify`'s output.
    """
    mapped = result[result["facility_type"] != ""]
    kinds = Table(title=f"Mapped: {len(mapped):,} of {len(result):,} POIs", title_justify="left")
    kinds.add_column("matched by", no_wrap=True)
    kinds.add_column("POIs", justify="right")
    counts = mapped["matched_by"].value_counts()
    for kind in MATCH_KINDS:
        if counts.get(kind, 0):
            kinds.add_row(KIND_LABELS[kind], f"{int(counts[kind]):,}")
    table = Table(title="Mapped categories and the rule that matched", title_justify="left")
    table.add_column("facility type", no_wrap=True)
    table.add_column("matched by", no_wrap=True)
    table.add_column("rule", overflow="fold")
    table.add_column("source category", overflow="fold")
    table.add_column("POIs", justify="right")
    for row in matched_summary(result).itertuples():
        table.add_row(
            str(row.facility_type),
            KIND_LABELS.get(str(row.matched_by), str(row.matched_by)),
            str(row.rule),
            str(row.category or "(none)"),
            f"{row.count:,}",
        )
    unmapped = unmapped_summary(result)
    rest = Table(
        title=f"Unmapped: {int(unmapped['count'].sum()) if len(unmapped) else 0:,} POIs — add "
        "their categories, labels, OSM tags or name keywords to rules/facilities.yaml to use them",
        title_justify="left",
    )
    rest.add_column("source category", overflow="fold")
    rest.add_column("POIs", justify="right")
    for row in unmapped.head(40).itertuples():
        rest.add_row(str(row.category or "(none)"), f"{row.count:,}")
    return [kinds, table, rest]
