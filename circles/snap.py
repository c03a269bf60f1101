"""Snapping points to the nearest point on the nearest network edge, vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from circles.network import Network


@dataclass
class Snaps:
    """Where each point meets the network.

    Attributes
    ----------
    edge
        Index of the nearest edge (-1 when the point has no geometry or is beyond the max snap).
    offset_m
        Distance along that edge's geometry from its ``u`` end to the snapped point.
    snap_m
        Straight distance from the point to the nearest edge: the access leg, walked too
        (NaN without geometry; given even beyond the max snap, for the report).
    on_network
        True where the point was snapped: within the max snap distance of an edge that is not
        on a fragment of the network.
    """

    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    on_network: np.ndarray


def snap_points(network: Network, points: np.ndarray, max_snap_m: float) -> Snaps:
    """Snap points (shapely Points in the network's CRS; None allowed) to the network.

    Parameters
    ----------
    network
        The projected network.
    points
        Object array of shapely Points or None.
    max_snap_m
        Points farther than this from every edge, or nearest to an edge on a fragment, are left
        off the network.
    """
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    present = ~shapely.is_missing(points)
    if present.any():
        tree = shapely.STRtree(network.geometry)
        idx, distances = tree.query_nearest(
            points[present], return_distance=True, all_matches=False
        )
        rows = np.flatnonzero(present)[idx[0]]
        hit = idx[1]
        dist[rows] = distances
        close = (distances <= max_snap_m) & ~network.fragment[hit]
        rows, hit = rows[close], hit[close]
        edge[rows] = hit
        offset[rows] = shapely.line_locate_point(network.geometry[hit], points[rows])
    on = edge >= 0
    offset[on] = np.clip(offset[on], 0.0, network.length_m[edge[on]])
    return Snaps(edge=edge, offset_m=offset, snap_m=dist, on_network=on)
