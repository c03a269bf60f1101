"""Reading OSM extracts: the highway ways of a ``.osm.pbf`` file, split into node-pair edges.

One pass of pyosmium over the file reads every way with a ``highway`` tag, the tags the
walking and driving filters look at and the locations of its nodes; the walking and the
driving edges are both selected from that one read (kept until :func:`release_osm`).

The filters and the splitting are those of pyrosm's ``get_network(nodes=True)``, which
circles used before: a way is left out when a filtered tag has a listed value (also as one
of several ``;``-separated values) or when the most specific access tag of the mode says
``no`` or ``private``. A way is cut into one edge per pair of consecutive nodes, in file
order; nodes missing from the extract (or with coordinates out of range) are skipped, so
the way runs straight past them, and a way left with fewer than two nodes gives no edge.
Repeated nodes give an edge of length zero, a closed way ends at its first node, and
``area=yes`` leaves a way out.
"""

from __future__ import annotations

import functools
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import shapely

from circles.errors import NetworkError

# Values of an access tag that close a way to the public.
CLOSED = ("no", "private")
# Highway values no network uses: not a way (yet, or any more), or not a street.
_NEVER = (
    "abandoned",
    "construction",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
)
SEPARATE_SIDEWALK = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


@dataclass(frozen=True)
class WayFilter:
    """Which ways a network leaves out: by tag values, and by the access tags of its mode.

    Attributes
    ----------
    excluded
        ``{key: values}``: a way whose ``key`` has one of ``values`` (also as one of several
        ``;``-separated values) is left out.
    access_keys
        The mode's access tags, most specific first, then ``access``: the first one a way
        carries decides, and ``no``/``private`` close the way.
    """

    excluded: dict[str, tuple[str, ...]]
    access_keys: tuple[str, ...]


WALKING = WayFilter(
    excluded={
        "area": ("yes",),
        "highway": (*_NEVER, "bus_guideway", "cycleway", "motor", "motorway", "motorway_link"),
        "service": ("private",),
        **{key: ("separate",) for key in SEPARATE_SIDEWALK},
    },
    access_keys=("foot", "access"),
)
DRIVING = WayFilter(
    excluded={
        "area": ("yes",),
        "highway": (
            *_NEVER,
            "bridleway",
            "bus_guideway",
            "busway",
            "corridor",
            "cycleway",
            "elevator",
            "escalator",
            "footway",
            "ladder",
            "path",
            "pedestrian",
            "steps",
            "track",
            "trail",
            "service",
        ),
        "service": (
            "emergency_access",
            "parking",
            "parking_aisle",
            "private",
            "alley",
            "driveway",
        ),
    },
    access_keys=("motorcar", "motor_vehicle", "vehicle", "access"),
)
FILTERS = {"walk": WALKING, "drive": DRIVING}
# the tags read from each way: those the filters look at, then the edge attributes
ATTRIBUTES = ("highway", "maxspeed", "oneway", "junction")
KEYS = tuple(
    dict.fromkeys(
        [
            *ATTRIBUTES,
            *(k for f in FILTERS.values() for k in f.excluded),
            *(k for f in FILTERS.values() for k in f.access_keys),
        ]
    )
)


class HistoryFileError(Exception):
    """An extract holding every version of its objects (an OSM history file)."""


@dataclass
class OsmWays:
    """The highway ways of an extract, as flat arrays.

    Attributes
    ----------
    tags
        One object array per key of :data:`KEYS` (None where a way lacks the tag), a row per
        way in file order.
    offsets
        Way ``i`` has the nodes ``offsets[i]:offsets[i + 1]`` of the node arrays.
    node_id, lon, lat
        The ways' nodes in order: OSM id and degrees (NaN where missing from the extract).
    valid
        Whether each node has a location in range.
    """

    tags: dict[str, np.ndarray]
    offsets: np.ndarray
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    valid: np.ndarray


