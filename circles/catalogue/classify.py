"""Facility classification: map Amap/Baidu/OSM POI rows to catalogue facility types.

Each row is matched against every catalogue type by, in order of precedence:

1. ``typecode`` — the row's Amap typecode is one the type lists;
2. ``type_string`` — the row's full category text (Amap ``大类;中类;小类``, a Baidu tag
   ``一级;二级``) starts with a type string the type lists, the longest such string winning;
3. ``label`` — a label of Amap's newer tree (``医疗保健;综合医院``, ``社区卫生服务中心``) ends the
   row's category levels at some level; the deepest level wins, then the longer label path;
4. ``osm_tag`` — the row carries the type's OSM tags; the type listing the most of them wins;
5. ``name_keyword`` — the name holds one of the type's keywords (the longest wins), used for
   every type but only when nothing above matched and the row's category is not one of the
   catalogue's ``non_facility_categories``.

A type whose ``exclude`` words appear in the name is never chosen (早教 and 托管 are not
kindergartens). When several types tie at the deciding match, the name decides (a 卫生院- or
综合医院-typed Amap POI named 社区卫生服务中心 is a community health centre, and so is an
``amenity=hospital`` so named); a tie the name does not settle goes to the type that lists the
matched value earliest in its own list, then to the type listed first in the catalogue (a
医疗保健;综合医院 row is a hospital; an ``amenity=school`` without ``isced:level`` or
``school=*`` and without 小学/中学 in its name is a primary school).
Rows that match nothing stay unmapped and are listed with their counts (OSM rows by their
catalogue-key tags) so the catalogue can be extended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from circles.catalogue.load import Catalogue
from circles.inputs.osm_pois import has_osm_tags, row_tags, tag_conditions
from circles.inputs.tables import find_column
from circles.rules.schema import FacilityEntry

NAME_COLUMNS = ("name", "名称", "poi名称", "poi_name", "title", "名字")
TYPE_COLUMNS = ("type", "类型", "poi类型", "分类", "tag", "类别", "classified_poi_tag", "行业类别")
TYPECODE_COLUMNS = ("typecode", "type_code", "类型编码", "typecodes", "code", "分类编码")
LEVEL_COLUMNS = (
    ("大类", "中类", "小类"),
    ("big_category", "mid_category", "sub_category"),
    ("一级分类", "二级分类", "三级分类"),
    ("一级行业分类", "二级行业分类", "三级行业分类"),
    ("一级类别", "二级类别", "三级类别"),
    ("first_category", "second_category", "third_category"),
)
# columns that only Amap/Baidu exports carry (a table with one of them is an export)
EXPORT_COLUMNS = ("uid", "pname", "cityname", "adname", "adcode", "地址", "区县", "省份", "城市")
MATCH_KINDS = ("typecode", "type_string", "label", "osm_tag", "name_keyword")


@dataclass(frozen=True)
class PoiColumns:
    """Which columns of a POI table hold the name, the category texts and the typecode."""

    name: str | None
    category: str | None
    typecode: str | None
    levels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


def poi_columns(frame: pd.DataFrame) -> PoiColumns:
    """Detect the name, category and typecode columns of an Amap-, Baidu- or OSM-style table.

    Category levels need the first two columns of a set (大类 and 中类; 小类 is optional).
    Several category columns (a Baidu export's ``tag`` and ``type``) are all read.
    """
    columns = [str(c) for c in frame.columns]
    levels: tuple[str, ...] = ()
    for names in LEVEL_COLUMNS:
        found = [find_column(columns, (n,)) for n in names]
        if found[0] and found[1]:
            levels = tuple(c for c in found if c)
            break
    categories = tuple(c for c in (find_column(columns, (n,)) for n in TYPE_COLUMNS) if c)
    categories = tuple(dict.fromkeys(categories))
    return PoiColumns(
        name=find_column(columns, NAME_COLUMNS),
        category=categories[0] if categories else None,
        typecode=find_column(columns, TYPECODE_COLUMNS),
        levels=levels,
        categories=categories,
    )


def looks_like_poi_table(frame: pd.DataFrame, catalogue: Catalogue) -> bool:
    """Whether the table is a POI export to classify rather than a table of catalogue ids.

    A ``type`` column mostly of catalogue ids is used as it is; otherwise a typecode, category
    levels, a category column, OSM tags or columns only exports carry (``uid``, ``adname``,
    ``地址``…) mark an Amap, Baidu or OSM POI table, whether or not its labels are known.
    """
    cols = poi_columns(frame)
    if cols.category is not None:
        values = frame[cols.category].astype("string").fillna("").str.strip()
        values = values[values != ""]
        if not values.empty and values.isin(list(catalogue.types)).mean() >= 0.5:
            return False
    if cols.typecode or cols.levels or cols.category or has_osm_tags(frame, catalogue):
        return True
    return (
        cols.name is not None
        and find_column([str(c) for c in frame.columns], EXPORT_COLUMNS) is not None
    )


def _category_text(frame: pd.DataFrame, cols: PoiColumns) -> pd.Series:
    """The category text of each row: levels joined by ';', several columns joined by '|'."""
    texts: list[pd.Series] = []
    if cols.levels:
        parts = [frame[c].astype("string").fillna("").str.strip() for c in cols.levels]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + ";" + part
        texts.append(joined.str.replace(r";+$", "", regex=True))
    for column in cols.categories:
        texts.append(frame[column].astype("string").fillna("").str.strip())
    if not texts:
        return pd.Series([""] * len(frame), index=frame.index, dtype="string")
    out = texts[0]
    for text in texts[1:]:
        out = out + "|" + text
    return out.str.strip("|").str.replace(r"\|+", "|", regex=True)


def _label_strength(levels: list[str], label: str) -> int:
    """How specific a label match is: 10 x the deepest level it ends at + its path length."""
    path = [p.strip() for p in label.split(";")]
    best = 0
    for j in range(len(levels) - 1, -1, -1):
        start = j - len(path) + 1
        if start >= 0 and levels[start : j + 1] == path:
            best = max(best, 10 * (j + 1) + len(path))
    return best


def _category_match(
    entry: FacilityEntry, alternatives: list[str], codes: list[str], tags: dict[str, str]
) -> tuple[int, int, str, int]:
    """The best (kind rank, strength, rule, position) by which a row matches a type.

    ``position`` is where the matching value stands in the type's own list (settles ties).
    """
    found: list[tuple[int, int, str, int]] = []
    if entry.amap is not None:
        for position, code in enumerate(entry.amap.typecodes):
            if code in codes:
                found.append((5, 1, code, position))
    strings = [*(entry.amap.types if entry.amap else []), *entry.baidu]
    for category in alternatives:
        for position, text in enumerate(strings):
            if category == text or category.startswith(text + ";"):
                found.append((4, len(text), text, position))
    if entry.amap is not None:
        for category in alternatives:
            levels = [p.strip() for p in category.split(";")]
            for position, label in enumerate(entry.amap.labels):
                strength = _label_strength(levels, label)
                if strength:
                    found.append((3, strength, label, position))
    found.extend(_osm_match(entry, tags))
    return max(found, key=lambda m: (m[0], m[1], -m[3]), default=(0, 0, "", 0))


def _osm_match(entry: FacilityEntry, tags: dict[str, str]) -> list[tuple[int, int, str, int]]:
    """The OSM-tag match of a row (strength: the conditions met), or none."""
    strength, rules, first = 0, [], len(entry.osm)
    for position, spec in enumerate(entry.osm):
        conditions = tag_conditions(spec)
        if all(value in _values(tags.get(key, "")) for key, value in conditions):
            strength += len(conditions)
            rules.append(spec)
            first = min(first, position)
    return [(2, strength, ", ".join(rules), first)] if strength else []


def _values(text: str) -> list[str]:
    """The values of an OSM tag (``1;2`` holds two)."""
    return [v.strip() for v in text.split(";")]


def _in_categories(alternatives: list[str], labels: tuple[str, ...]) -> bool:
    return any(
        _label_strength([p.strip() for p in category.split(";")], label)
        for category in alternatives
        for label in labels
    )


def classify(frame: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Facility type and the rule that chose it for every row of a POI table.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``frame``: ``facility_type`` (``""`` when unmapped), ``matched_by`` (one of
        :data:`MATCH_KINDS`, ``""`` when unmapped), ``rule`` (the catalogue value that matched:
        a typecode, type string, label, OSM tag or keyword) and ``category`` (the row's source
        category text, or its OSM tags as ``key=value``).
    """
    cols = poi_columns(frame)
    n = len(frame)
    names = (
        frame[cols.name].astype("string").fillna("")
        if cols.name
        else pd.Series([""] * n, index=frame.index, dtype="string")
    )
    categories = _category_text(frame, cols).to_numpy(dtype=object)
    codes = (
        frame[cols.typecode].astype("string").fillna("").to_numpy(dtype=object)
        if cols.typecode
        else np.full(n, "", dtype=object)
    )
    tags = row_tags(frame, catalogue) if has_osm_tags(frame, catalogue) else [{}] * n
    entries = list(catalogue.types.items())
    allowed, keyword_len = _name_matrices(names, entries)
    out_type = np.full(n, "", dtype=object)
    out_kind = np.full(n, "", dtype=object)
    out_rule = np.full(n, "", dtype=object)
    out_category = categories.copy()
    cache: dict[tuple, tuple[list[tuple[int, int, str, int]], bool]] = {}
    for i in range(n):
        category = str(categories[i])
        row_codes = [c.strip() for c in str(codes[i]).replace("|", ";").split(";") if c.strip()]
        row_tags_ = tags[i]
        if not category and row_tags_:
            out_category[i] = ";".join(f"{k}={v}" for k, v in sorted(row_tags_.items()))
        key = (category, tuple(row_codes), tuple(sorted(row_tags_.items())))
        if key not in cache:
            alternatives = [a for a in category.split("|") if a]
            cache[key] = (
                [_category_match(e, alternatives, row_codes, row_tags_) for _, e in entries],
                _in_categories(alternatives, catalogue.non_facility_labels),
            )
        matches, vetoed = cache[key]
        chosen = _choose(matches, allowed[i], keyword_len[i])
        if chosen is None and not vetoed:
            lengths = np.where(allowed[i], keyword_len[i], 0)
            j = int(np.argmax(lengths))  # the longest keyword; a tie, the type listed first
            if lengths[j]:
                chosen = (j, "name_keyword", _longest_keyword(entries[j][1], str(names.iat[i])))
        if chosen is not None:
            j, kind, rule = chosen
            out_type[i], out_kind[i], out_rule[i] = entries[j][0], kind, rule
    return pd.DataFrame(
        {
            "facility_type": out_type,
            "matched_by": out_kind,
            "rule": out_rule,
            "category": out_category,
        },
        index=frame.index,
    )


def _name_matrices(
    names: pd.Series, entries: list[tuple[str, FacilityEntry]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per row and type: whether no exclude word is in the name; its longest keyword's length."""
    names = names.str.lower()  # English keywords (primary school) match any case
    allowed = np.ones((len(names), len(entries)), dtype=bool)
    keyword_len = np.zeros((len(names), len(entries)), dtype=np.int64)
    found: dict[str, np.ndarray] = {}

    def contains(word: str) -> np.ndarray:
        if word not in found:
            found[word] = names.str.contains(word.lower(), regex=False).to_numpy(dtype=bool)
        return found[word]

    for j, (_, entry) in enumerate(entries):
        for word in entry.exclude:
            if word:
                allowed[:, j] &= ~contains(word)
        for word in entry.keywords:
            if word:
                keyword_len[:, j] = np.where(
                    contains(word), np.maximum(keyword_len[:, j], len(word)), keyword_len[:, j]
                )
    return allowed, keyword_len


def _longest_keyword(entry: FacilityEntry, name: str) -> str:
    name = name.lower()
    return max((w for w in entry.keywords if w and w.lower() in name), key=len, default="")


def _choose(
    matches: list[tuple[int, int, str, int]],
    allowed: np.ndarray,
    keyword_len: np.ndarray,
) -> tuple[int, str, str] | None:
    """The (entry index, kind, rule) of the best category match, ties settled by the name.

    A tie the name does not settle goes to the type listing the matched value earliest in its
    own list, then to the type listed first in the catalogue.
    """
    kinds = {5: "typecode", 4: "type_string", 3: "label", 2: "osm_tag"}
    candidates = [j for j, m in enumerate(matches) if m[0] and allowed[j]]
    if not candidates:
        return None
    top = max(matches[j][:2] for j in candidates)
    group = [j for j in candidates if matches[j][:2] == top]
    named = [j for j in group if keyword_len[j]]
    if named:
        j = max(named, key=lambda j: (keyword_len[j], -j))
    else:
        j = min(group, key=lambda j: (matches[j][3], j))
    return j, kinds[top[0]], matches[j][2]


def unmapped_summary(result: pd.DataFrame) -> pd.DataFrame:
    """Source categories that mapped to no facility type, with their counts, most first."""
    unmapped = result[result["facility_type"] == ""]
    counts = unmapped.groupby("category", dropna=False).size().rename("count").reset_index()
    return counts.sort_values(["count", "category"], ascending=[False, True]).reset_index(drop=True)


def matched_summary(result: pd.DataFrame) -> pd.DataFrame:
    """Mapped rows by facility type, rule kind, rule and source category, with their counts."""
    mapped = result[result["facility_type"] != ""]
    return (
        mapped.groupby(["facility_type", "matched_by", "rule", "category"], dropna=False)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["facility_type", "count"], ascending=[True, False])
        .reset_index(drop=True)
    )
