"""Street network building: read an OSM extract or centre-lines, project, clean, index.

The result is an undirected walking graph (or a directed driving one) whose edges keep their
projected geometry (oriented from ``u`` to ``v``) and ``length_m``, the length of that geometry
in metres. Chains of edges through nodes that join just two alike edges are merged into one
edge (:mod:`circles.network.chains`): distances between the other nodes do not change, and searches
get several times smaller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from circles.errors import InputDataError, NetworkError
from circles.network.chains import merge_chains
from circles.network.issues import UNJOINED, empty_issues, find_crossings, merge_issues
from circles.network.roads import osm_segments, read_centre_lines
from circles.network.topology import repair_lines
from circles.network.unnoded import REPAIR_STATS, looks_unnoded
from circles.projection import WGS84, metric_crs, to_metric
from circles.rules.schema import DriveSpeeds

PBF_SUFFIXES = (".osm.pbf", ".pbf")
NODE_GRID_M = 0.001  # end points closer than this (after projection) are one node


@dataclass
class Network:
    """A projected street network.

    Attributes
    ----------
    node_x, node_y
        Node coordinates in ``crs`` (metres).
    u, v
        Edge end-node indices; ``geometry[i]`` runs from node ``u[i]`` to node ``v[i]``.
    length_m
        Length of each edge's geometry in metres.
    geometry
        Shapely LineStrings in ``crs`` (built on first use for a cached network; snapping
        needs only :meth:`coordinates`).
    crs
        The metric CRS.
    fragment
        True for edges on a fragment (a component smaller than ``min_component_nodes``):
        points whose nearest edge is one are flagged off the network.
    stats
        Counts reported in ``summary.json`` (source, nodes, edges, components dropped...).
    issues
        Places where the input lines cross or touch without a shared end point.
    mode
        ``walk`` (undirected, costs in metres) or ``drive`` (directed, costs in seconds).
    backward
        Drive: True where the edge may also be driven from ``v`` to ``u`` (every edge may be
        driven from ``u`` to ``v``; one-way ways were turned to run along their geometry).
    speed_m_s
        Drive: the speed on each edge, congestion included.
    cache_file
        The network's entry in the user cache, when it went through it: arrays derived from
        the network (the snapping grid, the service-area raster) are kept beside it
        (:func:`circles.network.cache.derived`).
    """

    node_x: np.ndarray
    node_y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    geometry: np.ndarray | None
    crs: CRS
    fragment: np.ndarray
    stats: dict = field(default_factory=dict)
    issues: pd.DataFrame = field(default_factory=lambda: empty_issues())
    mode: str = "walk"
    backward: np.ndarray | None = None
    speed_m_s: np.ndarray | None = None
    _coords: tuple[np.ndarray, np.ndarray] | None = None
    #: the network's entry in the cache (None when built without it): derived arrays go beside
    cache_file: Path | None = None
    #: each node's number as built, when the nodes were renumbered since
    #: (:func:`circles.network.order.in_hilbert_order`): names users see keep these numbers
    built_number: np.ndarray | None = None

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Every vertex of every edge (``n × 2``) and the edge each belongs to."""
        if self._coords is None:
            self._coords = shapely.get_coordinates(self.geometry, return_index=True)
        return self._coords

    def node_numbers_as_built(self) -> np.ndarray:
        """Each node's number as :func:`build_network` gave it (node names in outputs use it)."""
        if self.built_number is None:
            return np.arange(self.n_nodes)
        return self.built_number

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.u)

    @property
    def cost_per_m(self) -> np.ndarray:
        """Cost of one metre of each edge: 1 (metres) walking, seconds per metre driving."""
        if self.speed_m_s is None:
            return np.ones(self.n_edges)
        return 1.0 / self.speed_m_s


def is_pbf(path: Path) -> bool:
    """Whether ``path`` names an OSM PBF extract."""
    return path.name.lower().endswith(PBF_SUFFIXES)


# --------------------------------------------------------------------------- cleaning


