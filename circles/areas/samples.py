"""Points along the network and their travel cost, computed as for a resident standing there.

The network is sampled along every edge (both ends and every ``step_m`` between); each sample
is anchored on its piece of the search graph like a resident with no access leg
(:func:`circles.traveltime.graph.anchor_residents`), so one-way rules and the facilities' split
points apply to it exactly as to residents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circles.network.build import Network
from circles.network.networks import AuditNetwork
from circles.network.snap import Snaps
from circles.traveltime.graph import Anchors, anchor_residents, resident_costs


@dataclass
class Samples:
    """Points along the network: coordinates and, per travel direction, their anchors.

    ``xy`` is ``n × 2`` in the network's CRS; ``snaps`` places each on its edge (no access
    leg); ``on`` is False for samples on fragments (points near them are off the network).
    """

    xy: np.ndarray
    snaps: Snaps
    on: np.ndarray
    anchors: dict[str, Anchors]


def sample_network(network: Network, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge index, offset from the ``u`` end and coordinates of points every ``step_m`` or less.

    Every edge gets its two ends and evenly spaced points between them.
    """
    length = network.length_m
    pieces = np.maximum(np.ceil(length / step_m), 1).astype(np.int64)
    count = pieces + 1
    edge = np.repeat(np.arange(network.n_edges), count)
    first = np.repeat(np.cumsum(count) - count, count)
    position = np.arange(len(edge)) - first  # 0 .. pieces
    offset = length[edge] * position / pieces[edge]
    return edge, offset, points_along(network, edge, offset)


def points_along(network: Network, edge: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Coordinates of the points ``offset`` metres along ``edge`` from its ``u`` end.

    Interpolated on the edges' vertices (:meth:`Network.coordinates`; a cached network has no
    shapely geometry); ``edge`` must be sorted.
    """
    coords, index = network.coordinates()
    coords = np.asarray(coords)[:, :2]
    index = np.asarray(index)
    step = np.hypot(*np.diff(coords, axis=0).T)
    step[index[1:] != index[:-1]] = 0.0  # no step from one edge's last vertex to the next edge
    along = np.r_[0.0, np.cumsum(step)]  # running length over every edge in turn
    first = np.searchsorted(index, np.arange(network.n_edges))
    last = np.searchsorted(index, np.arange(network.n_edges), side="right") - 1
    start = along[first]
    drawn = along[last] - start  # the vertices' length, ≈ length_m
    scale = np.divide(drawn, network.length_m, out=np.ones_like(drawn), where=network.length_m > 0)
    target = start[edge] + offset * scale[edge]
    i = np.searchsorted(along, target, side="right") - 1
    i = np.clip(i, first[edge], np.maximum(last[edge] - 1, first[edge]))
    j = np.minimum(i + 1, last[edge])
    seg = along[j] - along[i]
    t = np.divide(target - along[i], seg, out=np.zeros_like(seg), where=seg > 0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    return coords[i] * (1 - t) + coords[j] * t


def samples_at(network: Network, edge: np.ndarray, offset: np.ndarray, xy: np.ndarray) -> Samples:
    """The samples at ``offset`` metres along ``edge`` (coordinates ``xy``) of ``network``."""
    on = ~network.fragment[edge]
    snaps = Snaps(edge=edge, offset_m=offset, snap_m=np.zeros(len(edge)), on_network=on)
    return Samples(xy=xy, snaps=snaps, on=on, anchors={})


def sample_costs(
    net: AuditNetwork,
    samples: Samples,
    node_cost: np.ndarray,
    node_ids: np.ndarray,
    k: int,
    direction: str,
) -> np.ndarray:
    """Cost from (or to) each sample to its ``k``-th nearest distinct facility (inf beyond).

    ``node_cost``/``node_ids`` are the engine's answer (``n_nodes × k``, best first) for the
    direction of travel; a sample's costs are those of its piece's two ends plus the way along
    the piece, the best ``k`` distinct facilities kept, as for a resident
    (:func:`circles.traveltime.graph.resident_costs`).
    """
    if direction not in samples.anchors:
        samples.anchors[direction] = anchor_residents(
            net.network,
            net.search_graph(),
            samples.snaps,
            direction=direction,
            leg_cost_per_m=net.leg_cost_per_m,
        )
    cost, _ = resident_costs(samples.anchors[direction], node_cost, node_ids, k, np.inf)
    kth = cost[:, k - 1]
    kth[np.isnan(kth)] = np.inf
    return kth
