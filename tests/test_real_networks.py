"""Travel times on real OSM networks against networkx shortest paths computed here, independently.

Residents and facilities are placed on network vertices of the largest component, so the
expected time is the network distance between vertices; networkx builds its own graph from the
OSM ways (projected lengths, the shortest of parallel ways) and runs multi-source Dijkstra.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from tests.conftest import shared, toy_options

SPEED = 60.0  # m/min


def _pyrosm_edges(pbf: Path) -> gpd.GeoDataFrame:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)[1]


def _reference_graph(edges: gpd.GeoDataFrame, crs: str) -> tuple[nx.Graph, dict]:
    """networkx graph keyed by OSM node id, with projected geometry lengths; node → lon/lat."""
    projected = edges.to_crs(crs)
    lengths = projected.geometry.length.to_numpy()
    graph = nx.Graph()
    for u, v, w in zip(edges["u"].to_numpy(), edges["v"].to_numpy(), lengths, strict=True):
        if u == v:
            continue
        if graph.has_edge(u, v):
            w = min(w, graph[u][v]["weight"])
        graph.add_edge(u, v, weight=float(w))
    geoms = edges.geometry.to_numpy()
    lonlat = {}
    for key, pts in (
        (edges["u"], shapely.get_point(geoms, 0)),
        (edges["v"], shapely.get_point(geoms, -1)),
    ):
        for node, pt in zip(key.to_numpy(), pts, strict=True):
            lonlat[node] = (pt.x, pt.y)
    return graph, lonlat


def main_vertices(pbf: Path) -> tuple[nx.Graph, dict, np.ndarray, str]:
    """The reference graph of ``pbf``'s walkable ways in their UTM zone, node → lon/lat, the
    vertices of its largest component that share their place with no other vertex, and the CRS.
    """
    edges = _pyrosm_edges(pbf)
    lon, lat = edges.geometry.union_all().centroid.coords[0]
    zone = int((lon + 180) // 6) + 1
    crs = f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"
    graph, lonlat = _reference_graph(edges, crs)
    nodes = np.array(sorted(max(nx.connected_components(graph), key=len)))
    where = pd.Series([lonlat[n] for n in nodes])
    return graph, lonlat, nodes[~where.duplicated(keep=False).to_numpy()], crs


def _rules(folder: Path) -> Path:
    path = folder / "ref.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            id: ref
            name: {zh: 参考, en: reference}
            mode: walk
            speed_m_per_min: 60
            sources: {speed_m_per_min: {ref: test, tag: default}}
            requirements:
              - id: kindergarten
                facility_type: kindergarten
                max_time_min: 6
                target_coverage: 0.8
                sources:
                  max_time_min: {ref: test, tag: default}
                  target_coverage: {ref: test, tag: default}
              - id: market_or_park
                facility_type: [fresh_market, pocket_park]
                max_time_min: 4
                target_coverage: 0.8
                sources:
                  max_time_min: {ref: test, tag: default}
                  target_coverage: {ref: test, tag: default}
            """
        ),
        encoding="utf-8",
    )
    return path


