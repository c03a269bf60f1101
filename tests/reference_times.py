"""An independent reference for travel times on a centre-line layer (networkx + shapely only).

Nothing here comes from ``circles``: the reference reads the same line layer, builds its own
graph and snaps its own points, so a test comparing the two checks circles against a second
computation written from the documented rules, not against itself:

- nodes are line end points with identical (projected) coordinates; lines that cross without
  a shared end point are not joined; every line is an edge (parallel lines stay, closed lines
  are self-loops), its length the length of its geometry;
- a point goes to the nearest point of the nearest line (exact distance); its straight access
  leg counts; it reaches both ends of its line along the line (a closed line: its one end node,
  either way round), and a facility on the same line directly along it;
- a point farther than ``max_snap_m`` from every line, or whose nearest line lies on a fragment
  (a component with fewer than ``min_component_nodes`` nodes, never the largest), is off the
  network;
- driving: a line may be driven along its geometry, against it, or both, at its own speed; the
  access legs at a speed of their own; a stretch of zero length needs no direction.

Points equidistant (within ``TIE_M``) from several lines are ambiguous: every candidate gives
an acceptable answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely

TIE_M = 1e-6
ZERO_M = 1e-3  # a stretch of line this short is no travel (no direction needed)
SOURCE = "source"


@dataclass(frozen=True)
class Place:
    """Where a point meets one line: line index, offset from its start, access leg (m)."""

    line: int
    offset_m: float
    leg_m: float


@dataclass
class Snap:
    """A point's candidate places (several when tied); empty when off the network.

    ``maybe_off`` is true when some tied candidates lie on a fragment and others do not.
    """

    places: list[Place]
    maybe_off: bool = False

    @property
    def on(self) -> bool:
        """Whether the point is on the network for at least one candidate."""
        return bool(self.places)


class Reference:
    """Lines as a networkx multigraph, with snapping and nearest-facility costs.

    Parameters
    ----------
    lines
        Projected LineStrings (metres).
    cost_per_m
        Cost of one metre of each line (1 walking; seconds per metre driving).
    forward, backward
        Whether each line may be travelled along / against its geometry (default: both).
    leg_cost_per_m
        Cost of one metre of access leg.
    max_snap_m, min_component_nodes
        Off-network rules (see the module docstring).
    """

    def __init__(
        self,
        lines: list[shapely.LineString],
        *,
        cost_per_m: np.ndarray | None = None,
        forward: np.ndarray | None = None,
        backward: np.ndarray | None = None,
        leg_cost_per_m: float = 1.0,
        max_snap_m: float = 250.0,
        min_component_nodes: int = 0,
    ) -> None:
        n = len(lines)
        self.lines = list(lines)
        self.length = np.array([g.length for g in self.lines])
        self.cpm = np.ones(n) if cost_per_m is None else np.asarray(cost_per_m, dtype=float)
        self.forward = np.ones(n, bool) if forward is None else np.asarray(forward, bool)
        self.backward = np.ones(n, bool) if backward is None else np.asarray(backward, bool)
        self.leg_cost_per_m = leg_cost_per_m
        self.max_snap_m = max_snap_m
        node_of: dict[tuple[float, float], int] = {}
        self.u = np.empty(n, dtype=np.int64)
        self.v = np.empty(n, dtype=np.int64)
        for i, g in enumerate(self.lines):
            coords = g.coords
            self.u[i] = node_of.setdefault(tuple(coords[0]), len(node_of))
            self.v[i] = node_of.setdefault(tuple(coords[-1]), len(node_of))
        self.n_nodes = len(node_of)
        self.graph = nx.MultiDiGraph()
        self.graph.add_nodes_from(range(self.n_nodes))
        for i in range(n):
            cost = self.length[i] * self.cpm[i]
            if self.forward[i]:
                self.graph.add_edge(int(self.u[i]), int(self.v[i]), w=cost)
            if self.backward[i]:
                self.graph.add_edge(int(self.v[i]), int(self.u[i]), w=cost)
        undirected = nx.MultiGraph()
        undirected.add_nodes_from(range(self.n_nodes))
        undirected.add_edges_from(zip(self.u.tolist(), self.v.tolist(), strict=True))
        comps = sorted(nx.connected_components(undirected), key=len, reverse=True)
        self.largest_tied = len(comps) > 1 and len(comps[0]) == len(comps[1])
        size = np.empty(self.n_nodes, dtype=np.int64)
        for c in comps:
            size[list(c)] = len(c)
        self.fragment = (size[self.u] < min_component_nodes) & (size[self.u] != len(comps[0]))
        self.n_parallel = self._count_parallel()
        self.n_closed = int((self.u == self.v).sum())
        self.snappable = np.arange(n)  # the lines points may snap to
        self.tree = shapely.STRtree(self.lines)

    def _count_parallel(self) -> int:
        """Lines sharing both end nodes with another line (closed lines not counted)."""
        pairs: dict[tuple[int, int], int] = {}
        for a, b in zip(self.u.tolist(), self.v.tolist(), strict=True):
            if a != b:
                key = (min(a, b), max(a, b))
                pairs[key] = pairs.get(key, 0) + 1
        return sum(c for c in pairs.values() if c > 1)

    def snap(self, points: list[shapely.Point]) -> list[Snap]:
        """Candidate places of each point (exact nearest line, ties within ``TIE_M``)."""
        out = []
        for pt in points:
            index = self.snappable[self.tree.nearest(pt)]
            best = shapely.distance(pt, self.lines[index])
            if best > self.max_snap_m:
                out.append(Snap([]))
                continue
            near = self.tree.query(pt, predicate="dwithin", distance=best + TIE_M)
            places, on_fragment = [], []
            seen_nodes: set[int] = set()
            for i in sorted(int(self.snappable[j]) for j in near):
                d = shapely.distance(pt, self.lines[i])
                if d > best + TIE_M:
                    continue
                off = float(self.lines[i].project(pt))
                # a place at a line's end is its end node: one candidate per node
                node = None
                if off <= TIE_M:
                    node = int(self.u[i])
                elif off >= self.length[i] - TIE_M:
                    node = int(self.v[i])
                if node is not None:
                    if node in seen_nodes:
                        continue
                    seen_nodes.add(node)
                places.append(Place(i, off, float(d)))
                on_fragment.append(bool(self.fragment[i]))
            kept = [p for p, f in zip(places, on_fragment, strict=True) if not f]
            out.append(Snap(kept, maybe_off=bool(kept) and any(on_fragment)))
        return out

    # ---------------------------------------------------------------- costs

    def _exits(self, place: Place) -> list[tuple[int, float]]:
        """Nodes a facility at ``place`` reaches along its line, with the cost."""
        i, off = place.line, place.offset_m
        to_v, to_u = self.length[i] - off, off
        out = []
        if self.forward[i] or to_v <= ZERO_M:
            out.append((int(self.v[i]), to_v * self.cpm[i]))
        if self.backward[i] or to_u <= ZERO_M:
            out.append((int(self.u[i]), to_u * self.cpm[i]))
        return out

    def _entries(self, place: Place) -> list[tuple[int, float]]:
        """Nodes from which a resident at ``place`` is reached along its line, with the cost."""
        i, off = place.line, place.offset_m
        from_u, from_v = off, self.length[i] - off
        out = []
        if self.forward[i] or from_u <= ZERO_M:
            out.append((int(self.u[i]), from_u * self.cpm[i]))
        if self.backward[i] or from_v <= ZERO_M:
            out.append((int(self.v[i]), from_v * self.cpm[i]))
        return out

    def _direct(self, fac: Place, res: Place) -> float:
        """Cost from a facility to a resident on the same line, along it (inf if not allowed)."""
        if fac.line != res.line:
            return math.inf
        i = fac.line
        step = res.offset_m - fac.offset_m
        if abs(step) <= ZERO_M or (step > 0 and self.forward[i]) or (step < 0 and self.backward[i]):
            return abs(step) * self.cpm[i]
        return math.inf

    def costs_from(
        self, facilities: list[Snap], residents: list[Snap], cutoff: float
    ) -> list[set[float]]:
        """Per resident, every acceptable cost from the nearest facility (legs included).

        Costs run from the facility to the resident (build the reference with ``forward`` and
        ``backward`` swapped for the other direction; walking is symmetric). Beyond ``cutoff``
        a cost may be reported as inf. Off-network residents get an empty set.

        A facility tied between lines may stand on any of them: a cost is acceptable when some
        choice of line for every tied facility gives it. With ``base`` the cost from the untied
        facilities and ``d[f][c]`` from tied facility ``f`` on its line ``c``, the nearest is
        ``g`` for some choice iff ``g`` is ``base`` or some ``d[f][c]``, ``g <= base``, and every
        other tied facility has a line at least ``g`` away.
        """
        untied = [f.places[0] for f in facilities if len(f.places) == 1]
        tied = [f.places for f in facilities if len(f.places) > 1]
        base = self._costs(untied, residents, cutoff)
        each = [[self._costs([p], residents, cutoff) for p in places] for places in tied]
        answers: list[set[float]] = []
        for r, snap in enumerate(residents):
            out: set[float] = set()
            for j in range(len(snap.places)):
                b = base[r][j]
                d = [[c[r][j] for c in per_line] for per_line in each]
                worst = [max(x) for x in d]
                options = [(b, -1)] + [(x, k) for k, xs in enumerate(d) for x in xs]
                for g, owner in options:
                    if g <= b and all(w >= g for k, w in enumerate(worst) if k != owner):
                        out.add(g)
            answers.append(out)
        return answers

    def _costs(
        self, fac_places: list[Place], residents: list[Snap], cutoff: float
    ) -> list[list[float]]:
        """Per resident and candidate place: cost from the nearest of ``fac_places``."""
        legc = self.leg_cost_per_m
        g = self.graph
        g.add_node(SOURCE)
        for fp in fac_places:
            for node, cost in self._exits(fp):
                g.add_edge(SOURCE, node, w=fp.leg_m * legc + cost)
        try:
            dist = nx.single_source_dijkstra_path_length(g, SOURCE, cutoff=cutoff, weight="w")
        finally:
            g.remove_node(SOURCE)
        by_line: dict[int, list[Place]] = {}
        for fp in fac_places:
            by_line.setdefault(fp.line, []).append(fp)
        out = []
        for snap in residents:
            row = []
            for rp in snap.places:
                best = math.inf
                for node, cost in self._entries(rp):
                    best = min(best, dist.get(node, math.inf) + cost)
                for fp in by_line.get(rp.line, []):
                    best = min(best, fp.leg_m * legc + self._direct(fp, rp))
                row.append(best + rp.leg_m * legc)
            out.append(row)
        return out


@dataclass
class Mismatch:
    """One resident whose reported time matches no acceptable reference time."""

    row: int
    got: float
    want: list[float]

    @property
    def error(self) -> float:
        """Distance from the reported time to the nearest acceptable one (inf: NaN vs number)."""
        finite = [w for w in self.want if math.isfinite(w)]
        if math.isnan(self.got) or not finite:
            return math.inf
        return min(abs(self.got - w) for w in finite)


def compare_minutes(
    got: np.ndarray, want: list[set[float]], horizon_min: float, tol: float = 0.01
) -> list[Mismatch]:
    """Residents whose reported minutes (NaN = beyond the horizon) match no reference value.

    ``want`` holds each on-network resident's acceptable minutes (empty set: off the network,
    where only NaN is right).
    """
    bad = []
    for row, (g, options) in enumerate(zip(got, want, strict=True)):
        if not options:
            if not math.isnan(g):
                bad.append(Mismatch(row, float(g), []))
            continue
        if math.isnan(g):
            ok = any(w >= horizon_min - tol for w in options)
        else:
            ok = any(abs(g - w) <= tol and w <= horizon_min + tol for w in options)
        if not ok:
            bad.append(Mismatch(row, float(g), sorted(options)))
    return bad


def describe(bad: list[Mismatch], label: str, limit: int = 4) -> str:
    """An account of mismatches: how many, the largest error between numbers, a few examples."""
    if not bad:
        return f"{label}: all match"
    finite = [m for m in bad if math.isfinite(m.error)]
    worst = max((m.error for m in finite), default=0.0)
    examples = "; ".join(
        f"row {m.row}: got {m.got:.3f}, want {' or '.join(f'{w:.3f}' for w in m.want) or 'nan'}"
        for m in sorted(bad, key=lambda m: -min(m.error, 1e18))[:limit]
    )
    return (
        f"{label}: {len(bad)} residents wrong ({len(finite)} by up to {worst:.3f} min, "
        f"{len(bad) - len(finite)} a time where the reference has none in reach or the reverse);"
        f" e.g. {examples}"
    )
