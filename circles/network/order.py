"""Spatial order: numbering points along a Hilbert curve, so that near points get near numbers.

A street network read from an extract numbers its nodes in the extract's order; a search that
spreads over the streets then jumps about in memory. Numbered along a Hilbert curve, the nodes
of one neighbourhood sit together in every per-node array, and a search touches far fewer
memory pages. Queries (points to snap) taken in the same order touch the same grid cells one
after another.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from circles.network.build import Network

HILBERT_BITS = 16  # the curve runs over a 65,536 × 65,536 grid spanning the points


def hilbert_keys(x: np.ndarray, y: np.ndarray, bits: int = HILBERT_BITS) -> np.ndarray:
    """Each point's position along a Hilbert curve over the points' bounding box.

    Points in the same curve cell share a key. Non-finite coordinates get the last key.

    Parameters
    ----------
    x, y
        Coordinates (any units; only their order matters).
    bits
        The curve's grid has ``2**bits`` cells a side (at most 31).

    Returns
    -------
    np.ndarray
        int64 keys in ``[0, 4**bits)``.
    """
    n = len(x)
    keys = np.full(n, (1 << (2 * bits)) - 1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return keys
    side = 1 << bits
    px, py = np.asarray(x, dtype=float)[ok], np.asarray(y, dtype=float)[ok]
    span = max(float(np.ptp(px)), float(np.ptp(py)))  # square cells: the curve has no bias
    cx, cy = _cells(px, span, side), _cells(py, span, side)
    d = np.zeros(len(cx), dtype=np.int64)
    s = side >> 1
    while s > 0:
        rx = (cx & s) > 0
        ry = (cy & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # rotate the quadrant so that the curve inside it runs the standard way
        turn = ~ry
        flip = turn & rx
        cx = np.where(flip, side - 1 - cx, cx)
        cy = np.where(flip, side - 1 - cy, cy)
        cx, cy = np.where(turn, cy, cx), np.where(turn, cx, cy)
        s >>= 1
    keys[ok] = d
    return keys


def _cells(values: np.ndarray, span: float, side: int) -> np.ndarray:
    """Values scaled to integer cells ``0 .. side - 1``: ``span`` from their least is ``side``."""
    if span <= 0:
        return np.zeros(len(values), dtype=np.int64)
    return np.minimum(((values - values.min()) / span * side).astype(np.int64), side - 1)


def hilbert_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices that put the points in Hilbert-curve order (ties keep their given order)."""
    return np.argsort(hilbert_keys(x, y), kind="stable")


def hilbert_numbers(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each point's new number when the points are numbered in Hilbert-curve order."""
    order = hilbert_order(x, y)
    numbers = np.empty(len(order), dtype=np.int64)
    numbers[order] = np.arange(len(order))
    return numbers


def in_hilbert_order(network: Network) -> Network:
    """The network with its nodes renumbered along a Hilbert curve; the edges keep their order.

    Only numbers change: each edge keeps its geometry, length and end points, and a search
    settles the same labels in the same order (its heap compares costs only, and each node's
    arcs keep the edges' order), so every result is the same, found with fewer cache misses.
    Each node's number as built is kept (``Network.built_number``) for the names users see.
    """
    order = hilbert_order(network.node_x, network.node_y)
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.arange(len(order))
    return dataclasses.replace(
        network,
        node_x=network.node_x[order],
        node_y=network.node_y[order],
        u=number[network.u],
        v=number[network.v],
        built_number=network.node_numbers_as_built()[order],
    )
