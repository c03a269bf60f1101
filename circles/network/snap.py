"""Snapping points to the nearest point on the nearest network edge, exactly and fast.

Edges are cut into short straight pieces (at most ``PIECE_M`` long), and the pieces are filed
in a grid by their midpoints. For each point a small numba kernel looks at the grid cells
around it, ring by ring, and measures the exact point-to-segment distance to each piece
there. It stops once the ring it has finished lies farther than the best distance plus half a
piece length: a piece nearer than the best must have its midpoint within that reach. A point
far from a sparse network (a house 2 km from the nearest drivable road) would need many empty
rings; after ``MAX_RING`` rings it searches a second grid of cells ``COARSE`` times as wide,
under the same bound. Points are taken in the order of a coarse grid, so that near queries
touch the same memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np
import shapely

from circles.network.build import Network
from circles.network.cache import derived
from circles.projection import point_coordinates

PIECE_M = 30.0
TIE_M = 1e-6  # distances this close count as a tie
QUERY_CELL_M = 200.0  # grid cell for ordering the queries
MAX_CELLS = 4_000_000  # cells 1.5 pieces wide, wider where a city would need more
MAX_RING = 8  # rings of fine cells searched around a point before the coarse grid
COARSE = 8  # the coarse grid's cells are this many fine cells wide


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
class _Grid:
    """Pieces filed by grid cell of their midpoints, row by row.

    The pieces of cell ``c`` are ``cell_start[c]`` to ``cell_start[c + 1]``; ``ids`` are their
    numbers in :class:`_Pieces` (empty: the same as their order here).
    """

    xy0d: np.ndarray  # n × 4: start x, start y, and the piece's x and y extent
    vertex0: np.ndarray  # the piece starts at a vertex of its edge's line (not a cut)
    vertex1: np.ndarray  # the piece ends at a vertex
    ids: np.ndarray
    cell_start: np.ndarray
    x0: float  # the grid's corner and cell size, and its columns and rows
    y0: float
    cell: float
    nx: int
    ny: int


@dataclass
class _Pieces:
    """Straight pieces of the edges (in the fine grid's order) and two grids of them."""

    length: np.ndarray
    start_m: np.ndarray  # distance along the edge to the piece's start
    edge: np.ndarray
    fine: _Grid
    mid: np.ndarray  # midpoints, for the coarse grid
    coarse: _Grid | None = None  # cells COARSE times as wide, for points far from every piece


def _file(
    mid: np.ndarray, xy0d: np.ndarray, vertex0: np.ndarray, vertex1: np.ndarray, cell: float
) -> tuple[_Grid, np.ndarray]:
    """The pieces filed in a grid of ``cell``-wide cells, and the order they were put in."""
    corner = mid.min(axis=0)
    nx, ny = ((mid.max(axis=0) - corner) // cell).astype(np.int64) + 1
    cells = np.floor((mid - corner) / cell).astype(np.int64)
    cell_id = np.minimum(cells[:, 1], ny - 1) * nx + np.minimum(cells[:, 0], nx - 1)
    order = np.argsort(cell_id, kind="stable")
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell_id, minlength=nx * ny), out=cell_start[1:])
    grid = _Grid(
        xy0d=np.ascontiguousarray(xy0d[order]),
        vertex0=vertex0[order],
        vertex1=vertex1[order],
        ids=order.astype(np.int64),
        cell_start=cell_start,
        x0=float(corner[0]),
        y0=float(corner[1]),
        cell=float(cell),
        nx=int(nx),
        ny=int(ny),
    )
    return grid, order


_LOCK = threading.Lock()


def _pieces(network: Network) -> _Pieces:
    """The network's pieces, made once (snaps on several threads wait for the first)."""
    cached = getattr(network, "_snap_pieces", None)
    if cached is not None:
        return cached
    with _LOCK:
        lock = network.__dict__.setdefault("_snap_lock", threading.Lock())
    with lock:
        cached = getattr(network, "_snap_pieces", None)
        if cached is None:
            params = {"piece_m": PIECE_M, "max_cells": MAX_CELLS}
            arrays = derived(network, "snap", params, lambda: _pieces_arrays(_make_pieces(network)))
            cached = _pieces_from(arrays)
            network._snap_pieces = cached  # type: ignore[attr-defined]
    return cached


def release_pieces(network: Network) -> None:
    """Let the network's pieces go, once nothing is snapped to it any more.

    They are made (or loaded) again on the next need; an audit whose snaps are done holds them
    no longer (tens of megabytes for a city).
    """
    network.__dict__.pop("_snap_pieces", None)


_GRID_SCALARS = ("x0", "y0", "cell", "nx", "ny")


