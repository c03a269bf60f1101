"""Snapping points to the nearest point on the nearest network edge, vectorised.

Edges are cut into short straight pieces (at most ``PIECE_M`` long) whose midpoints go into a
KD-tree. For each point the nearest midpoints give candidate pieces and the exact
point-to-segment distance picks the best. The answer is exact: a piece nearer than the best
must have its midpoint within the best distance plus half a piece length; points whose last
candidate is not beyond that bound are re-checked with more candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from circles.network import Network

PIECE_M = 40.0
TIE_M = 1e-6  # distances this close count as a tie


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


@dataclass
class _Pieces:
    x0: np.ndarray
    y0: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    length: np.ndarray
    start_m: np.ndarray  # distance along the edge to the piece's start
    last: np.ndarray  # the piece ends where its edge ends
    edge: np.ndarray
    tree: cKDTree


def _pieces(network: Network) -> _Pieces:
    """Straight pieces of every edge, at most ``PIECE_M`` long, and a KD-tree of midpoints."""
    cached = getattr(network, "_snap_pieces", None)
    if cached is not None:
        return cached
    coords, index = network.coordinates()
    same = index[1:] == index[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    edge = index[:-1][same]
    seg_len = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    # distance along the edge at each segment's start
    cum = np.cumsum(seg_len)
    first_of_edge = np.r_[True, edge[1:] != edge[:-1]]
    base = np.maximum.accumulate(np.where(first_of_edge, cum - seg_len, 0.0))
    seg_start = cum - seg_len - base
    # cut long segments into equal pieces
    parts = np.maximum(1, np.ceil(seg_len / PIECE_M)).astype(np.int64)
    rep = np.repeat(np.arange(len(seg_len)), parts)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(parts) - parts, parts)
    frac0 = within / parts[rep]
    frac1 = (within + 1) / parts[rep]
    ax, ay = a[rep, 0], a[rep, 1]
    sx, sy = b[rep, 0] - ax, b[rep, 1] - ay
    x0, y0 = ax + sx * frac0, ay + sy * frac0
    dx, dy = sx * (frac1 - frac0), sy * (frac1 - frac0)
    pieces = _Pieces(
        x0=x0,
        y0=y0,
        dx=dx,
        dy=dy,
        length=seg_len[rep] * (frac1 - frac0),
        start_m=seg_start[rep] + seg_len[rep] * frac0,
        last=np.r_[edge[rep][1:] != edge[rep][:-1], True],
        edge=edge[rep],
        tree=cKDTree(np.column_stack([x0 + dx / 2, y0 + dy / 2])),
    )
    network._snap_pieces = pieces  # type: ignore[attr-defined]
    return pieces


def _nearest_on(p: _Pieces, cand: np.ndarray, px: np.ndarray, py: np.ndarray):
    """Best of candidate pieces ``cand`` (n × c) for points (px, py): distance, piece, t."""
    x0, y0, dx, dy = p.x0[cand], p.y0[cand], p.dx[cand], p.dy[cand]
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, ((px[:, None] - x0) * dx + (py[:, None] - y0) * dy) / length2, 0)
    t = np.clip(t, 0.0, 1.0)
    dist = np.hypot(px[:, None] - (x0 + t * dx), py[:, None] - (y0 + t * dy))
    # ties: an edge that ends at the point (a junction) beats one passing over it (a bridge),
    # then the candidate whose midpoint is nearest
    at_end = ((t == 0.0) & (p.start_m[cand] == 0.0)) | ((t == 1.0) & p.last[cand])
    best = np.argmin(np.where(at_end, dist - TIE_M, dist), axis=1)
    rows = np.arange(len(px))
    return dist[rows, best], cand[rows, best], t[rows, best]


def _nearest_pieces(p: _Pieces, xy: np.ndarray):
    """Exact nearest piece of every point: few candidates first, more only where needed."""
    n_pieces = len(p.x0)
    half = p.length.max() / 2.0
    todo = np.arange(len(xy))
    best_d = np.full(len(xy), np.inf)
    best_piece = np.zeros(len(xy), dtype=np.int64)
    best_t = np.zeros(len(xy))
    for k in (8, 32, 128):
        k = min(k, n_pieces)
        mid_d, cand = p.tree.query(xy[todo], k=k, workers=-1)
        cand = cand.reshape(len(todo), k)
        mid_d = mid_d.reshape(len(todo), k)
        d, piece, t = _nearest_on(p, cand, xy[todo, 0], xy[todo, 1])
        best_d[todo], best_piece[todo], best_t[todo] = d, piece, t
        unsure = (mid_d[:, -1] <= d + half) & (k < n_pieces)
        todo = todo[unsure]
        if len(todo) == 0:
            return best_d, best_piece, best_t
    for i in todo:  # very dense spots only: every piece whose midpoint is in reach
        reach = np.asarray(p.tree.query_ball_point(xy[i], best_d[i] + half + 1e-9))
        d, piece, t = _nearest_on(p, reach[None, :], xy[i : i + 1, 0], xy[i : i + 1, 1])
        best_d[i], best_piece[i], best_t[i] = d[0], piece[0], t[0]
    return best_d, best_piece, best_t


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
    present = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    rows = np.flatnonzero(present)
    if len(rows) and network.n_edges:
        p = _pieces(network)
        xy = shapely.get_coordinates(points[rows])
        best_d, best_piece, best_t = _nearest_pieces(p, xy)
        hit_edge = p.edge[best_piece]
        dist[rows] = best_d
        close = (best_d <= max_snap_m) & ~network.fragment[hit_edge]
        rows, hit_edge = rows[close], hit_edge[close]
        piece = best_piece[close]
        edge[rows] = hit_edge
        offset[rows] = p.start_m[piece] + best_t[close] * p.length[piece]
    on = edge >= 0
    offset[on] = np.clip(offset[on], 0.0, network.length_m[edge[on]])
    return Snaps(edge=edge, offset_m=offset, snap_m=dist, on_network=on)
