"""Snapping points to the nearest point on the nearest network edge, vectorised.

Edges are cut into short straight pieces (at most ``PIECE_M`` long) whose midpoints go into a
KD-tree. For each point the nearest midpoints give candidate pieces and the exact
point-to-segment distance, in a small numba kernel, picks the best. The answer is exact: a
piece nearer than the best must have its midpoint within the best distance plus half a piece
length; points whose last candidate is not beyond that bound are re-checked with more
candidates. Pieces and points are both taken in the order of a coarse grid, so that near things
are near in memory too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import shapely
from scipy.spatial import cKDTree

from circles.network import Network

PIECE_M = 40.0
TIE_M = 1e-6  # distances this close count as a tie
QUERY_CELL_M = 200.0  # grid cell for ordering the queries


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
    xy0d: np.ndarray  # n × 4: start x, start y, and the piece's x and y extent
    length: np.ndarray
    start_m: np.ndarray  # distance along the edge to the piece's start
    vertex0: np.ndarray  # the piece starts at a vertex of its edge's line (not a cut)
    vertex1: np.ndarray  # the piece ends at a vertex
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
    mid = np.column_stack([x0 + dx / 2, y0 + dy / 2])
    # pieces stored in grid order: near pieces lie near in memory, for the tree and the kernel
    order = _grid_order(mid)
    pieces = _Pieces(
        xy0d=np.ascontiguousarray(np.column_stack([x0, y0, dx, dy])[order]),
        length=(seg_len[rep] * (frac1 - frac0))[order],
        start_m=(seg_start[rep] + seg_len[rep] * frac0)[order],
        vertex0=(within == 0)[order],
        vertex1=(within == parts[rep] - 1)[order],
        edge=edge[rep][order],
        tree=cKDTree(mid[order], balanced_tree=False, compact_nodes=False),
    )
    network._snap_pieces = pieces  # type: ignore[attr-defined]
    return pieces


def _grid_order(xy: np.ndarray) -> np.ndarray:
    """An order of points row by row over a coarse grid (near points come close together)."""
    cell = np.floor((xy - xy.min(axis=0)) / QUERY_CELL_M).astype(np.int64)
    return np.argsort(cell[:, 1] * (cell[:, 0].max() + 1) + cell[:, 0])


@numba.njit(cache=True, nogil=True)
def _best_candidates(cand, px, py, xy0d, vertex0, vertex1):
    """For each point, the nearest of its candidate pieces (a row of ``cand``).

    Ties: a piece touching the point at a vertex of its line (a junction, or a node of the
    way) beats one passing over it (a bridge); then the earlier candidate (nearer midpoint).
    """
    n, k = cand.shape
    best_d = np.empty(n)
    best_piece = np.empty(n, np.int64)
    best_t = np.empty(n)
    for i in range(n):
        key_min = np.inf
        best_d[i], best_piece[i], best_t[i] = np.inf, cand[i, 0], 0.0
        for j in range(k):
            c = cand[i, j]
            x0, y0, dx, dy = xy0d[c, 0], xy0d[c, 1], xy0d[c, 2], xy0d[c, 3]
            length2 = dx * dx + dy * dy
            t = 0.0
            if length2 > 0:
                t = ((px[i] - x0) * dx + (py[i] - y0) * dy) / length2
                t = min(max(t, 0.0), 1.0)
            ex, ey = px[i] - (x0 + t * dx), py[i] - (y0 + t * dy)
            d = np.sqrt(ex * ex + ey * ey)
            at_vertex = (t == 0.0 and vertex0[c]) or (t == 1.0 and vertex1[c])
            key = d - TIE_M if at_vertex else d
            if key < key_min:
                key_min = key
                best_d[i], best_piece[i], best_t[i] = d, c, t
    return best_d, best_piece, best_t


def _nearest_on(p: _Pieces, cand: np.ndarray, px: np.ndarray, py: np.ndarray):
    """Best of candidate pieces ``cand`` (n × c) for points (px, py): distance, piece, t."""
    return _best_candidates(
        np.ascontiguousarray(cand, dtype=np.int64),
        np.ascontiguousarray(px, dtype=np.float64),
        np.ascontiguousarray(py, dtype=np.float64),
        p.xy0d,
        p.vertex0,
        p.vertex1,
    )


def warm_up() -> None:
    """Load the compiled kernel (as snapping will call it) ahead of use."""
    one, flag = np.zeros(1), np.zeros(1, dtype=bool)
    _best_candidates(np.zeros((1, 1), dtype=np.int64), one, one, np.zeros((1, 4)), flag, flag)


def _nearest_pieces(p: _Pieces, xy: np.ndarray):
    """Exact nearest piece of every point: few candidates first, more only where needed.

    The points are queried in the order of a coarse grid (row by row), so that neighbouring
    queries walk the same branches of the tree: half the time of a random order.
    """
    order = _grid_order(xy)
    d, piece, t = _nearest_sorted(p, xy[order])
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return d[back], piece[back], t[back]


def _nearest_sorted(p: _Pieces, xy: np.ndarray):
    n_pieces = len(p.length)
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
    return snap_xy(network, point_coordinates(points), max_snap_m)


def point_coordinates(points: np.ndarray) -> np.ndarray:
    """``n × 2`` coordinates of shapely Points (NaN for None and empty points)."""
    xy = np.full((len(points), 2), np.nan)
    present = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    xy[present] = shapely.get_coordinates(points[present])
    return xy


def snap_xy(network: Network, xy: np.ndarray, max_snap_m: float) -> Snaps:
    """:func:`snap_points` for coordinates (``n × 2``; NaN rows are points without geometry)."""
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    rows = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(rows) and network.n_edges:
        p = _pieces(network)
        best_d, best_piece, best_t = _nearest_pieces(p, xy[rows])
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