def _pieces_arrays(p: _Pieces) -> dict[str, np.ndarray]:
    """The pieces and their fine grid as plain arrays, for the network cache."""
    f = p.fine
    out = {"length": p.length, "start_m": p.start_m, "edge": p.edge, "mid": p.mid}
    out |= {"xy0d": f.xy0d, "vertex0": f.vertex0, "vertex1": f.vertex1, "ids": f.ids}
    out |= {"cell_start": f.cell_start}
    return out | {name: np.array(getattr(f, name)) for name in _GRID_SCALARS}


def _pieces_from(a: dict[str, np.ndarray]) -> _Pieces:
    fine = _Grid(
        xy0d=a["xy0d"],
        vertex0=a["vertex0"],
        vertex1=a["vertex1"],
        ids=a["ids"],
        cell_start=a["cell_start"],
        x0=float(a["x0"]),
        y0=float(a["y0"]),
        cell=float(a["cell"]),
        nx=int(a["nx"]),
        ny=int(a["ny"]),
    )
    return _Pieces(
        length=a["length"], start_m=a["start_m"], edge=a["edge"], fine=fine, mid=a["mid"]
    )


def _make_pieces(network: Network) -> _Pieces:
    """Straight pieces of every edge, at most ``PIECE_M`` long, filed in grids."""
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
    xy0d = np.column_stack([x0, y0, dx, dy])
    mid = np.column_stack([x0 + dx / 2, y0 + dy / 2])
    extent = np.maximum(np.ptp(mid, axis=0), 1.0)
    cell = max(1.5 * PIECE_M, float(np.sqrt(extent[0] * extent[1] / MAX_CELLS)))
    fine, order = _file(mid, xy0d, within == 0, within == parts[rep] - 1, cell)
    fine.ids = np.zeros(0, dtype=np.int64)  # the pieces are numbered in this grid's order
    return _Pieces(
        length=(seg_len[rep] * (frac1 - frac0))[order],
        start_m=(seg_start[rep] + seg_len[rep] * frac0)[order],
        edge=edge[rep][order],
        fine=fine,
        mid=mid[order],
    )


def _coarse(network: Network, p: _Pieces) -> _Grid:
    """The coarse grid of the pieces, made on first need (once, as :func:`_pieces`)."""
    with network.__dict__["_snap_lock"]:
        if p.coarse is None:
            f = p.fine
            p.coarse, _ = _file(p.mid, f.xy0d, f.vertex0, f.vertex1, COARSE * f.cell)
    return p.coarse


def _grid_order(xy: np.ndarray) -> np.ndarray:
    """An order of points row by row over a coarse grid (near points come close together)."""
    cell = np.floor((xy - xy.min(axis=0)) / QUERY_CELL_M).astype(np.int64)
    return np.argsort(cell[:, 1] * (cell[:, 0].max() + 1) + cell[:, 0])


@numba.njit(cache=True, nogil=True, inline="always")
def _consider(k, x, y, xy0d, vertex0, vertex1, ids, best):
    """``best`` (key, midpoint distance², distance, piece, t) with piece ``k`` weighed in.

    Ties: a piece touching the point at a vertex of its line (a junction, or a node of the
    way) beats one passing over it (a bridge); then the piece whose midpoint is nearer; then
    the lower piece number.
    """
    key_min, mid_min, _, bp, _ = best
    sx, sy, dx, dy = xy0d[k, 0], xy0d[k, 1], xy0d[k, 2], xy0d[k, 3]
    length2 = dx * dx + dy * dy
    t = 0.0
    if length2 > 0:
        t = ((x - sx) * dx + (y - sy) * dy) / length2
        t = min(max(t, 0.0), 1.0)
    ex, ey = x - (sx + t * dx), y - (sy + t * dy)
    d = np.sqrt(ex * ex + ey * ey)
    at_vertex = (t == 0.0 and vertex0[k]) or (t == 1.0 and vertex1[k])
    key = d - TIE_M if at_vertex else d
    if key <= key_min:
        mx, my = x - (sx + 0.5 * dx), y - (sy + 0.5 * dy)
        md = mx * mx + my * my
        piece = ids[k] if len(ids) else k  # no ids: the grid's order is the pieces' numbering
        if key < key_min or md < mid_min or (md == mid_min and piece < bp):
            return key, md, d, piece, t
    return best


