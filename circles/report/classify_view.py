"""Rich tables of a POI classification: categories mapped to facility types, and unmapped ones."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from circles.catalogue.classify import MATCH_KINDS, matched_summary, unmapped_summary
from circles.report.text import TEXT, say

#: The language of the view (its words are the ``view_*`` keys of the text table).
LANG = "en"


def _word(key: str, /, **values: object) -> str:
    return say(LANG, f"view_{key}", **values)


def _kind(kind: str) -> str:
    """A rule kind's name ("newer label"); unknown kinds as they are."""
    return _word(f"kind_{kind}") if f"view_kind_{kind}" in TEXT["en"] else kind


def classification_tables(result: pd.DataFrame) -> list[Table]:
    """Tables of a classification: rule kinds, mapped categories by rule, unmapped categories.

    ``result`` is :func:`circles.catalogue.classify.classify`'s output.
    """
    mapped = result[result["facility_type"] != ""]
    kinds = Table(
        title=_word("mapped_title", mapped=f"{len(mapped):,}", total=f"{len(result):,}"),
        title_justify="left",
    )
    kinds.add_column(_word("matched_by"), no_wrap=True)
    kinds.add_column(_word("pois"), justify="right")
    counts = mapped["matched_by"].value_counts()
    for kind in MATCH_KINDS:
        if counts.get(kind, 0):
            kinds.add_row(_kind(kind), f"{int(counts[kind]):,}")
    table = Table(title=_word("mapped_categories"), title_justify="left")
    table.add_column(_word("facility_type"), no_wrap=True)
    table.add_column(_word("matched_by"), no_wrap=True)
    table.add_column(_word("rule"), overflow="fold")
    table.add_column(_word("source_category"), overflow="fold")
    table.add_column(_word("pois"), justify="right")
    for row in matched_summary(result).itertuples():
        table.add_row(
            str(row.facility_type),
            _kind(str(row.matched_by)),
            str(row.rule),
            str(row.category or _word("none")),
            f"{row.count:,}",
        )
    unmapped = unmapped_summary(result)
    count = int(unmapped["count"].sum()) if len(unmapped) else 0
    rest = Table(title=_word("unmapped_title", count=f"{count:,}"), title_justify="left")
    rest.add_column(_word("source_category"), overflow="fold")
    rest.add_column(_word("pois"), justify="right")
    for row in unmapped.head(40).itertuples():
        rest.add_row(str(row.category or _word("none")), f"{row.count:,}")
    return [kinds, table, rest]