def _node_keys(points: np.ndarray) -> np.ndarray:
    """Integer keys of points on a 1 mm grid: equal keys mean one node."""
    xy = np.round(shapely.get_coordinates(points) / NODE_GRID_M).astype(np.int64)
    return xy[:, 0] * 4_000_000_000 + xy[:, 1]


def _repair(
    raw: pd.DataFrame,
    *,
    split_crossings: bool | None,
    join_ends_m: float,
    min_component_nodes: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Centre-lines split at crossings and joined at dangles, as asked (see topology).

    ``split_crossings=None`` (auto) splits when the layer looks drawn without junctions:
    many crossings without a shared vertex, and most nodes on fragments.
    """
    stats: dict = {"split_crossings_auto": split_crossings is None}
    if split_crossings is None:
        geoms = raw.geometry.to_numpy(dtype=object)
        found = find_crossings(geoms, raw["line"].to_numpy())
        keys, inverse = np.unique(
            np.concatenate([_node_keys(shapely.get_point(geoms, i)) for i in (0, -1)]),
            return_inverse=True,
        )
        u, v = inverse[: len(geoms)], inverse[len(geoms) :]
        _, comp = _tiny_components(u, v, len(keys), min_component_nodes)
        joins = int(found["kind"].isin(["crossing", "end_on_line"]).sum())
        split_crossings = looks_unnoded(len(geoms), joins, comp["fragment_nodes"], len(keys))
        stats["before"] = {  # the evidence, for the warning
            "crossings": joins,
            "fragment_nodes": comp["fragment_nodes"],
            "nodes": len(keys),
        }
    stats |= {"split_crossings": bool(split_crossings), "join_ends_m": float(join_ends_m)}
    repairs = empty_issues()
    if split_crossings or join_ends_m > 0:
        raw, repairs = repair_lines(raw, split_crossings=split_crossings, join_ends_m=join_ends_m)
    elif stats["split_crossings_auto"]:
        stats["unrepaired_issues"] = found  # the lines as drawn: their issues, found above
    counts = repairs["kind"].value_counts()
    stats |= {name: int(counts.get(kind, 0)) for kind, name in REPAIR_STATS.items()}
    return raw, repairs, stats


def _tiny_components(
    u: np.ndarray, v: np.ndarray, n_nodes: int, min_nodes: int
) -> tuple[np.ndarray, dict]:
    """Mask of edges on fragments: components smaller than ``min_nodes`` (never the largest)."""
    from scipy import sparse  # only a fresh network build gets here
    from scipy.sparse.csgraph import connected_components

    graph = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
    n_comp, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    tiny = sizes < min_nodes
    tiny[np.argmax(sizes)] = False
    on_fragment = tiny[labels[u]]
    stats = {
        "components": int(n_comp),
        "fragments": int(tiny.sum()),
        "fragment_nodes": int(sizes[tiny].sum()),
    }
    return on_fragment, stats


def edge_speeds_m_s(raw: pd.DataFrame, drive: DriveSpeeds) -> np.ndarray:
    """Speed of each drivable edge: tagged maxspeed (if used) else its class speed, × congestion."""
    table = drive.road_class_km_per_h
    # once per distinct class (a few dozen), not per edge
    codes, distinct = pd.factorize(raw["road_class"], use_na_sentinel=False)
    classes = pd.Series(distinct, dtype=object).astype(str)
    classes = classes.str.extract(r"([a-z_]+)", expand=False).fillna("")
    speeds = classes.map(lambda c: table.get(c, table.get("default", 20.0))).to_numpy(float)
    class_speed = speeds[codes]
    tagged = raw["maxspeed_km_h"].to_numpy(dtype=float)
    use = np.isfinite(tagged) if drive.use_maxspeed else np.zeros(len(raw), dtype=bool)
    km_h = np.where(use, tagged, class_speed) * drive.congestion_factor
    return km_h / 3.6


def _turn_against_oneways(raw: pd.DataFrame) -> pd.DataFrame:
    """Lines one-way against their drawing turned round, so every one-way runs along it."""
    flip = raw["oneway"].to_numpy() == -1
    if flip.any():
        raw.loc[flip, "geometry"] = shapely.reverse(raw.geometry.to_numpy()[flip])
        if "u_key" in raw:
            raw.loc[flip, ["u_key", "v_key"]] = raw.loc[flip, ["v_key", "u_key"]].to_numpy()
        raw.loc[flip, "oneway"] = 1
    return raw


def _end_nodes(
    raw: pd.DataFrame, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node keys, each line's end nodes and the nodes' coordinates.

    Centre-lines meet where end points coincide (1 mm grid).
    """
    start, end = shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)
    start_xy, end_xy = shapely.get_coordinates(start), shapely.get_coordinates(end)
    return _nodes(_node_keys(start), _node_keys(end), start_xy, end_xy)