def _read(path: str) -> OsmWays:
    """One pass over ``path``: every way with a highway tag, its tags and node locations."""
    import osmium

    wkb = osmium.geom.WKBFactory()
    every_node = osmium.geom.ALL
    rows: list[tuple] = []
    refs: list[list[int]] = []
    lines: list[str | None] = []
    broken: dict[int, list[tuple[bool, int, int]]] = {}
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    if processor.header.has_multiple_object_versions:
        raise HistoryFileError
    keys = KEYS  # highway first (ATTRIBUTES lead)
    no_more = (None,) * (len(keys) - 1)
    for entity in processor:
        way = cast("osmium.osm.Way", entity)  # the entity filter lets only ways through
        tags = way.tags
        if len(tags) == 1:  # highway alone, as a fifth of the ways of a city
            rows.append((tags.get("highway"), *no_more))
        else:
            rows.append(tuple([tags.get(k) for k in keys]))
        nodes = way.nodes
        refs.append([n.ref for n in nodes])
        try:
            lines.append(wkb.create_linestring(nodes, every_node))
        except (osmium.InvalidLocationError, RuntimeError):  # a node missing, or just one
            lines.append(None)
            broken[len(lines) - 1] = [(n.location.valid(), n.x, n.y) for n in nodes]
    counts = np.fromiter(map(len, refs), dtype=np.int64, count=len(refs))
    offsets = np.zeros(len(refs) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    node_id = np.fromiter(
        (r for way_refs in refs for r in way_refs), dtype=np.int64, count=int(offsets[-1])
    )
    lon = np.full(len(node_id), np.nan)
    lat = np.full(len(node_id), np.nan)
    whole = np.array([line is not None for line in lines], dtype=bool)
    if whole.any():
        xy = _wkb_coordinates([line for line in lines if line is not None], counts[whole])
        at = np.repeat(whole, counts)
        lon[at], lat[at] = xy[:, 0], xy[:, 1]
    valid = np.repeat(whole, counts)
    for i, located in broken.items():  # x, y: 1e-7 degrees, as osmium keeps them
        ok = np.array([n[0] for n in located], dtype=np.bool_)
        fixed = np.array([n[1:] for n in located], dtype=np.float64).reshape(-1, 2) / 1e7
        at_way = slice(offsets[i], offsets[i] + len(located))
        valid[at_way] = ok
        lon[at_way] = np.where(ok, fixed[:, 0], np.nan)
        lat[at_way] = np.where(ok, fixed[:, 1], np.nan)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
    tag_arrays = {k: np.array(col, dtype=object) for k, col in zip(keys, columns, strict=True)}
    return OsmWays(tag_arrays, offsets, node_id, lon, lat, valid)


def _wkb_coordinates(lines: list[str], counts: np.ndarray) -> np.ndarray:
    """The coordinates (``n × 2``) of hex WKB LineStrings of ``counts`` points each.

    Each is a 9-byte header (little-endian flag, type 2, point count) and its points as
    doubles; read straight from the bytes (shapely's WKB reader is ten times slower here).
    """
    raw = np.frombuffer(bytes.fromhex("".join(lines)), dtype=np.uint8)
    sizes = 9 + 16 * counts
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    head = raw[starts[:, None] + np.arange(9)].astype(np.int64)
    if len(raw) != sizes.sum() or not (
        (head[:, :5] == [1, 2, 0, 0, 0]).all()
        and (head[:, 5:] @ (256 ** np.arange(4)) == counts).all()
    ):  # not plain little-endian WKB: let shapely read it
        return shapely.get_coordinates(shapely.from_wkb(np.array(lines, dtype=object)))
    first = np.repeat(starts + 9, 2 * counts)  # each coordinate's offset from its line's first
    within = np.arange(len(first)) - np.repeat(np.cumsum(2 * counts) - 2 * counts, 2 * counts)
    at = first + 8 * within
    return raw[at[:, None] + np.arange(8)].copy().view("<f8").reshape(-1, 2).astype(float)


@functools.lru_cache(maxsize=1)
def _osm(path: str, mtime_ns: int) -> OsmWays:
    """One parsed extract, shared by the walking and driving networks of an audit."""
    return _read(path)


def release_osm() -> None:
    """Forget the parsed extract (its tag arrays hold a Python string per tag)."""
    if _osm.cache_info().currsize:
        _osm.cache_clear()
        gc.collect()


def _matches(values: np.ndarray, listed: tuple[str, ...]) -> np.ndarray:
    """Where a tag value is one of ``listed``, or has one of them among ``;``-separated parts."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hit = np.array(
        [
            u in listed or (";" in u and any(p.strip() in listed for p in u.split(";")))
            for u in uniques
        ],
        dtype=bool,
    )
    return np.append(hit, False)[codes]  # the sentinel -1 (no tag) takes the last: False


def kept_ways(ways: OsmWays, mode: str) -> np.ndarray:
    """Mask of the ways of the ``walk`` or ``drive`` network (see the module docstring)."""
    rule = FILTERS[mode]
    n = len(ways.offsets) - 1
    out = np.ones(n, dtype=bool)
    for key, listed in rule.excluded.items():
        out &= ~_matches(ways.tags[key], listed)
    decided = np.zeros(n, dtype=bool)
    for key in rule.access_keys:
        values = ways.tags[key]
        present = ~decided & pd.notna(values)
        out &= ~(present & _matches(values, CLOSED))
        decided |= present
    return out


@dataclass
class Segments:
    """Edges between consecutive nodes of a network's ways, in file order.

    Attributes
    ----------
    u_key, v_key
        OSM ids of each edge's first and last node.
    start, end
        Their longitude and latitude (``n × 2``, degrees).
    way
        Each edge's way: its row in ``tags``.
    tags
        The tag arrays of :class:`OsmWays`.
    """

    u_key: np.ndarray
    v_key: np.ndarray
    start: np.ndarray
    end: np.ndarray
    way: np.ndarray
    tags: dict[str, np.ndarray]


def _current_name(path: Path) -> str:
    """A name for the current state of history file ``path`` (``x.osh.pbf`` → ``x.osm.pbf``)."""
    name = path.name
    stem = name[: -len(".osh.pbf")] if name.lower().endswith(".osh.pbf") else path.stem
    return f"{stem.removesuffix('.osm')}-current.osm.pbf"


def osm_edges(path: Path, mode: str) -> Segments:
    """Edges between consecutive nodes of the ``mode`` (``walk``/``drive``) network's ways.

    Raises
    ------
    NetworkError
        When the file cannot be read as an OSM PBF extract.
    """
    try:
        stat = path.stat()
        if stat.st_size == 0:
            raise ValueError("the file is empty")
        ways = _osm(str(path), stat.st_mtime_ns)
    except HistoryFileError as exc:
        raise NetworkError(
            f"OSM extract {path} is a history file (every version of every object); give the "
            f"current state: osmium time-filter {path.name} -o {_current_name(path)}"
        ) from exc
    except Exception as exc:  # osmium raises RuntimeError on a damaged file
        reason = str(exc) if isinstance(exc, RuntimeError | ValueError) else repr(exc)
        raise NetworkError(
            f"cannot read OSM extract {path} (not a valid OSM PBF file: {reason}); check that it "
            "is a complete .osm.pbf file"
        ) from exc
    keep = kept_ways(ways, mode)
    counts = np.diff(ways.offsets)
    way_of_node = np.repeat(np.arange(len(counts)), counts)
    used = np.flatnonzero(keep[way_of_node] & ways.valid)
    way = way_of_node[used]
    pair = way[1:] == way[:-1]  # consecutive used nodes of one way
    first, last = used[:-1][pair], used[1:][pair]
    return Segments(
        u_key=ways.node_id[first],
        v_key=ways.node_id[last],
        start=np.column_stack([ways.lon[first], ways.lat[first]]),
        end=np.column_stack([ways.lon[last], ways.lat[last]]),
        way=way[:-1][pair],
        tags=ways.tags,
    )
