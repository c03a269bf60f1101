"""Topology repair of centre-lines: crossings split, dangles joined, levels respected."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from circles.audit import AuditOptions, run_audit
from circles.cli import app
from circles.errors import InputDataError
from circles.network.build import build_network
from circles.network.levels import line_levels
from circles.network.topology import repair_lines
from tests.conftest import CRS, X0, Y0, shared, walk_rule_text


def p(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def _frame(lines: list[LineString], **columns: list) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"line": np.arange(1, len(lines) + 1), **columns}, geometry=lines, crs=CRS
    )
    frame["level"] = line_levels(frame)
    return frame


def _file(tmp_path: Path, lines: list[LineString], **columns: list) -> Path:
    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame(
        {"name": [f"road {i}" for i in range(len(lines))], **columns}, geometry=lines, crs=CRS
    ).to_file(path)
    return path


X = [LineString([p(0, -100), p(0, 100)]), LineString([p(-100, 0), p(100, 0)])]


def test_x_crossing_is_split_into_four_at_the_exact_point() -> None:
    out, repairs = repair_lines(_frame(X), split_crossings=True)
    assert len(out) == 4 and out["line"].tolist() == [1, 1, 2, 2]
    assert sorted(out.length.round(9)) == [100.0] * 4
    assert (X0, Y0) in [c for g in out.geometry for c in g.coords]
    assert repairs[["kind", "x", "y", "line_a", "line_b"]].values.tolist() == [
        ["split_crossing", X0, Y0, "1", "2"]
    ]


def test_x_crossing_in_the_network(tmp_path: Path) -> None:
    path = _file(tmp_path, X)
    kept = build_network(path, min_component_nodes=0)
    assert kept.stats["components"] == 2 and kept.stats["crossings"] == 1
    split = build_network(path, min_component_nodes=0, split_crossings=True)
    assert split.stats["components"] == 1 and split.stats["nodes"] == 5
    assert split.stats["crossings"] == 0
    assert split.stats["crossings_split"] == 1
    assert split.issues["kind"].tolist() == ["split_crossing"]


def test_t_junction_splits_the_line_it_rests_on() -> None:
    lines = [LineString([p(-100, 0), p(100, 0)]), LineString([p(30, 80), p(30, 0)])]
    out, repairs = repair_lines(_frame(lines), split_crossings=True)
    assert out["line"].tolist() == [1, 1, 2]
    assert out.length.round(9).tolist() == [130.0, 70.0, 80.0]
    assert repairs[["kind", "line_a", "line_b"]].values.tolist() == [["split_t", "2", "1"]]


@pytest.mark.parametrize(
    "columns",
    [
        {"bridge": ["yes", None]},
        {"Bridge": ["viaduct", ""]},
        {"is_tunnel": [1.0, np.nan]},
        {"layer": [1, 0]},
        {"layer": ["1", None]},
    ],
)
def test_lines_on_different_levels_are_not_split(columns: dict) -> None:
    out, repairs = repair_lines(_frame(X, **columns), split_crossings=True)
    assert len(out) == 2
    assert repairs["kind"].tolist() == ["not_split_levels"]


def test_an_end_resting_on_a_line_is_a_junction_on_any_level() -> None:
    # steps (level 0) up to a footbridge (layer 1): they end on it, they do not pass over it
    lines = [LineString([p(-100, 0), p(100, 0)]), LineString([p(30, 80), p(30, 0)])]
    out, repairs = repair_lines(_frame(lines, bridge=["yes", None]), split_crossings=True)
    assert out["line"].tolist() == [1, 1, 2]
    assert repairs["kind"].tolist() == ["split_t"]


def test_levels_from_columns() -> None:
    frame = pd.DataFrame(
        {
            "BRIDGE": ["yes", "no", None, "", "viaduct", None, None],
            "tunnel": [None, None, "yes", "building_passage", None, None, None],
            "高架": ["否", "否", "否", "否", "否", "是", "否"],
            "Layer": ["1", "0", "-1", None, "1", "1", "x"],
        }
    )
    assert line_levels(frame).tolist() == [5, 0, -2, 0, 5, 5, 0]


def test_same_level_bridges_and_tile_layer_names_do_split() -> None:
    # both on layer 1; a vector tile's text "layer" (roads) is no level
    for columns in ({"layer": [1, 1], "bridge": ["yes", "yes"]}, {"layer": ["roads", "roads"]}):
        out, _ = repair_lines(_frame(X, **columns), split_crossings=True)
        assert len(out) == 4


def test_a_bridge_over_a_street_stays_apart_in_the_network(tmp_path: Path) -> None:
    path = _file(tmp_path, X, bridge=["yes", "no"])
    net = build_network(path, min_component_nodes=0, split_crossings=True)
    assert net.stats["components"] == 2 and net.stats["crossings"] == 1
    assert net.issues["kind"].tolist() == ["not_split_levels"]  # listed once, with its reason


DANGLE = [LineString([p(-100, 0), p(100, 0)]), LineString([p(30, 80), p(30, 2)])]


def test_dangle_two_metres_short_is_joined_within_five_not_one() -> None:
    out, repairs = repair_lines(_frame(DANGLE), split_crossings=True, join_ends_m=5)
    assert repairs[["kind", "line_a", "line_b", "distance_m"]].values.tolist() == [
        ["joined_end", "2", "1", 2.0]
    ]
    connector = out.geometry.iloc[-1]
    assert list(connector.coords) == [p(30, 2), p(30, 0)]
    assert out["line"].tolist() == [1, 1, 2, 2]  # the street split, the connector is line 2's
    out, repairs = repair_lines(_frame(DANGLE), split_crossings=True, join_ends_m=1)
    assert len(out) == 2 and len(repairs) == 0


def test_dangle_joins_an_end_on_any_level_an_interior_on_its_own() -> None:
    bridge = {"bridge": ["yes", None]}
    _, repairs = repair_lines(_frame(DANGLE, **bridge), split_crossings=False, join_ends_m=5)
    assert repairs["kind"].tolist() == ["not_joined_levels"]
    # a road continuing a bridge: its end 1 m from the bridge's end
    lines = [LineString([p(-100, 0), p(0, 0)]), LineString([p(1, 0), p(100, 0)])]
    out, repairs = repair_lines(_frame(lines, **bridge), split_crossings=False, join_ends_m=5)
    assert repairs["kind"].tolist() == ["joined_end"]  # one connector for the two dangles
    assert len(out) == 3 and out.length.iloc[-1] == pytest.approx(1.0)


def test_line_crossing_itself_is_split_there() -> None:
    loop = LineString([p(0, 0), p(10, 0), p(10, 10), p(5, 10), p(5, -5)])
    out, repairs = repair_lines(_frame([loop]), split_crossings=True)
    assert len(out) == 3 and out.length.sum() == pytest.approx(loop.length)
    assert repairs[["kind", "x", "y"]].values.tolist() == [["split_self", X0 + 5, Y0]]


def test_oneway_connectors_are_two_way() -> None:
    out, _ = repair_lines(_frame(DANGLE, oneway=[1, 1]), split_crossings=False, join_ends_m=5)
    assert out["oneway"].tolist() == [1, 1, 1, 0]


RULE = walk_rule_text(
    "reach", [("kindergarten", "kindergarten", 10), ("market", "fresh_market", 10)]
)


@pytest.fixture
def unnoded(tmp_path: Path) -> dict[str, Path]:
    r"""Streets drawn without junctions, checked by hand.

    ::

                 K (5,150)  (0,200)          M (95,150)
                       |     |                  | (100,150)
                       |     |                  |  line 3 ends 2 m short of line 1
        (-200,0) ------+-----+------------------+----- (200,0)   line 1
             R (-100,-5)     |  line 2 crosses line 1 at (0,0), no shared vertex
                          (0,-200)

    R→K = 5 + 100 + 150 + 5 = 260 m (split only); R→M = 5 + 200 + 2 + 148 + 5 = 360 m
    (split and joined: the 2 m connector is walked).
    """
    lines = [
        LineString([p(-200, 0), p(200, 0)]),
        LineString([p(0, -200), p(0, 200)]),
        LineString([p(100, 150), p(100, 2)]),
    ]
    net = _file(tmp_path, lines)
    fac = tmp_path / "facilities.gpkg"
    gpd.GeoDataFrame(
        {"id": ["K", "M"], "type": ["kindergarten", "fresh_market"]},
        geometry=[Point(p(5, 150)), Point(p(95, 150))],
        crs=CRS,
    ).to_file(fac)
    res = tmp_path / "residents.gpkg"
    gpd.GeoDataFrame(
        {"id": ["R"], "population": [10], "community": ["c"]},
        geometry=[Point(p(-100, -5))],
        crs=CRS,
    ).to_file(res)
    rule = tmp_path / "reach.yaml"
    rule.write_text(textwrap.dedent(RULE), encoding="utf-8")
    return {"network": net, "facilities": fac, "residents": res, "rules": rule}


def _audit(files: dict[str, Path], **changes: object):
    options = AuditOptions(
        network=files["network"],
        facilities=files["facilities"],
        residents=files["residents"],
        rules=[files["rules"]],
        **({"min_component_nodes": 0} | changes),  # type: ignore[arg-type]
    )
    return run_audit(options)


def test_hand_checked_distances_through_the_audit(unnoded: dict[str, Path]) -> None:
    row = _audit(unnoded, split_crossings=False).residents.iloc[0]
    assert np.isnan(row["kindergarten_min"]) and np.isnan(row["fresh_market_min"])
    row = _audit(unnoded, split_crossings=True).residents.iloc[0]
    assert row["kindergarten_min"] == pytest.approx(260 / 60, abs=1e-3)
    assert np.isnan(row["fresh_market_min"])
    result = _audit(unnoded, split_crossings=True, join_ends_m=5.0)
    row = result.residents.iloc[0]
    assert row["kindergarten_min"] == pytest.approx(260 / 60, abs=1e-3)
    assert row["fresh_market_min"] == pytest.approx(360 / 60, abs=1e-3)
    stats = result.summary["network"]
    assert stats["crossings_split"] == 1 and stats["ends_joined"] == 1
    assert stats["join_ends_m"] == 5.0 and stats["split_crossings"] is True
    issues = result.network_issues
    assert issues["kind"].tolist() == ["split_crossing", "joined_end"]
    assert issues["distance_m"].tolist()[1] == pytest.approx(2.0)
    assert any("joined 1 dangling line ends" in w for w in result.summary["warnings"])


def test_fragments_named_when_no_resident_reaches_the_connected_part(tmp_path: Path) -> None:
    """An X without a junction (two 2-node fragments) 1 m from the resident; a 4-node street
    1 km away is the largest component."""
    lines = [
        *X,
        LineString([p(1000, 0), p(1100, 0)]),
        LineString([p(1100, 0), p(1200, 0)]),
        LineString([p(1200, 0), p(1300, 0)]),
    ]
    net = _file(tmp_path, lines)
    res = tmp_path / "residents.gpkg"
    gpd.GeoDataFrame(
        {"id": ["R"], "population": [10]}, geometry=[Point(p(50, 1))], crs=CRS
    ).to_file(res)
    fac = tmp_path / "facilities.gpkg"
    gpd.GeoDataFrame(
        {"id": ["K"], "type": ["kindergarten"]}, geometry=[Point(p(1050, 1))], crs=CRS
    ).to_file(fac)
    rule = tmp_path / "reach.yaml"
    rule.write_text(textwrap.dedent(RULE), encoding="utf-8")
    files = {"network": net, "facilities": fac, "residents": res, "rules": rule}
    with pytest.raises(InputDataError) as caught:
        _audit(files, split_crossings=False, min_component_nodes=3)
    message = str(caught.value)
    assert "\n" not in message
    assert "within 250 m of the walking network's connected part" in message
    assert "(the nearest is 950 m away)" in message
    assert "the nearest lines, 1 m away, are fragments" in message
    assert "--min-component-nodes 3 nodes" in message and "--split-crossings" in message
    # split, the X is one 5-node component, the largest: the audit runs
    # the other way round: the resident on the street, the kindergarten by the X
    swapped = {
        **files,
        "residents": tmp_path / "residents_by_street.gpkg",
        "facilities": tmp_path / "kindergarten_by_x.gpkg",
    }
    gpd.GeoDataFrame(
        {"id": ["K"], "type": ["kindergarten"]}, geometry=[Point(p(50, 1))], crs=CRS
    ).to_file(swapped["facilities"])
    gpd.GeoDataFrame(
        {"id": ["R"], "population": [10]}, geometry=[Point(p(1050, 1))], crs=CRS
    ).to_file(swapped["residents"])
    with pytest.raises(InputDataError, match="the nearest lines are fragments"):
        _audit(swapped, split_crossings=False, min_component_nodes=3)
    result = _audit(files, min_component_nodes=3)  # by default: half the nodes on fragments
    assert result.summary["network"]["split_crossings_auto"] is True
    assert result.residents["status"].tolist() == ["ok"]


def test_cli_and_project_file_options(unnoded: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    base = [
        "audit",
        "--network",
        str(unnoded["network"]),
        "--facilities",
        str(unnoded["facilities"]),
        "--residents",
        str(unnoded["residents"]),
        "--rules",
        str(unnoded["rules"]),
        "--min-component-nodes",
        "0",
        "-q",
    ]
    out = tmp_path / "a"
    result = runner.invoke(app, [*base, "--split-crossings", "--join-ends", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["parameters"]["split_crossings"] is True
    assert summary["run"]["parameters"]["join_ends_m"] == 5.0
    assert summary["network"]["ends_joined"] == 1
    issues = pd.read_csv(out / "network_issues.csv")
    assert issues.columns.tolist() == ["kind", "lon", "lat", "line_a", "line_b", "distance_m"]
    result = runner.invoke(app, [*base, "--join-ends", "-1", "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--join-ends -1 must be >= 0" in result.output
    project = tmp_path / "circles.yaml"
    project.write_text(
        f"network: {unnoded['network']}\nfacilities: {unnoded['facilities']}\n"
        f"residents: {unnoded['residents']}\nrules: {unnoded['rules']}\n"
        "min_component_nodes: 0\nsplit_crossings: true\njoin_ends: 5\n",
        encoding="utf-8",
    )
    out = tmp_path / "c"
    result = runner.invoke(app, ["audit", str(project), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"]["crossings_split"] == 1
    project.write_text(project.read_text().replace(": true", ": auto"), encoding="utf-8")
    result = runner.invoke(app, ["audit", str(project), "--out", str(out), "--overwrite", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["parameters"]["split_crossings"] == "auto"
    project.write_text("split_crossings: maybe\n", encoding="utf-8")
    result = runner.invoke(app, ["audit", str(project)])
    assert (
        result.exit_code == 2
        and "split_crossings 'maybe' is not true, false or auto" in result.output
    )


# ----------------------------------------------------------------- the Shanghai Bund tiles

STREETS = ("path", "major_road", "minor_road")  # not the tiles' rail and ferry lines


@pytest.fixture(scope="module")
def bund(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Bund's road lines cut from vector tiles, with buildings as residents."""
    import warnings

    source = shared("cn_shanghai_bund_nextzen_tiles/shanghai_bund_nextzen.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiles repeat feature ids; "layer" is no JSON
        tiles = gpd.read_file(source)
    folder = tmp_path_factory.mktemp("bund")
    lines = tiles.geom_type.isin(["LineString", "MultiLineString"])
    roads = tiles[lines & (tiles["layer"] == "roads") & tiles["kind"].isin(STREETS)]
    roads = roads[["name", "kind", "kind_detail", "is_bridge", "is_tunnel", "geometry"]]
    roads.to_file(folder / "roads.gpkg")
    buildings = tiles[(tiles["layer"] == "buildings") & tiles.geom_type.eq("Polygon")]
    points = buildings.geometry.to_crs(32651).representative_point().to_crs(4326)
    gpd.GeoDataFrame(
        {"id": np.arange(len(points)).astype(str), "population": 1.0}, geometry=points.values
    ).set_crs(4326).to_file(folder / "residents.gpkg")
    road_points = roads.geometry.to_crs(32651).representative_point().to_crs(4326)
    gpd.GeoDataFrame(
        {"id": [f"K{i}" for i in range(0, len(road_points), 40)], "type": "kindergarten"},
        geometry=road_points.values[::40],
    ).set_crs(4326).to_file(folder / "facilities.gpkg")
    rule = folder / "reach.yaml"
    rule.write_text(textwrap.dedent(RULE), encoding="utf-8")
    return {
        "network": folder / "roads.gpkg",
        "residents": folder / "residents.gpkg",
        "facilities": folder / "facilities.gpkg",
        "rules": rule,
    }


def _largest_share(stats: dict) -> float:
    return 1.0 - stats["fragment_nodes"] / stats["nodes"]


def test_bund_tiles_largest_component_before_and_after(bund: dict[str, Path]) -> None:
    before = build_network(bund["network"], split_crossings=False)
    start = time.perf_counter()
    after = build_network(bund["network"], split_crossings=True, join_ends_m=5.0)
    elapsed = time.perf_counter() - start
    assert _largest_share(before.stats) < 0.3
    assert _largest_share(after.stats) > 0.9
    assert after.stats["components"] < before.stats["components"] / 5
    assert elapsed < 5.0
    auto = build_network(bund["network"], split_crossings=None)
    assert auto.stats["split_crossings"] and auto.stats["split_crossings_auto"]
    assert auto.stats["crossings_not_split_levels"] > 0  # tunnels and bridges kept apart


def test_bund_tiles_audit(bund: dict[str, Path]) -> None:
    options = dict(
        network=bund["network"],
        facilities=bund["facilities"],
        residents=bund["residents"],
        rules=[bund["rules"]],
        circle_ids=[],
    )
    result = run_audit(AuditOptions(**options))  # default: split automatically
    table = result.residents
    assert (table["status"] == "ok").mean() > 0.9
    assert table["kindergarten_min"].notna().mean() > 0.5
    assert any("look drawn without junctions" in w for w in result.summary["warnings"])
    kept = run_audit(AuditOptions(**options, split_crossings=False))
    assert (kept.residents["status"] == "ok").mean() < (table["status"] == "ok").mean()
    assert any("rerun with --split-crossings" in w for w in kept.summary["warnings"])


def test_bund_tiles_residents_only_near_fragments(bund: dict[str, Path], tmp_path: Path) -> None:
    from circles.network.snap import connected_distance_m, snap_xy
    from circles.projection import point_coordinates

    network = build_network(bund["network"], split_crossings=False)
    residents = gpd.read_file(bund["residents"]).to_crs(network.crs)
    xy = point_coordinates(residents.geometry.to_numpy())
    near_fragment = (snap_xy(network, xy, 250.0).snap_m <= 250) & (
        connected_distance_m(network, xy) > 250
    )
    assert near_fragment.sum() > 10
    path = tmp_path / "residents.gpkg"
    residents[near_fragment].to_file(path)
    options = dict(
        network=bund["network"],
        facilities=bund["facilities"],
        residents=path,
        rules=[bund["rules"]],
    )
    with pytest.raises(InputDataError, match=r"are fragments .* try --split-crossings"):
        run_audit(AuditOptions(**options, split_crossings=False))
    result = run_audit(AuditOptions(**options, split_crossings=True, join_ends_m=5.0))
    assert (result.residents["status"] == "ok").mean() > 0.5
