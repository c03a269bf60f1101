"""The network's issues table: places where lines cross or touch without a shared end point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from circles.network.topology import empty_repairs

UNJOINED = ("crossing", "end_on_line", "overlap", "not_split_levels")  # issues left as drawn


def empty_issues() -> pd.DataFrame:
    """An empty table of network issues with its columns (``distance_m``: of a joined end)."""
    return empty_repairs()


def find_crossings(geoms: np.ndarray, line_ids: np.ndarray) -> pd.DataFrame:
    """Places where two lines meet other than at a shared end point.

    ``crossing``: interiors cross (a bridge or tunnel, or a missing junction);
    ``end_on_line``: an end point touches another line's interior (a T-junction not split);
    ``overlap``: two lines run along each other.
    """
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return empty_issues()
    ends = shapely.boundary(geoms)
    inter = shapely.intersection(geoms[a], geoms[b])
    shared_ends = shapely.intersection(ends[a], ends[b])
    rest = shapely.difference(inter, shared_ends)
    has = ~shapely.is_empty(rest)
    a, b, rest = a[has], b[has], rest[has]
    if len(a) == 0:
        return empty_issues()
    overlap = shapely.get_dimensions(rest) > 0
    pts = np.where(overlap, shapely.point_on_surface(rest), rest)
    parts, idx = shapely.get_parts(pts, return_index=True)
    a, b, overlap = a[idx], b[idx], overlap[idx]
    on_end = shapely.intersects(parts, ends[a]) | shapely.intersects(parts, ends[b])
    kind = np.where(overlap, "overlap", np.where(on_end, "end_on_line", "crossing"))
    xy = shapely.get_coordinates(parts)
    out = pd.DataFrame(
        {
            "kind": kind.astype(object),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "line_a": line_ids[a].astype(str).astype(object),
            "line_b": line_ids[b].astype(str).astype(object),
            "distance_m": np.nan,
        }
    )
    return out.drop_duplicates().reset_index(drop=True)


def merge_issues(repairs: pd.DataFrame, remaining: pd.DataFrame) -> pd.DataFrame:
    """The repairs, then the places still unjoined that the repairs do not list already."""
    if len(repairs) == 0:
        return remaining

    def places(frame: pd.DataFrame) -> pd.DataFrame:
        a, b = frame["line_a"].astype(str), frame["line_b"].astype(str)
        return pd.DataFrame(
            {"a": np.minimum(a, b), "b": np.maximum(a, b), "x": frame["x"], "y": frame["y"]}
        ).round(3)

    listed = places(repairs[repairs["kind"] == "not_split_levels"]).drop_duplicates()
    known = places(remaining).merge(listed, how="left", indicator=True)
    kept = remaining[(known["_merge"] == "left_only").to_numpy()]
    return pd.concat([repairs, kept], ignore_index=True)