def _nodes(
    keys_u: np.ndarray, keys_v: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node keys, each line's end nodes (indices into them) and the nodes' coordinates."""
    keys, inverse = np.unique(
        np.concatenate([keys_u, keys_v]).astype(np.int64, copy=False), return_inverse=True
    )
    u, v = inverse[: len(keys_u)], inverse[len(keys_u) :]
    xy = np.empty((len(keys), 2))
    xy[u] = start
    xy[v] = end
    return keys, u, v, xy


def _centre_lines(
    path: Path,
    mode: str,
    crs: str | None,
    *,
    class_field: str | None,
    speed_field: str | None,
    oneway_field: str | None,
    split_crossings: bool | None,
    join_ends_m: float,
    min_component_nodes: int,
) -> tuple[pd.DataFrame, CRS, np.ndarray, np.ndarray, pd.DataFrame, dict, dict]:
    """Centre-lines read, projected, repaired as asked and turned along their one-way direction.

    Returns the lines, the metric CRS, their geometries and lengths, the issues found, the
    repair counts and the one-way values read as two-way.
    """
    raw = read_centre_lines(
        path,
        crs,
        mode,
        class_field=class_field,
        speed_field=speed_field,
        oneway_field=oneway_field,
    )
    target = metric_crs(raw, crs)
    oneway_unknown = dict(raw.attrs.get("oneway_unknown") or {})
    raw = to_metric(raw, target).reset_index(drop=True)
    raw, repairs, repair_stats = _repair(
        raw,
        split_crossings=split_crossings,
        join_ends_m=join_ends_m,
        min_component_nodes=min_component_nodes,
    )
    if mode == "drive":
        raw = _turn_against_oneways(raw)
    geoms = raw.geometry.to_numpy(dtype=object)
    found = repair_stats.pop("unrepaired_issues", None)
    issues = found if found is not None else find_crossings(geoms, raw["line"].to_numpy())
    issues = merge_issues(repairs, _levels_apart(issues, raw))
    return raw, target, geoms, shapely.length(geoms), issues, repair_stats, oneway_unknown


def _segment_lengths(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Lengths of straight segments, computed as GEOS measures a two-point LineString."""
    dx, dy = end[:, 0] - start[:, 0], end[:, 1] - start[:, 1]
    return np.sqrt(dx * dx + dy * dy)


def _segment_coordinates(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of straight segments and the segment each belongs to (as shapely gives)."""
    coords = np.stack([start, end], axis=1).reshape(-1, 2)
    return coords, np.repeat(np.arange(len(start)), 2)


def _osm_lines(
    path: Path, mode: str, crs: str | None
) -> tuple[pd.DataFrame, CRS, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OSM edges: node ids and attributes, the metric CRS, and the nodes as :func:`_nodes` gives.

    Each node is projected once (its points in the edges' lines are the same numbers), and
    one-way edges drawn against their direction are turned round (as
    :func:`_turn_against_oneways` turns lines).
    """
    edges, attributes = osm_segments(path, mode)
    keys, u, v, lonlat = _nodes(edges.u_key, edges.v_key, edges.start, edges.end)
    target = metric_crs(np.concatenate([lonlat.min(axis=0), lonlat.max(axis=0)]), crs)
    transformer = Transformer.from_crs(WGS84, target, always_xy=True)
    xy = np.column_stack(transformer.transform(lonlat[:, 0], lonlat[:, 1]))
    raw = pd.DataFrame({"u_key": edges.u_key, "v_key": edges.v_key})
    if attributes is not None:
        raw = pd.concat([raw, attributes], axis=1)
        flip = raw["oneway"].to_numpy() == -1
        u, v = np.where(flip, v, u), np.where(flip, u, v)
        raw.loc[flip, ["u_key", "v_key"]] = raw.loc[flip, ["v_key", "u_key"]].to_numpy()
        raw.loc[flip, "oneway"] = 1
    return raw, target, keys, u, v, xy


def _closed_and_parallel(u: np.ndarray, v: np.ndarray, n_nodes: int) -> tuple[int, int]:
    """How many lines are closed (a loop), and how many repeat another's two end nodes."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pair = lo * n_nodes + hi
    _, pair_count = np.unique(pair[lo != hi], return_counts=True)
    return int((u == v).sum()), int((pair_count - 1).sum())


def build_network(
    path: Path,
    *,
    mode: str = "walk",
    crs: str | None = None,
    min_component_nodes: int = 50,
    drive: DriveSpeeds | None = None,
    class_field: str | None = None,
    speed_field: str | None = None,
    oneway_field: str | None = None,
    split_crossings: bool | None = False,
    join_ends_m: float = 0.0,
) -> Network:
    """Build the walking or driving network from an OSM extract or a centre-line layer.

    Parameters
    ----------
    path
        ``.osm.pbf`` extract or a line layer whose lines meet at shared end points. Lines that
        cross without a shared end point are not joined; they are listed in
        ``Network.issues`` (bridges and tunnels are such places; so are digitising errors).
        Every line with a length is an edge: parallel lines (same two end points) and closed
        lines (a loop, its one end node reached either way round) included.
    mode
        ``walk``: walkable ways, undirected. ``drive``: drivable ways, one-way ways respected,
        speeds from ``drive``.
    crs
        Metric CRS to measure in; the local UTM zone when None. Also the CRS assumed for a line
        layer that carries none.
    min_component_nodes
        Components with fewer nodes are fragments (the largest component never is): points
        whose nearest edge lies on one are flagged off the network, as they can reach nothing.
    drive
        Speeds by road class and the congestion factor (required for ``mode="drive"``).
    class_field, speed_field, oneway_field
        Columns of a centre-line layer for driving (defaults: ``highway``, ``maxspeed``,
        ``oneway`` when present).
    split_crossings, join_ends_m
        Centre-lines only: split lines where they cross (not across ``bridge``/``tunnel``/
        ``layer`` levels; None: only when the layer looks drawn without junctions) and join
        dangling ends within ``join_ends_m`` metres (:func:`circles.network.topology.repair_lines`).
        The repairs head ``Network.issues``.

    Raises
    ------
    NetworkError, InputDataError
        When the file cannot be read or holds no usable lines.
    """
    if not path.exists():
        raise InputDataError(f"network file {path} does not exist; check the path")
    if mode == "drive" and drive is None:
        raise NetworkError("a drive network needs drive speeds (the rule's drive block)")
    source = "osm" if is_pbf(path) else "lines"
    issues = empty_issues()
    repair_stats: dict = {}
    oneway_unknown: dict = {}
    if source == "osm":  # two-point edges: kept as coordinate arrays, no shapes until the end
        raw, target, keys, u, v, xy = _osm_lines(path, mode, crs)
        ends = (xy[u], xy[v])
        lengths = _segment_lengths(*ends)
        geoms = None
    else:
        raw, target, geoms, lengths, issues, repair_stats, oneway_unknown = _centre_lines(
            path,
            mode,
            crs,
            class_field=class_field,
            speed_field=speed_field,
            oneway_field=oneway_field,
            split_crossings=split_crossings,
            join_ends_m=join_ends_m,
            min_component_nodes=min_component_nodes,
        )
        keys, u, v, xy = _end_nodes(raw, geoms)
    n_edges_in = len(u)

    if mode == "drive":
        speed = edge_speeds_m_s(raw, drive)  # type: ignore[arg-type]
        both = raw["oneway"].to_numpy() == 0
        cost = lengths / speed
    else:
        speed, both, cost = None, np.ones(n_edges_in, dtype=bool), lengths
    # Every line stays an edge: parallel lines (two paths round a pond, a dual carriageway
    # drawn twice) and closed lines (a loop path, a ring road) carry residents and facilities
    # of their own. A search graph keeps parallel arcs (never summed) and a closed line is a
    # loop edge whose points reach its one end node either way round. Only lines without
    # length (a point) or without a usable cost are left out.
    keep = np.isfinite(cost) & (lengths > 0)
    closed, parallel = _closed_and_parallel(u[keep], v[keep], len(keys))
    chosen = np.flatnonzero(keep)
    u, v, lengths = u[chosen], v[chosen], lengths[chosen]

    if len(u) == 0:
        raise NetworkError(
            f"network file {path.name} yields no edges: none of its {n_edges_in} lines has a "
            "length; give road centre-lines that meet at shared end points"
        )
    on_fragment, comp_stats = _tiny_components(u, v, len(keys), min_component_nodes)
    n_nodes_in = int(np.count_nonzero(np.bincount(np.concatenate([u, v]), minlength=len(keys))))
    n_edges_kept = len(u)
    backward = None if mode == "walk" else both[chosen]
    speed = None if speed is None else speed[chosen]
    coords, index = (
        _segment_coordinates(ends[0][chosen], ends[1][chosen])
        if geoms is None
        else shapely.get_coordinates(geoms[chosen], return_index=True)
    )
    merged = merge_chains(len(keys), u, v, coords, index, lengths, backward=backward, speed=speed)
    u, v, lengths = merged.u, merged.v, merged.length_m
    on_fragment = on_fragment[merged.first]
    if backward is not None and speed is not None:
        backward, speed = backward[merged.first], speed[merged.first]
    used, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    u, v = inverse[: len(u)], inverse[len(u) :]
    stats = {
        "source": source,
        "mode": mode,
        "nodes": n_nodes_in,
        "edges": n_edges_kept,
        "graph_nodes": len(used),
        "graph_edges": len(u),
        "length_km": round(float(lengths[~on_fragment].sum()) / 1000.0, 3),
        "edges_read": n_edges_in,
        "closed_lines": closed,
        "parallel_lines": parallel,
        **comp_stats,
        "crossings": int(issues["kind"].isin(UNJOINED).sum()),
        **repair_stats,
    }
    apart = int((issues["kind"] == "not_split_levels").sum())
    if apart or "crossings_not_split_levels" in stats:
        stats["crossings_not_split_levels"] = apart
    if oneway_unknown:
        stats["oneway_unknown"] = oneway_unknown
    return Network(
        node_x=xy[used, 0],
        node_y=xy[used, 1],
        u=u.astype(np.int64),
        v=v.astype(np.int64),
        length_m=lengths.astype(float),
        geometry=shapely.linestrings(merged.coords, indices=merged.index),
        crs=target,
        fragment=on_fragment,
        stats=stats,
        issues=issues,
        mode=mode,
        backward=backward,
        speed_m_s=speed,
        _coords=(merged.coords, merged.index),
    )


# --------------------------------------------------------------------------- cache


def _levels_apart(issues: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Crossings left as drawn between lines on different levels, as ``not_split_levels``.

    An overpass tagged as a bridge (or a different ``layer``) that crosses a street without a
    shared vertex is drawn right: it is listed as a level crossing, not as a missing junction.
    """
    if len(issues) == 0 or "level" not in raw.columns:
        return issues
    level = dict(zip(raw["line"].astype(str), raw["level"], strict=True))
    crossing = issues["kind"] == "crossing"
    apart = crossing & (
        issues["line_a"].astype(str).map(level) != issues["line_b"].astype(str).map(level)
    )
    if not apart.any():
        return issues
    out = issues.copy()
    out.loc[apart, "kind"] = "not_split_levels"
    return out
