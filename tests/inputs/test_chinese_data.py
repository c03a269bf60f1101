"""Chinese data in: Amap/Baidu CSVs (GBK, UTF-8 with BOM), GCJ-02/BD-09, households, 街道."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from typer.testing import CliRunner

from circles.audit import AuditOptions, run_audit
from circles.cli import app
from circles.projection import gcj02_to_bd09, wgs84_to_gcj02
from tests.conftest import shared, toy_options

AMAP_KINDS = {
    "kindergarten": ("科教文化服务", "学校", "幼儿园", "141204", "{}幼儿园"),
    "fresh_market": ("购物服务", "综合市场", "农副产品市场", "060703", "{}农贸市场"),
}


def _amap_csv(facilities: gpd.GeoDataFrame, path: Path, encoding: str, system: str) -> Path:
    """Write facilities as an Amap-style export: 名称, 大类/中类/小类, typecode, 经度/纬度."""
    lonlat = facilities.to_crs("EPSG:4326")
    lon, lat = lonlat.geometry.x.to_numpy(), lonlat.geometry.y.to_numpy()
    if system in ("gcj02", "bd09"):
        lon, lat = wgs84_to_gcj02(lon, lat)
    if system == "bd09":
        lon, lat = gcj02_to_bd09(lon, lat)
    rows = []
    for i, (ftype, x, y) in enumerate(zip(facilities["type"], lon, lat, strict=True)):
        big, mid, small, code, name = AMAP_KINDS[ftype]
        rows.append(
            {
                "id": facilities["id"].iloc[i],
                "名称": name.format(f"第{i + 1}"),
                "大类": big,
                "中类": mid,
                "小类": small,
                "typecode": code,
                "经度": f"{x:.7f}",
                "纬度": f"{y:.7f}",
            }
        )
    rows.append(
        {
            "id": "X1",
            "名称": "某某汽车维修",
            "大类": "汽车维修",
            "中类": "汽车综合维修",
            "小类": "汽车综合维修",
            "typecode": "030000",
            "经度": "117.0",
            "纬度": "30.5",
        }
    )
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("encoding", "system"),
    [("gbk", "gcj02"), ("utf-8-sig", "gcj02"), ("gb18030", "bd09"), ("utf-8", "wgs84")],
)
def test_amap_csv_audits_like_wgs84(toy: dict[str, Path], encoding: str, system: str) -> None:
    facilities = gpd.read_file(toy["facilities"])
    csv = _amap_csv(facilities, toy["dir"] / f"poi_{encoding}.csv", encoding, system)
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    base = dict(network=toy["network"], residents=toy["residents"], rules=[toy["rules"]])
    want = run_audit(AuditOptions(facilities=toy["facilities"], **base))
    got = run_audit(AuditOptions(facilities=csv, coords={"facilities": system}, **base))
    for col in ("kindergarten_min", "fresh_market_min", "toy"):
        np.testing.assert_allclose(got.residents[col], want.residents[col], atol=0.01)
    warnings = " ".join(got.summary["warnings"])
    assert "1 POIs match no facility type" in warnings and "汽车维修" in warnings
    assert got.summary["classification"]["by_type"] == {"kindergarten": 2, "fresh_market": 1}


def test_classify_command(toy: dict[str, Path]) -> None:
    csv = _amap_csv(gpd.read_file(toy["facilities"]), toy["dir"] / "poi.csv", "gbk", "gcj02")
    out = toy["dir"] / "classified.csv"
    result = CliRunner().invoke(
        app, ["facilities", "classify", str(csv), "--out", str(out)], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert "Mapped: 3 of 4 POIs" in result.output and "汽车维修" in result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["facility_type"].tolist() == ["kindergarten", "kindergarten", "fresh_market", ""]


def test_households_become_population(toy: dict[str, Path]) -> None:
    res = gpd.read_file(toy["residents"]).drop(columns="population")
    res["户数"] = [100, 200, None, 10]
    path = toy["dir"] / "xiaoqu.gpkg"
    res.to_file(path)
    result = run_audit(
        AuditOptions(
            network=toy["network"],
            facilities=toy["facilities"],
            residents=path,
            rules=[toy["rules"]],
            persons_per_household=3.0,
        )
    )
    assert result.residents["population"].tolist() == [300.0, 600.0, 1.0, 30.0]
    assert result.summary["run"]["parameters"]["persons_per_household"] == 3.0


def test_gbk_shapefile_without_cpg_and_subdistricts(toy: dict[str, Path]) -> None:
    com = gpd.read_file(toy["communities"])
    com["community"] = ["西湖社区", "东湖社区", "空社区"]
    com["街道"] = ["水果湖街道", "水果湖街道", "珞南街道"]
    shp = toy["dir"] / "shequ.shp"
    com.to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    assert not shp.with_suffix(".cpg").exists()
    result = run_audit(
        AuditOptions(
            network=toy["network"],
            facilities=toy["facilities"],
            residents=toy["residents"],
            communities=shp,
            rules=[toy["rules"]],
        )
    )
    assert result.residents["community_id"].tolist() == [
        "东湖社区",
        "西湖社区",
        "unassigned",
        "unassigned",
    ]
    cov = result.coverage
    sub = cov[(cov["scope"] == "subdistrict") & (cov["requirement_id"] == "market")]
    assert sub["community_id"].tolist() == ["水果湖街道", "珞南街道"]
    assert sub["population_total"].tolist() == [400.0, 0.0]
    assert sub["population_met"].tolist() == [300.0, 0.0]


def test_counts_reconcile_by_category(toy: dict[str, Path]) -> None:
    result = run_audit(toy_options(toy))
    rec = result.summary["counts"]["reconcile"]
    assert sum(v["residents"] for v in rec.values()) == 4
    assert sum(v["population"] for v in rec.values()) == 475
    assert rec["evaluated"]["residents"] == 2 and rec["off_network"]["residents"] == 2


def test_gcj02_and_bd09_on_a_real_network(tmp_path: Path) -> None:
    """Chengdu: the same points in WGS 84, GCJ-02 and BD-09 give the same audit."""
    pbf = shared("cn_chengdu_center_osm/chengdu.osm.pbf")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        nodes, _ = pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)
    rng = np.random.default_rng(7)
    pick = nodes.iloc[rng.choice(len(nodes), 260, replace=False)]
    lon, lat = pick["lon"].to_numpy(), pick["lat"].to_numpy()
    types = np.where(np.arange(60) % 2 == 0, "kindergarten", "fresh_market")
    rule = tmp_path / "r.yaml"
    rule.write_text(
        "id: cd\nname: {zh: 成都, en: Chengdu}\nmode: walk\nspeed_m_per_min: 60\n"
        "sources: {speed_m_per_min: {ref: t, tag: default}}\nrequirements:\n"
        "  - {id: k, facility_type: kindergarten, max_time_min: 8, target_coverage: 0.8,\n"
        "     sources: {max_time_min: {ref: t, tag: default}, target_coverage: {ref: t, tag: "
        "default}}}\n",
        encoding="utf-8",
    )
    runs = {}
    for system in ("wgs84", "gcj02", "bd09"):
        x, y = lon, lat
        if system != "wgs84":
            x, y = wgs84_to_gcj02(x, y)
        if system == "bd09":
            x, y = gcj02_to_bd09(x, y)
        pd.DataFrame(
            {"id": [f"f{i}" for i in range(60)], "type": types, "lng": x[:60], "lat": y[:60]}
        ).to_csv(tmp_path / f"f_{system}.csv", index=False)
        gpd.GeoDataFrame(
            {"id": [f"r{i}" for i in range(200)], "population": 10},
            geometry=shapely.points(x[60:], y[60:]),
            crs="EPSG:4326",
        ).to_file(tmp_path / f"r_{system}.geojson")
        runs[system] = run_audit(
            AuditOptions(
                network=pbf,
                facilities=tmp_path / f"f_{system}.csv",
                residents=tmp_path / f"r_{system}.geojson",
                rules=[rule],
                coords={"*": system} if system != "wgs84" else {},
            )
        ).residents
    base = runs["wgs84"]
    assert (base["status"] == "ok").mean() > 0.9
    for system in ("gcj02", "bd09"):
        np.testing.assert_allclose(
            runs[system]["kindergarten_min"], base["kindergarten_min"], atol=0.01
        )
        assert (runs[system]["cd"] == base["cd"]).all()


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_amap_csv_with_only_coords_gcj02(toy: dict[str, Path], encoding: str) -> None:
    """The CLI with nothing but --coords gcj02: projected layers keep their CRS."""
    csv = _amap_csv(gpd.read_file(toy["facilities"]), toy["dir"] / "amap.csv", encoding, "gcj02")
    common = [
        "audit",
        "--network",
        str(toy["network"]),
        "--residents",
        str(toy["residents"]),
        "--rules",
        str(toy["rules"]),
        "-q",
    ]
    runner = CliRunner()
    got = runner.invoke(
        app,
        [*common, "--facilities", str(csv), "--coords", "gcj02", "--out", str(toy["dir"] / "gcj")],
    )
    assert got.exit_code == 0, got.output
    want = runner.invoke(
        app, [*common, "--facilities", str(toy["facilities"]), "--out", str(toy["dir"] / "wgs")]
    )
    assert want.exit_code == 0, want.output
    a = pd.read_csv(toy["dir"] / "gcj" / "residents.csv")
    b = pd.read_csv(toy["dir"] / "wgs" / "residents.csv")
    np.testing.assert_allclose(a["kindergarten_min"], b["kindergarten_min"], atol=0.01)
    summary = (toy["dir"] / "gcj" / "summary.json").read_text(encoding="utf-8")
    assert "facilities: gcj02 → wgs84" in summary and "residents: gcj02" not in summary
