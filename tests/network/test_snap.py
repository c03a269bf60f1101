"""Snapping against a brute-force nearest edge (shapely distances to every edge)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyrosm
import shapely

from circles.network.build import build_network
from circles.network.snap import snap_points


def test_nearest_edge_and_offset_match_brute_force() -> None:
    net = build_network(Path(pyrosm.get_data("helsinki_pbf")), min_component_nodes=0)
    rng = np.random.default_rng(11)
    xmin, ymin = net.node_x.min(), net.node_y.min()
    xmax, ymax = net.node_x.max(), net.node_y.max()
    near = rng.choice(net.n_nodes, 400)
    points = np.concatenate(
        [
            # scattered over the extract and beyond it (some far from every street)
            shapely.points(
                rng.uniform(xmin - 2000, xmax + 2000, 300),
                rng.uniform(ymin - 2000, ymax + 2000, 300),
            ),
            # close to the streets, where pieces crowd
            shapely.points(
                net.node_x[near] + rng.normal(0, 8, 400), net.node_y[near] + rng.normal(0, 8, 400)
            ),
            [None],
        ]
    )
    snaps = snap_points(net, points, max_snap_m=1e9)
    present = np.array([p is not None for p in points])
    assert not snaps.on_network[~present].any() and np.isnan(snaps.snap_m[~present]).all()
    geoms = net.geometry
    for i in np.flatnonzero(present):
        dist = shapely.distance(geoms, points[i])
        assert abs(snaps.snap_m[i] - dist.min()) < 1e-6
        # the chosen edge is one of the nearest, and the offset lands on the foot of the point
        assert dist[snaps.edge[i]] - dist.min() < 1e-6
        foot = shapely.line_interpolate_point(geoms[snaps.edge[i]], snaps.offset_m[i])
        assert abs(shapely.distance(foot, points[i]) - dist.min()) < 1e-5
