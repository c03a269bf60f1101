"""A raster of the study area: each cell's nearest street, and the cells a budget reaches.

Cells holding a network sample are street cells; every other cell knows its nearest street cell
(a Euclidean distance transform) and the distance to it. Given each sample's remaining budget
(the metres a resident may still walk from the street to the door), a cell is reached when its
nearest street cell has a budget at least its distance from that street: the audit's own rule for
a resident (the nearest street, then a straight access leg). Reached cells are traced into
polygons along the half-way lines between cell centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

MIN_CELL_M = 2.5  # the finest raster, in metres
MAX_CELLS = 4_000_000  # the raster of a big city grows coarser instead of larger


@dataclass
class Raster:
    """The study area's grid and each cell's nearest street cell.

    ``x0``/``y0`` is the lower-left corner, ``cell`` the cell size in metres, ``shape`` the
    ``(rows, columns)``; ``sample_cell`` the flat cell index of each sample; ``owner`` the flat
    index of each cell's nearest street cell and ``dist`` the distance to it (metres, between
    cell centres); ``order``/``starts`` group the samples by cell.
    """

    x0: float
    y0: float
    cell: float
    shape: tuple[int, int]
    sample_cell: np.ndarray
    owner: np.ndarray
    dist: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    street_cells: np.ndarray


def cell_size(xy: np.ndarray, margin_m: float) -> float:
    """The cell size for points ``xy``: ``MIN_CELL_M``, coarser when the grid would be too big."""
    if not len(xy):
        return MIN_CELL_M
    span = xy.max(axis=0) - xy.min(axis=0) + 2 * margin_m
    return max(MIN_CELL_M, math.ceil(2 * math.sqrt(span[0] * span[1] / MAX_CELLS)) / 2)


def make_raster(xy: np.ndarray, cell: float, margin_m: float) -> Raster:
    """The grid around the samples ``xy`` (with ``margin_m`` about them) and its nearest streets."""
    from scipy.ndimage import distance_transform_edt

    lo = xy.min(axis=0) - margin_m - cell
    hi = xy.max(axis=0) + margin_m + cell
    nx, ny = (np.ceil((hi - lo) / cell).astype(np.int64) + 1).tolist()
    col = np.clip(((xy[:, 0] - lo[0]) / cell).astype(np.int64), 0, nx - 1)
    row = np.clip(((xy[:, 1] - lo[1]) / cell).astype(np.int64), 0, ny - 1)
    sample_cell = row * nx + col
    free = np.ones(ny * nx, dtype=bool)
    free[sample_cell] = False
    indices = np.empty((2, ny, nx), dtype=np.int32)
    distance_transform_edt(
        free.reshape(ny, nx), return_distances=False, return_indices=True, indices=indices
    )
    rows = np.arange(ny, dtype=np.float32)[:, None]
    cols = np.arange(nx, dtype=np.float32)[None, :]
    dist = np.hypot(indices[0] - rows, indices[1] - cols) * np.float32(cell)
    index = np.int32 if ny * nx < 2**31 else np.int64  # half the memory of a city's raster
    owner = (indices[0].astype(index) * index(nx) + indices[1]).ravel()
    order = np.argsort(sample_cell, kind="stable")
    sorted_cells = sample_cell[order]
    first = np.r_[True, sorted_cells[1:] != sorted_cells[:-1]]
    return Raster(
        x0=float(lo[0]),
        y0=float(lo[1]),
        cell=cell,
        shape=(int(ny), int(nx)),
        sample_cell=sample_cell,
        owner=owner,
        dist=dist.ravel(),
        order=order,
        starts=np.flatnonzero(first),
        street_cells=sorted_cells[first],
    )


_RASTER_SCALARS = ("x0", "y0", "cell")


def raster_arrays(raster: Raster) -> dict[str, np.ndarray]:
    """The raster as plain arrays, for the network cache."""
    out = {name: np.array(getattr(raster, name)) for name in _RASTER_SCALARS}
    out["shape"] = np.array(raster.shape, dtype=np.int64)
    for name in ("sample_cell", "owner", "dist", "order", "starts", "street_cells"):
        out[name] = getattr(raster, name)
    return out


def raster_from(a: dict[str, np.ndarray]) -> Raster:
    """:func:`raster_arrays` back into a raster."""
    ny, nx = (int(n) for n in a["shape"])
    return Raster(
        x0=float(a["x0"]),
        y0=float(a["y0"]),
        cell=float(a["cell"]),
        shape=(ny, nx),
        sample_cell=a["sample_cell"],
        owner=a["owner"],
        dist=a["dist"],
        order=a["order"],
        starts=a["starts"],
        street_cells=a["street_cells"],
    )


def street_budget(raster: Raster, budget: np.ndarray) -> np.ndarray:
    """Per cell, the largest budget of the samples in it (-inf for cells without a sample)."""
    out = np.full(raster.shape[0] * raster.shape[1], -np.inf, dtype=np.float32)
    if len(raster.starts):
        out[raster.street_cells] = np.maximum.reduceat(budget[raster.order], raster.starts)
    return out


def reached(raster: Raster, budget_cells: np.ndarray, cap_m: float) -> np.ndarray:
    """Boolean grid (rows × columns): cells whose nearest street leaves budget to walk there.

    The walk from a cell to its street may not exceed ``cap_m`` (the audit's max snap).
    """
    budget = np.minimum(budget_cells[raster.owner], np.float32(cap_m))
    return widen((raster.dist <= budget).reshape(raster.shape))


def widen(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by one cell towards each of the four neighbours.

    Distances run between cell centres and a door may stand anywhere in its cell, or on the
    line half-way between two streets: one cell of slack keeps the residents the audit counts
    as served inside the area (measured on real networks: ≥ 99.6 %; tests/areas), at the price
    of a margin of one cell.
    """
    out = mask.copy()  # the four neighbours only: a 3 × 3 step would add a diagonal at 45°
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def trace(mask: np.ndarray, x0: float, y0: float, cell: float):
    """The reached cells of ``mask`` (its lower-left corner at ``x0``/``y0``) as a MultiPolygon.

    The outline runs half-way between reached and unreached cell centres; holes are kept.
    """
    from contourpy import FillType, contour_generator

    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return shapely.MultiPolygon()
    cols = np.flatnonzero(mask.any(axis=0))
    # only the rows and columns holding reached cells, with an unreached one around them: the
    # same outlines, point for point, at a fraction of the work for a small area
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    z = np.pad(mask[r0:r1, c0:c1], 1).astype(np.float32)
    ys = y0 + (np.arange(r0, r1 + 2) - 0.5) * cell  # as when the whole mask, padded, is traced
    xs = x0 + (np.arange(c0, c1 + 2) - 0.5) * cell
    generator = contour_generator(
        x=xs, y=ys, z=z, fill_type=FillType.OuterOffset, name="serial", corner_mask=False
    )
    filled = generator.filled(0.5, 1.5)
    points: list = list(filled[0])
    offsets: list = list(filled[1])
    if not points:
        return shapely.MultiPolygon()
    # every ring, its polygon, its points with the needless ones dropped (no shape change)
    ring_sizes = np.concatenate([np.diff(o) for o in offsets])
    ring_polygon = np.repeat(np.arange(len(offsets)), [len(o) - 1 for o in offsets])
    coords = np.concatenate(points)
    ring_of_point = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    keep = _turns(coords, ring_of_point, ring_sizes)
    rings = shapely.linearrings(coords[keep], indices=ring_of_point[keep])
    return multi(shapely.multipolygons(shapely.polygons(rings, indices=ring_polygon)))


def _turns(coords: np.ndarray, ring: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per point of closed rings: False where it lies on the straight line of its neighbours.

    Outlines traced on a grid run in long straight steps; their inner points carry nothing.
    Each ring keeps its first and last point (the same point: the ring stays closed).
    """
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    last = first + sizes - 1
    before = np.empty_like(coords)
    after = np.empty_like(coords)
    before[1:] = coords[1:] - coords[:-1]
    after[:-1] = coords[1:] - coords[:-1]
    # around a ring's closing point, its neighbours are the second and the second-to-last
    before[first] = coords[first] - coords[last - 1]
    after[last] = coords[first + 1] - coords[last]
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    scale = np.hypot(*before.T) * np.hypot(*after.T)
    keep = np.abs(cross) > 1e-9 * np.maximum(scale, 1e-12)
    keep[first] = True
    keep[last] = True
    return keep & (sizes[ring] > 0)


def multi(area):
    """``area`` as a MultiPolygon (a Polygon wrapped; anything else empty)."""
    if isinstance(area, shapely.MultiPolygon):
        return area
    if isinstance(area, shapely.Polygon) and not area.is_empty:
        return shapely.MultiPolygon([area])
    parts = [p for p in shapely.get_parts(area) if isinstance(p, shapely.Polygon)]
    return shapely.MultiPolygon(parts)
