"""Shared fixtures: a hand-drawn toy network and its layers, and paths to real data."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CIRCLES_SHARED_DATA", ROOT.parent / "shared" / "data"))
CRS = "EPSG:32650"  # UTM 50N: Wuhan's zone; the toy coordinates are offsets in metres
X0, Y0 = 500_000.0, 3_380_000.0


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the tests' network cache out of the user's cache folder."""
    old = os.environ.get("CIRCLES_CACHE_DIR")
    os.environ["CIRCLES_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("CIRCLES_CACHE_DIR", None)
    else:
        os.environ["CIRCLES_CACHE_DIR"] = old


def shared(relative: str) -> Path:
    """Path into ../shared/data, skipping the test when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture
def audit():
    """A hand-made audit summary and coverage table for the report writers (report_fixture)."""
    from tests.report_fixture import make_audit

    return make_audit()


def toy_options(toy: dict[str, Path], **changes: object):
    """AuditOptions for the toy district (communities and the toy rule), with changes."""
    from circles.audit import AuditOptions

    base = dict(
        network=toy["network"],
        facilities=toy["facilities"],
        residents=toy["residents"],
        communities=toy["communities"],
        rules=[toy["rules"]],
    )
    return AuditOptions(**(base | changes))


def toy_cli_args(toy: dict[str, Path], out: Path, facilities: Path | None = None) -> list[str]:
    """``circles audit`` arguments for the toy district (communities, the toy rule)."""
    return [
        "audit",
        "--network",
        str(toy["network"]),
        "--facilities",
        str(facilities or toy["facilities"]),
        "--residents",
        str(toy["residents"]),
        "--communities",
        str(toy["communities"]),
        "--rules",
        str(toy["rules"]),
        "--out",
        str(out),
    ]


def at(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


@pytest.fixture
def toy(tmp_path: Path) -> dict[str, Path]:
    r"""A toy district whose every travel time can be checked by hand (metres, 60 m/min).

    ::

        E(0,100) ~~~~~~~~~ curved via (100,150), 223.607 ~~~~~~~~~ D(200,100)
           |                                                          |
          100                                                   100   |  K2 (205,60): on C-D at
           |                                                          |  60 from C, leg 5
        A(0,0) --50-- [K1 split] --50-- B(100,0) ------100------ C(200,0)
                 K1 (50,10): on A-B at 50 from A, leg 10      R1 (150,-20): on B-C at 50, leg 20
                 R2 (60,0): on A-B at 60 from A, leg 0
        M1 (fresh_market) at E exactly, leg 0.
        A second B-C line bows out via (150,50) (141.421 m): a parallel edge, kept (no point
        lies nearest to it, so no distance below changes).
        F(500,500)-G(520,500): a 2-node fragment; R4 (510,505), nearest to it, is off network.
        R3 (1000,1000) is 700+ m from everything: off network.

    Hand-computed distances (m): R1→K1 = 20+50+50+10 = 130; R1→K2 = 20+50+60+5 = 135;
    R1→M1 = 20+50+100+100 = 270; R2→K1 = 10+10 = 20; R2→K2 = 40+100+60+5 = 205;
    R2→M1 = 60+100 = 160.
    Communities: "west" covers x < 100 (R2), "east" covers x >= 100 (R1); R3, R4 unassigned.
    """
    lines = [
        LineString([at(0, 0), at(100, 0)]),
        LineString([at(100, 0), at(200, 0)]),
        LineString([at(200, 0), at(200, 100)]),
        LineString([at(0, 0), at(0, 100)]),
        LineString([at(0, 100), at(100, 150), at(200, 100)]),
        LineString([at(100, 0), at(150, 50), at(200, 0)]),
        LineString([at(500, 500), at(520, 500)]),
    ]
    net = tmp_path / "roads.geojson"
    gpd.GeoDataFrame(
        {"name": [f"road {i}" for i in range(len(lines))]}, geometry=lines, crs=CRS
    ).to_file(net)
    fac = tmp_path / "facilities.gpkg"
    gpd.GeoDataFrame(
        {"id": ["K1", "K2", "M1"], "type": ["kindergarten", "kindergarten", "fresh_market"]},
        geometry=[Point(at(50, 10)), Point(at(205, 60)), Point(at(0, 100))],
        crs=CRS,
    ).to_file(fac)
    res = tmp_path / "residents.gpkg"
    gpd.GeoDataFrame(
        {"id": ["R1", "R2", "R3", "R4"], "population": [100, 300, 50, 25]},
        geometry=[
            Point(at(150, -20)),
            Point(at(60, 0)),
            Point(at(1000, 1000)),
            Point(at(510, 505)),
        ],
        crs=CRS,
    ).to_file(res)
    com = tmp_path / "communities.gpkg"
    gpd.GeoDataFrame(
        {"community": ["west", "east", "empty"]},
        geometry=[
            Polygon([at(-50, -50), at(99, -50), at(99, 200), at(-50, 200)]),
            Polygon([at(99, -50), at(300, -50), at(300, 200), at(99, 200)]),
            Polygon([at(2000, 2000), at(2100, 2000), at(2100, 2100)]),
        ],
        crs=CRS,
    ).to_file(com)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "toy.yaml").write_text(
        textwrap.dedent(
            """\
            id: toy
            name: {zh: 玩具圈, en: toy circle}
            mode: walk
            speed_m_per_min: 60
            sources:
              speed_m_per_min: {ref: test, tag: default}
            requirements:
              - id: two_kindergartens
                facility_type: kindergarten
                max_time_min: 3
                min_count: 2
                target_coverage: 0.5
                sources:
                  max_time_min: {ref: test, tag: default}
                  min_count: {ref: test, tag: default}
                  target_coverage: {ref: test, tag: default}
              - id: market
                facility_type: fresh_market
                max_distance_m: 200
                target_coverage: 0.5
                sources:
                  max_distance_m: {ref: test, tag: default}
                  target_coverage: {ref: test, tag: default}
            """
        ),
        encoding="utf-8",
    )
    return {
        "network": net,
        "facilities": fac,
        "residents": res,
        "communities": com,
        "rules": rules / "toy.yaml",
        "dir": tmp_path,
    }


def walk_rule_text(
    rule_id: str, requirements: list[tuple[str, str, float]], speed_m_per_min: float = 60
) -> str:
    """A walking rule file: ``(requirement id, facility type, minutes)`` each, target 0.5."""
    lines = [
        f"id: {rule_id}",
        f"name: {{zh: {rule_id}, en: {rule_id}}}",
        "mode: walk",
        f"speed_m_per_min: {speed_m_per_min}",
        "sources:",
        "  speed_m_per_min: {ref: test, tag: default}",
        "requirements:",
    ]
    for req_id, facility_type, minutes in requirements:
        lines += [
            f"  - id: {req_id}",
            f"    facility_type: {facility_type}",
            f"    max_time_min: {minutes}",
            "    target_coverage: 0.5",
            "    sources:",
            "      max_time_min: {ref: test, tag: default}",
            "      target_coverage: {ref: test, tag: default}",
        ]
    return "\n".join(lines) + "\n"