def _compare(pbf: Path, tmp_path: Path, n_res: int, n_fac: dict[str, int], seed: int) -> None:
    edges = _pyrosm_edges(pbf)
    rng = np.random.default_rng(seed)
    # the CRS circles will choose: measure the reference graph in the same metres
    lon, lat = edges.geometry.union_all().centroid.coords[0]
    zone = int((lon + 180) // 6) + 1
    crs = f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"
    graph, lonlat = _reference_graph(edges, crs)
    main = max(nx.connected_components(graph), key=len)
    nodes = np.array(sorted(main))
    # a point where two OSM nodes share coordinates (a bridge over a street) is ambiguous in
    # the plane: place nothing there
    where = pd.Series([lonlat[n] for n in nodes])
    nodes = nodes[~where.duplicated(keep=False).to_numpy()]
    picks = rng.choice(nodes, size=n_res + sum(n_fac.values()), replace=False)
    res_nodes, fac_nodes = picks[:n_res], picks[n_res:]
    fac_types = np.repeat(list(n_fac), list(n_fac.values()))
    points = lambda ns: [shapely.Point(lonlat[n]) for n in ns]  # noqa: E731
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n_res)], "population": rng.integers(1, 500, n_res)},
        geometry=points(res_nodes),
        crs="EPSG:4326",
    ).to_file(tmp_path / "res.geojson")
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(fac_nodes))], "type": fac_types},
        geometry=points(fac_nodes),
        crs="EPSG:4326",
    ).to_file(tmp_path / "fac.geojson")
    result = run_audit(
        AuditOptions(
            network=pbf,
            facilities=tmp_path / "fac.geojson",
            residents=tmp_path / "res.geojson",
            rules=[_rules(tmp_path)],
            min_component_nodes=0,
        )
    )
    assert result.summary["run"]["crs"] == crs
    table = result.residents.set_index("resident_id")
    assert len(table) == n_res and (table["status"] == "ok").all()
    reach = result.summary["run"]["parameters"]["reach_min"]
    expected_met = np.ones(n_res, dtype=bool)
    for group, limit in ((("kindergarten",), 6), (("fresh_market", "pocket_park"), 4)):
        sources = [n for n, t in zip(fac_nodes, fac_types, strict=True) if t in group]
        dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="weight")
        ref = np.array([dist.get(n, np.inf) / SPEED for n in res_nodes])
        expected_met &= ref <= limit
        for ftype in group:
            src = [n for n, t in zip(fac_nodes, fac_types, strict=True) if t == ftype]
            d = nx.multi_source_dijkstra_path_length(graph, src, weight="weight")
            want = np.array([d.get(n, np.inf) / SPEED for n in res_nodes])
            got = table[f"{ftype}_min"].to_numpy(dtype=float)
            inside = want <= reach[f"{ftype}_min"] - 0.01
            assert inside.sum() >= 20, "too few residents in reach to test anything"
            np.testing.assert_allclose(got[inside], want[inside], atol=0.01)
            assert np.isnan(got[want > reach[f"{ftype}_min"] + 0.01]).all()
    # the circle column agrees with the thresholds applied to the independent times
    got_met = table["ref"].to_numpy() == 1
    assert (got_met == expected_met).all()
    # coverage equals the population-weighted share recomputed from the rows
    pop = table["population"].to_numpy(dtype=float)
    overall = result.summary["circles"][0]["overall"]
    assert overall["coverage_ratio"] == pytest.approx(pop[got_met].sum() / pop.sum(), abs=1e-6)


def test_helsinki_bundled_with_pyrosm(tmp_path: Path) -> None:
    _compare(
        Path(pyrosm.get_data("helsinki_pbf")),
        tmp_path,
        400,
        {"kindergarten": 25, "fresh_market": 10, "pocket_park": 10},
        seed=1,
    )


def test_pyrosm_test_extract(tmp_path: Path) -> None:
    _compare(
        Path(pyrosm.get_data("test_pbf")),
        tmp_path,
        150,
        {"kindergarten": 8, "fresh_market": 4, "pocket_park": 4},
        seed=2,
    )


@pytest.mark.parametrize(
    ("relative", "seed"),
    [
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 3),
        ("cn_hongkong_tst_osm/hong-kong_china.osm.pbf", 4),
        ("osm_engine_testdata/liechtenstein_valhalla.osm.pbf", 5),
    ],
)
def test_shared_networks(relative: str, seed: int, tmp_path: Path) -> None:
    pbf = shared(relative)
    n_res = 600 if "liechtenstein" in relative else 300
    _compare(
        pbf, tmp_path, n_res, {"kindergarten": 80, "fresh_market": 40, "pocket_park": 40}, seed=seed
    )


def test_summary_matches_rows_per_community(toy: dict[str, Path]) -> None:
    result = run_audit(toy_options(toy))
    rows = result.residents
    for circle in result.summary["circles"]:
        for comm in circle["communities"]:
            sub = rows[rows["community_id"] == comm["community_id"]]
            pop = sub["population"].sum()
            assert comm["population_total"] == pytest.approx(pop)
            met = sub.loc[sub[circle["circle_id"]] == 1, "population"].sum()
            assert comm["population_met"] == pytest.approx(met)
    assert isinstance(rows, pd.DataFrame)
