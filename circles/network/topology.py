"""Topology repair of centre-line layers: split lines where they cross, join dangling ends.

Road layers drawn in CAD or cut from vector tiles rarely share a vertex where streets meet. The
GIS remedies are "any vertex" connectivity (ArcGIS) and ``v.clean`` break and snap (GRASS):

* **split crossings**: where two lines' interiors cross, both are split there and share the
  exact intersection point as a vertex, unless the two lines lie on different levels
  (``bridge``, ``tunnel`` and ``layer`` attributes): a bridge passes over the street below.
  Where an end point rests exactly on another line's interior (a T), that line is split there
  on any level: a line that passes over another does not end on it, while steps ending on a
  footbridge, or an OSM way ending at a node of another, meet it.
* **join ends**: an end point that no other line shares (a dangle) and that lies within
  ``join_ends_m`` of another line is joined to the nearest point of that line by a short
  connector (whose length is walked), the line being split there. A dangle is joined to
  another line's end whatever the levels (levels change at line ends: a bridge shares its end
  with the road it continues), to its interior only on the same level.

Every repair, and every crossing left alone because of levels, is listed in a table with the
columns of ``network_issues.csv``. Overlapping collinear pieces are left as drawn.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

TOUCH_M = 0.001  # points closer than this are one place (the network's node grid)
#: Kinds of rows in the repairs table.
KINDS = (
    "split_crossing",  # two interiors crossed: both lines split at the crossing
    "split_t",  # an end touched another line's interior: that line split there
    "split_self",  # a line crossed itself: split at the crossing
    "joined_end",  # a dangling end joined to the nearest line within join_ends_m
    "not_split_levels",  # interiors crossing on different levels (bridge, tunnel, layer)
    "not_joined_levels",  # a dangle near another line's interior only on another level
)


def empty_repairs() -> pd.DataFrame:
    """An empty repairs table (the columns of ``network_issues.csv``)."""
    return pd.DataFrame(
        {
            "kind": pd.Series(dtype=object),
            "x": pd.Series(dtype=float),
            "y": pd.Series(dtype=float),
            "line_a": pd.Series(dtype=object),
            "line_b": pd.Series(dtype=object),
            "distance_m": pd.Series(dtype=float),
        }
    )


def _cut(
    geoms: np.ndarray, cut_line: np.ndarray, cut_m: np.ndarray, cut_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lines cut at points along them; each cut point becomes the end of both pieces.

    Returns the pieces and the index of the line each came from (lines without a cut are kept
    as they are). Pieces without length (a cut at an end, two cuts at one place) are dropped.
    """
    n = len(geoms)
    if len(cut_line) == 0:
        return geoms, np.arange(n)
    todo = np.unique(cut_line)
    coords, vi = shapely.get_coordinates(geoms[todo], return_index=True)
    step = np.zeros(len(coords))
    step[1:] = np.hypot(*np.diff(coords, axis=0).T)
    first = np.ones(len(coords), dtype=bool)
    first[1:] = vi[1:] != vi[:-1]
    step[first] = 0.0
    along = np.cumsum(step)
    along -= along[np.flatnonzero(first)][vi]
    local = np.searchsorted(todo, cut_line)
    k = len(cut_line)
    rec_line = np.concatenate([vi, local, local])
    rec_m = np.concatenate([along, cut_m, cut_m])
    # at one place: the cut ending a piece, the line's own vertex, the cut starting the next
    rec_kind = np.concatenate([np.ones(len(vi)), np.zeros(k), np.full(k, 2.0)])
    rec_xy = np.concatenate([coords, cut_xy, cut_xy])
    order = np.lexsort((rec_kind, rec_m, rec_line))
    rec_line, rec_kind, rec_xy = rec_line[order], rec_kind[order], rec_xy[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (rec_line[1:] != rec_line[:-1]) | (rec_kind[1:] == 2)
    piece = np.cumsum(new) - 1
    counts = np.bincount(piece)
    keep_rec = counts[piece] >= 2
    _, renum = np.unique(piece[keep_rec], return_inverse=True)
    pieces = shapely.linestrings(rec_xy[keep_rec], indices=renum)
    piece_line = todo[rec_line[keep_rec][np.r_[0, np.flatnonzero(np.diff(renum)) + 1]]]
    long = shapely.length(pieces) > 0.0
    pieces, piece_line = pieces[long], piece_line[long]
    untouched = np.setdiff1d(np.arange(n), todo)
    source = np.concatenate([untouched, piece_line])
    out = np.concatenate([geoms[untouched], pieces])
    order = np.argsort(source, kind="stable")  # pieces stay next to their line's place
    return out[order], source[order]


def _ends(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last coordinates of each line (``n × 2`` each)."""
    coords = shapely.get_coordinates(geoms)
    last = np.cumsum(shapely.get_num_coordinates(geoms)) - 1
    return coords[last - shapely.get_num_coordinates(geoms) + 1], coords[last]


def _rows(kind: str, xy: np.ndarray, a: np.ndarray, b: np.ndarray, d: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": np.full(len(a), kind, dtype=object),
            "x": xy[:, 0] if len(a) else np.zeros(0),
            "y": xy[:, 1] if len(a) else np.zeros(0),
            "line_a": a.astype(str).astype(object),
            "line_b": b.astype(str).astype(object),
            "distance_m": np.asarray(d, dtype=float),
        }
    )


def _split_self(
    geoms: np.ndarray, source: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[pd.DataFrame]]:
    """Lines that cross themselves, split at their own crossings."""
    bad = np.flatnonzero(~shapely.is_simple(geoms))
    if len(bad) == 0:
        return geoms, source, []
    parts, idx = shapely.get_parts(shapely.node(geoms[bad]), return_index=True)
    # every part but a line's first starts where the line crosses itself
    starts = shapely.get_coordinates(shapely.get_point(parts, 0))
    line_start = shapely.get_coordinates(shapely.get_point(geoms[bad], 0))
    at_end = np.hypot(*(starts - line_start[idx]).T) <= TOUCH_M
    spots = pd.DataFrame({"line": idx[~at_end], "x": starts[~at_end, 0], "y": starts[~at_end, 1]})
    spots = spots.drop_duplicates()
    line_id = ids[source[bad[spots["line"].to_numpy()]]]
    report = _rows(
        "split_self", spots[["x", "y"]].to_numpy(), line_id, line_id, np.zeros(len(spots))
    )
    keep = np.ones(len(geoms), dtype=bool)
    keep[bad] = False
    out = np.concatenate([geoms[keep], parts])
    src = np.concatenate([source[keep], source[bad[idx]]])
    order = np.argsort(src, kind="stable")
    return out[order], src[order], [report]


def _split_crossings(
    geoms: np.ndarray,
    source: np.ndarray,
    ids: np.ndarray,
    levels: np.ndarray,
    only: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[pd.DataFrame]]:
    """Lines split where interiors cross or an end rests on another line's interior.

    ``only``: a mask of the lines whose crossings are wanted (default: every line's).
    """
    tree = shapely.STRtree(geoms)
    probe = np.arange(len(geoms)) if only is None else np.flatnonzero(only)
    a, b = tree.query(geoms[probe], predicate="intersects")
    a = probe[a]
    keep = (a < b) if only is None else (a != b) & ((a < b) | ~only[b])
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return geoms, source, []
    parts, k = shapely.get_parts(shapely.intersection(geoms[a], geoms[b]), return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # a collection's multipoints
    k = k[inner]
    point = shapely.get_type_id(parts) == 0  # collinear overlaps are left as drawn
    parts, a, b = parts[point], a[k[point]], b[k[point]]
    xy = shapely.get_coordinates(parts)
    start, end = _ends(geoms)

    def near(ends: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.hypot(*(xy - ends[i]).T) <= TOUCH_M

    a_start, a_end, b_start, b_end = near(start, a), near(end, a), near(start, b), near(end, b)
    at_a, at_b = a_start | a_end, b_start | b_end
    same = levels[source[a]] == levels[source[b]]
    cross = ~at_a & ~at_b
    t_on_b = at_a & ~at_b  # a's end rests on b's interior
    t_on_a = at_b & ~at_a
    # a T is cut at the exact end point, so that both ends fall on one node
    end_xy = np.where(
        t_on_b[:, None],
        np.where(a_start[:, None], start[a], end[a]),
        np.where(b_start[:, None], start[b], end[b]),
    )
    reports = []
    # an end resting exactly on a line is a junction on any level (steps up to a footbridge)
    refused = cross & ~same
    ia, ib = ids[source[a]], ids[source[b]]
    if refused.any():
        reports.append(
            _rows(
                "not_split_levels", xy[refused], ia[refused], ib[refused], np.zeros(refused.sum())
            )
        )
    cross = cross & same
    lines = np.concatenate([a[cross], b[cross], b[t_on_b], a[t_on_a]])
    pts = np.concatenate([xy[cross], xy[cross], end_xy[t_on_b], end_xy[t_on_a]])
    along = shapely.line_locate_point(geoms[lines], shapely.points(pts))
    if cross.any():
        reports.append(
            _rows("split_crossing", xy[cross], ia[cross], ib[cross], np.zeros(cross.sum()))
        )
    t = t_on_b | t_on_a
    if t.any():  # line_a: the line whose end it is; line_b: the line split
        ends_of = np.where(t_on_b, ia, ib)[t]
        split = np.where(t_on_b, ib, ia)[t]
        reports.append(_rows("split_t", end_xy[t], ends_of, split, np.zeros(t.sum())))
    out, piece_of = _cut(geoms, lines, along, pts)
    return out, source[piece_of], reports


def _end_keys(xy: np.ndarray) -> np.ndarray:
    grid = np.round(xy / TOUCH_M).astype(np.int64)
    return grid[:, 0] * 4_000_000_000 + grid[:, 1]


def _join_ends(
    geoms: np.ndarray,
    source: np.ndarray,
    ids: np.ndarray,
    levels: np.ndarray,
    join_ends_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[pd.DataFrame]]:
    """Dangling ends joined to the nearest line within ``join_ends_m`` by connectors.

    Returns the lines (targets split where joined), their source rows, the connectors'
    source rows (appended after the lines) and the report.
    """
    n = len(geoms)
    end_xy = np.concatenate(_ends(geoms))
    owner = np.concatenate([np.arange(n), np.arange(n)])
    keys = _end_keys(end_xy)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    dangle = np.flatnonzero(counts[inverse] == 1)
    none: tuple[np.ndarray, np.ndarray, np.ndarray, list[pd.DataFrame]] = (
        geoms,
        source,
        np.zeros(0, dtype=np.int64),
        [],
    )
    if len(dangle) == 0:
        return none
    points = shapely.points(end_xy[dangle])
    tree = shapely.STRtree(geoms)
    d_i, line = tree.query(points, predicate="dwithin", distance=join_ends_m)
    end = dangle[d_i]
    own = owner[end]
    # not its own line, nor a line it already meets (an overshoot's stub beside its street)
    own_keys = np.column_stack([keys[own], keys[own + n]])
    line_keys = np.column_stack([keys[line], keys[line + n]])
    adjacent = (own_keys[:, :, None] == line_keys[:, None, :]).any(axis=(1, 2))
    ok = (line != own) & ~adjacent
    end, own, line = end[ok], own[ok], line[ok]
    if len(end) == 0:
        return none
    gap = shapely.distance(shapely.points(end_xy[end]), geoms[line])
    length = shapely.length(geoms[line])
    along = shapely.line_locate_point(geoms[line], shapely.points(end_xy[end]))
    at_start, at_end = along <= TOUCH_M, along >= length - TOUCH_M
    target = shapely.get_coordinates(shapely.line_interpolate_point(geoms[line], along))
    target = np.where(at_start[:, None], end_xy[line], target)
    target = np.where(at_end[:, None], end_xy[line + n], target)
    on_end = at_start | at_end
    allowed = on_end | (levels[source[own]] == levels[source[line]])
    order = np.lexsort((line, gap, end))
    first = np.ones(len(order), dtype=bool)
    first[1:] = end[order][1:] != end[order][:-1]
    best_any = order[first]  # the nearest line of each dangle, on any level
    order = order[allowed[order]]
    first = np.ones(len(order), dtype=bool)
    first[1:] = end[order][1:] != end[order][:-1]
    best = order[first]
    reports = []
    refused = best_any[~np.isin(end[best_any], end[best])]
    if len(refused):
        reports.append(
            _rows(
                "not_joined_levels",
                end_xy[end[refused]],
                ids[source[own[refused]]],
                ids[source[line[refused]]],
                gap[refused],
            )
        )
    # two dangles joined to each other's ends need one connector
    pair = np.sort(np.column_stack([keys[end[best]], _end_keys(target[best])]), axis=1)
    _, unique = np.unique(pair, axis=0, return_index=True)
    best = best[np.sort(unique)]
    if len(best) == 0:
        return (*none[:3], reports)
    reports.append(
        _rows(
            "joined_end",
            end_xy[end[best]],
            ids[source[own[best]]],
            ids[source[line[best]]],
            gap[best],
        )
    )
    inner = best[~on_end[best]]
    out, piece_of = _cut(geoms, line[inner], along[inner], target[inner])
    bridge = best[gap[best] > TOUCH_M]
    connectors = shapely.linestrings(
        np.stack([end_xy[end[bridge]], target[bridge]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(bridge)), 2),
    )
    return (
        np.concatenate([out, connectors]),
        np.concatenate([source[piece_of], source[own[bridge]]]),
        np.arange(len(out), len(out) + len(bridge)),
        reports,
    )


def repair_lines(
    lines: gpd.GeoDataFrame,
    *,
    split_crossings: bool,
    join_ends_m: float = 0.0,
    line_column: str = "line",
    level_column: str = "level",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split lines where they cross and join dangling ends (GRASS ``v.clean`` break, snap).

    Parameters
    ----------
    lines
        Single LineStrings in a metric CRS, one row per line.
    split_crossings
        Split both lines where their interiors cross unless their levels differ, and a line
        where another's end rests on its interior (any level); lines crossing themselves are
        split too.
    join_ends_m
        Join each dangling end (an end no other line shares) to the nearest point of another
        line within this many metres by a straight connector (0: off). Interior points are
        joined only on the same level; ends on any level.
    line_column
        Column naming each line in the report (row numbers from 1 when absent).
    level_column
        Column of levels from :func:`line_levels` (all on one level when absent).

    Returns
    -------
    tuple of geopandas.GeoDataFrame and pandas.DataFrame
        The lines (each piece keeps its line's attributes; connectors take their dangle's,
        two-way when there is a ``oneway`` column) and the repairs: ``kind`` (see
        :data:`KINDS`), ``x``, ``y``, ``line_a``, ``line_b``, ``distance_m``.
    """
    lines = lines.reset_index(drop=True)
    geoms = lines.geometry.to_numpy(dtype=object)
    ids = (
        lines[line_column].to_numpy()
        if line_column in lines.columns
        else np.arange(1, len(lines) + 1)
    )
    levels = (
        lines[level_column].to_numpy(dtype=np.int64)
        if level_column in lines.columns
        else np.zeros(len(lines), dtype=np.int64)
    )
    n = len(lines)
    source = np.arange(n)
    row = np.arange(n)  # the row of each source; connectors are sources of their own
    reports: list[pd.DataFrame] = []
    if n and split_crossings:
        geoms, source, found = _split_self(geoms, source, ids)
        reports += found
        geoms, source, found = _split_crossings(geoms, source, ids, levels)
        reports += found
    if n and join_ends_m > 0:
        geoms, source, connectors, found = _join_ends(geoms, source, ids, levels, join_ends_m)
        reports += found
        row = np.concatenate([row, source[connectors]])
        source[connectors] = n + np.arange(len(connectors))
        if split_crossings and len(connectors):  # connectors that cross a line (break again)
            geoms, source, found = _split_crossings(
                geoms, source, ids[row], levels[row], only=source >= n
            )
            reports += found
    out = lines.iloc[row[source]].reset_index(drop=True)
    out = gpd.GeoDataFrame(out.drop(columns=lines.geometry.name), geometry=geoms, crs=lines.crs)
    if "oneway" in out.columns:
        out.loc[source >= n, "oneway"] = 0
    repairs = pd.concat([empty_repairs(), *reports], ignore_index=True) if reports else None
    return out, (empty_repairs() if repairs is None else repairs)