@numba.njit(cache=True, nogil=True)
def _nearest_in_grid(  # noqa: PLR0913, PLR0917 (a numba kernel: no keyword-only arguments)
    px, py, xy0d, vertex0, vertex1, ids, cell_start, x0, y0, cell, nx, ny, half, max_ring
):
    """For each point: the nearest piece's distance, number, place on it (0-1), and surety.

    Cells are searched in rings around the point's cell until the finished ring lies beyond
    the best distance plus ``half`` (half the longest piece), or after ``max_ring`` rings
    (then the answer may not be sure).
    """
    n = len(px)
    best_d = np.full(n, np.inf)
    best_piece = np.full(n, -1, np.int64)
    best_t = np.zeros(n)
    sure = np.zeros(n, np.bool_)
    for i in range(n):
        x, y = px[i], py[i]
        cx = int(np.floor((x - x0) / cell))
        cy = int(np.floor((y - y0) / cell))
        best = (np.inf, np.inf, np.inf, -1, 0.0)
        for r in range(max_ring + 1):
            for gy in range(max(cy - r, 0), min(cy + r, ny - 1) + 1):
                outer_row = gy == cy - r or gy == cy + r
                gx, gx_end = max(cx - r, 0), min(cx + r, nx - 1)
                while gx <= gx_end:
                    if not outer_row and gx != cx - r and gx != cx + r:
                        gx = cx + r  # inside the ring: searched already
                        continue
                    c = gy * nx + gx
                    for k in range(cell_start[c], cell_start[c + 1]):
                        best = _consider(k, x, y, xy0d, vertex0, vertex1, ids, best)
                    gx += 1
            if best[3] >= 0 and best[2] + half + 2 * TIE_M < r * cell:
                sure[i] = True  # every piece not yet seen lies farther than the best
                break
            if cx - r <= 0 and cy - r <= 0 and cx + r >= nx - 1 and cy + r >= ny - 1:
                sure[i] = best[3] >= 0  # the whole grid is searched
                break
        best_d[i], best_piece[i], best_t[i] = best[2], best[3], best[4]
    return best_d, best_piece, best_t, sure


def _search(grid: _Grid, xy: np.ndarray, half: float, max_ring: int):
    return _nearest_in_grid(
        np.ascontiguousarray(xy[:, 0]),
        np.ascontiguousarray(xy[:, 1]),
        grid.xy0d,
        grid.vertex0,
        grid.vertex1,
        grid.ids,
        grid.cell_start,
        grid.x0,
        grid.y0,
        grid.cell,
        grid.nx,
        grid.ny,
        half,
        max_ring,
    )


def warm_up() -> None:
    """Load the compiled grid kernel (as snapping will call it) ahead of use."""
    one, flag, index = np.zeros(1), np.zeros(1, dtype=bool), np.zeros(2, dtype=np.int64)
    _nearest_in_grid(
        one, one, np.zeros((1, 4)), flag, flag, index[:1], index, 0.0, 0.0, 1.0, 1, 1, 0.0, 1
    )


def _nearest_pieces(network: Network, p: _Pieces, xy: np.ndarray):
    """Exact nearest piece of every point: distance, piece, and where on it (0-1).

    The fine grid answers the points within ``MAX_RING`` rings of cells of the network; the
    rest (far from every piece: a house far from any drivable road) search the coarse grid,
    ring by ring, until they are sure.
    """
    order = _grid_order(xy)
    xy = xy[order]
    half = float(p.length.max()) / 2.0
    d, piece, t, sure = _search(p.fine, xy, half, MAX_RING)
    far = np.flatnonzero(~sure)
    if len(far):
        until_sure = 2**62  # a search always ends: at the latest, the whole grid is seen
        coarse = _coarse(network, p)
        d[far], piece[far], t[far], _ = _search(coarse, xy[far], half, until_sure)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return d[back], piece[back], t[back]


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


def snap_xy(network: Network, xy: np.ndarray, max_snap_m: float) -> Snaps:
    """:func:`snap_points` for coordinates (``n × 2``; NaN rows are points without geometry)."""
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    rows = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(rows) and network.n_edges:
        p = _pieces(network)
        best_d, best_piece, best_t = _nearest_pieces(network, p, xy[rows])
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


def connected_distance_m(network: Network, xy: np.ndarray) -> np.ndarray:
    """Straight distance from each point to the nearest edge not on a fragment (NaN: none).

    For messages only (a plain R-tree query): :func:`snap_xy` is the fast path.
    """
    out = np.full(len(xy), np.nan)
    coords, index = network.coordinates()
    keep = ~network.fragment[index]
    rows = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not keep.any() or len(rows) == 0:
        return out
    _, edge = np.unique(index[keep], return_inverse=True)
    tree = shapely.STRtree(shapely.linestrings(coords[keep], indices=edge))
    (point, _), dist = tree.query_nearest(shapely.points(xy[rows]), return_distance=True)
    out[rows[point]] = dist
    return out
