"""Facility classification: map Amap/Baidu POI rows to catalogue facility types.

A row matches a facility type by its Amap typecode or type string (大类;中类;小类), by its Baidu
tag, or — for types no category identifies, such as elderly day-care — by name keywords alone.
Name keywords then choose between types that share a category (a 卫生院-typed POI is a health
station or a health centre by its name), and exclusions rule out near misses (早教 and 托管 are
not kindergartens). Rows that match nothing stay unmapped and are listed with their counts so
the catalogue can be extended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from circles.catalogue import Catalogue
from circles.schema import FacilityEntry

NAME_COLUMNS = ("name", "名称", "poi名称", "poi_name", "title")
TYPE_COLUMNS = ("type", "类型", "poi类型", "分类", "tag", "类别")
TYPECODE_COLUMNS = ("typecode", "type_code", "类型编码", "typecodes", "code")
LEVEL_COLUMNS = (("大类", "中类", "小类"), ("big_category", "mid_category", "sub_category"))


@dataclass(frozen=True)
class PoiColumns:
    """Which columns of a POI table hold the name, the category text and the typecode."""

    name: str | None
    category: str | None
    typecode: str | None
    levels: tuple[str, ...] = ()


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def poi_columns(frame: pd.DataFrame) -> PoiColumns:
    """Detect the name, category and typecode columns of an Amap- or Baidu-style table."""
    columns = [str(c) for c in frame.columns]
    levels: tuple[str, ...] = ()
    for triple in LEVEL_COLUMNS:
        if all(_find(columns, (t,)) for t in triple):
            levels = tuple(_find(columns, (t,)) for t in triple)  # type: ignore[misc]
    return PoiColumns(
        name=_find(columns, NAME_COLUMNS),
        category=_find(columns, TYPE_COLUMNS),
        typecode=_find(columns, TYPECODE_COLUMNS),
        levels=levels,
    )


def looks_like_poi_table(frame: pd.DataFrame, catalogue: Catalogue) -> bool:
    """Whether the type column holds source categories (Amap-like) rather than catalogue ids."""
    cols = poi_columns(frame)
    if cols.typecode or cols.levels:
        return True
    if cols.category is None:
        return False
    values = frame[cols.category].astype("string").fillna("").str.strip()
    values = values[values != ""]
    if values.empty:
        return False
    known = values.isin(list(catalogue.types)).mean()
    return bool(known < 0.5)


def _category_text(frame: pd.DataFrame, cols: PoiColumns) -> pd.Series:
    if cols.levels:
        parts = [frame[c].astype("string").fillna("").str.strip() for c in cols.levels]
        return (parts[0] + ";" + parts[1] + ";" + parts[2]).str.strip(";")
    if cols.category:
        return frame[cols.category].astype("string").fillna("").str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype="string")


def _matches_category(entry: FacilityEntry, category: str, codes: list[str]) -> int:
    """Strength of a category match: the length of the matched type string, or 6 for a code."""
    best = 0
    if entry.amap is not None:
        if any(c in entry.amap.typecodes for c in codes):
            best = max(best, 100)
        for text in entry.amap.types:
            if (
                category == text
                or category.startswith(text + ";")
                or ("|" in category and any(p.startswith(text) for p in category.split("|")))
            ):
                best = max(best, len(text))
    for tag in entry.baidu:
        if category == tag or category.startswith(tag):
            best = max(best, len(tag))
    return best


def classify(frame: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Facility type and the reason for every row of a POI table (``""`` when unmapped).

    Returns
    -------
    pandas.DataFrame
        Columns ``facility_type``, ``matched_by`` and ``category`` (the source category text),
        aligned with ``frame``.
    """
    cols = poi_columns(frame)
    names = (
        frame[cols.name].astype("string").fillna("").to_numpy(dtype=object)
        if cols.name
        else np.full(len(frame), "", dtype=object)
    )
    categories = _category_text(frame, cols).to_numpy(dtype=object)
    codes = (
        frame[cols.typecode].astype("string").fillna("").to_numpy(dtype=object)
        if cols.typecode
        else np.full(len(frame), "", dtype=object)
    )
    entries = list(catalogue.types.items())
    out_type = np.full(len(frame), "", dtype=object)
    out_reason = np.full(len(frame), "", dtype=object)
    for i in range(len(frame)):
        name, category = str(names[i]), str(categories[i])
        row_codes = [c.strip() for c in str(codes[i]).replace("|", ";").split(";") if c.strip()]
        best: tuple[int, int, str, str] | None = None
        for type_id, entry in entries:
            if any(word in name for word in entry.exclude):
                continue
            strength = _matches_category(entry, category, row_codes)
            keyword = max((len(w) for w in entry.keywords if w and w in name), default=0)
            if strength == 0 and not (keyword and entry.amap is None and not entry.baidu):
                continue
            if strength and entry.keywords and not keyword and _shared_category(entry, entries):
                continue  # a shared category needs the name to say which type it is
            reason = (
                f"typecode {','.join(row_codes)}"
                if strength == 100
                else f"category {category}"
                if strength
                else f"name keyword in {name}"
            )
            score = (strength, keyword, type_id, reason)
            if best is None or score[:2] > best[:2]:
                best = score
        if best is not None:
            out_type[i], out_reason[i] = best[2], best[3]
    return pd.DataFrame(
        {"facility_type": out_type, "matched_by": out_reason, "category": categories},
        index=frame.index,
    )


def _shared_category(entry: FacilityEntry, entries: list[tuple[str, FacilityEntry]]) -> bool:
    """Whether another catalogue type claims one of this type's Amap type strings."""
    if entry.amap is None:
        return False
    mine = set(entry.amap.types)
    return sum(1 for _, e in entries if e.amap is not None and mine & set(e.amap.types)) > 1


def unmapped_summary(result: pd.DataFrame) -> pd.DataFrame:
    """Source categories that mapped to no facility type, with their counts, most first."""
    unmapped = result[result["facility_type"] == ""]
    counts = unmapped.groupby("category", dropna=False).size().rename("count").reset_index()
    return counts.sort_values(["count", "category"], ascending=[False, True]).reset_index(drop=True)
