"""Every run ends: first audits of an OSM extract (empty cache, walking and driving circles) all
finish, leave no process behind, and the walking answers do not depend on the other circles.

A first audit used to build the drive network in a forked child while other threads were
importing modules; the child could deadlock on an import lock and outlive an interrupted parent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from circles.network.build import build_network
from tests.conftest import SHARED, walk_rule_text

RUNS = 10


def _extract() -> Path:
    hk = SHARED / "cn_hongkong_tst_osm" / "hong-kong_china.osm.pbf"
    if hk.exists():
        return hk
    import pyrosm

    return Path(pyrosm.get_data("test_pbf"))


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Residents and every facility type of the Wuhan preset at nodes of the extract."""
    folder = tmp_path_factory.mktemp("district")
    pbf = _extract()
    net = build_network(pbf)
    rng = np.random.default_rng(11)
    nodes = rng.choice(net.n_nodes, min(net.n_nodes, 260), replace=False)
    lonlat = gpd.GeoSeries(
        shapely.points(net.node_x[nodes], net.node_y[nodes]), crs=net.crs
    ).to_crs("EPSG:4326")
    types = [
        "kindergarten",
        "primary_school",
        "fresh_market",
        "pocket_park",
        "ems_station",
        "metro_station",
        "rail_station",
        "library",
    ]
    n_fac = 60
    gpd.GeoDataFrame(
        {
            "id": [f"f{i}" for i in range(n_fac)],
            "type": [types[i % len(types)] for i in range(n_fac)],
            "name": [["街道口", "武昌站", "汉口站"][i % 3] for i in range(n_fac)],
        },
        geometry=lonlat[:n_fac].to_numpy(),
        crs="EPSG:4326",
    ).to_file(folder / "facilities.gpkg")
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(len(nodes) - n_fac)], "population": 10},
        geometry=lonlat[n_fac:].to_numpy(),
        crs="EPSG:4326",
    ).to_file(folder / "residents.gpkg")
    return {"network": pbf, "dir": folder}


def _descendants_alive(tag: str) -> list[int]:
    """Processes (other than this one) whose environment carries ``tag``."""
    alive = []
    needle = f"CIRCLES_RUN_TAG={tag}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                alive.append(int(entry.name))
        except OSError:
            continue
    return alive


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to look for processes")
def test_first_audits_all_finish_and_leave_no_process(district, tmp_path: Path) -> None:
    for run in range(RUNS):
        tag = uuid.uuid4().hex
        env = {
            **os.environ,
            "CIRCLES_CACHE_DIR": str(tmp_path / f"cache{run}"),  # empty: a first run each time
            "CIRCLES_RUN_TAG": tag,
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "circles",
                "audit",
                "--network",
                str(district["network"]),
                "--facilities",
                str(district["dir"] / "facilities.gpkg"),
                "--residents",
                str(district["dir"] / "residents.gpkg"),
                "--rules",
                "wuhan",
                "--out",
                str(tmp_path / f"out{run}"),
                "-q",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        said = f"run {run}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert done.returncode == 0, said
        assert (tmp_path / f"out{run}" / "residents.csv").exists(), said
        assert _descendants_alive(tag) == [], f"run {run}: a process outlived the audit"


def test_walking_answers_do_not_depend_on_the_driving_circles(district, tmp_path: Path) -> None:
    """A resident off the drive network stays on the walking one (status is per network)."""
    rule = tmp_path / "walk.yaml"
    rule.write_text(
        walk_rule_text("walk_only", [("kindergarten", "kindergarten", 5)]), encoding="utf-8"
    )
    base = dict(
        network=district["network"],
        facilities=district["dir"] / "facilities.gpkg",
        residents=district["dir"] / "residents.gpkg",
        max_snap_m=40.0,  # tight, so that some residents are off the drive network
    )
    alone = run_audit(AuditOptions(**base, rules=[rule])).residents
    both = run_audit(AuditOptions(**base, rules=[rule, "wuhan"], circle_ids=[])).residents
    cols = ["resident_id", "snap_m", "status", "walk_only", "walk_only/kindergarten"]
    pd.testing.assert_frame_equal(alone[cols], both[cols])
    # the same speed; the longer horizon of the preset's kindergarten search reports farther ones
    reached = alone["kindergarten_min"].notna()
    assert reached.sum() > 50
    pd.testing.assert_series_equal(
        alone.loc[reached, "kindergarten_min"], both.loc[reached, "kindergarten_min"]
    )
    assert "drive_status" in both.columns
    off_drive = both["drive_status"] == "off_network"
    assert off_drive.any(), "the test needs residents off the drive network"
    assert (both.loc[off_drive, "status"] == "ok").any()
    assert (both.loc[off_drive, "ems"] == 0).all()
