"""A partition on a real shared network equals the whole-city audit, resident by resident.

Liechtenstein's OSM extract, random residents and facilities as in
tests/areas/test_service_areas_real.py, walking rules only; a 2×2 grid of polygons over the
residents' extent makes four units whose facilities are clipped to the halo. The batch runs on a
Dask scheduler and worker started outside circles (``python -m dask scheduler`` / ``dask
worker`` on 127.0.0.1); every per-resident column of the combined residents.csv equals the
whole-city audit's, and so does the coverage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from circles.audit import AuditOptions, run_audit
from circles.batch import run_batch
from circles.cli import app
from circles.network.cache import load_network
from circles.report.files import write_csv
from tests.areas.test_service_areas_real import RULES
from tests.conftest import shared


def _data(pbf: Path, tmp_path: Path, seed: int = 2, n_res: int = 2000) -> tuple[Path, Path]:
    """Residents and facilities over the network (GeoJSON, WGS 84), the rules, the grid."""
    network = load_network(pbf)
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(np.bincount(network.u[~network.fragment], minlength=network.n_nodes))
    x, y = network.node_x, network.node_y
    x0, x1 = np.quantile(x, [0.1, 0.9])
    y0, y1 = np.quantile(y, [0.1, 0.9])
    box = nodes[(x[nodes] > x0) & (x[nodes] < x1) & (y[nodes] > y0) & (y[nodes] < y1)]
    picks = rng.choice(box, size=180, replace=False)
    types = ["primary_school"] * 60 + ["fresh_market"] * 60 + ["pocket_park", "playground"] * 30
    crs = network.crs
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n_res)], "population": rng.integers(1, 500, n_res)},
        geometry=shapely.points(rng.uniform(x0, x1, n_res), rng.uniform(y0, y1, n_res)),
        crs=crs,
    ).to_crs(4326).to_file(tmp_path / "res.geojson")
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(picks))], "type": types},
        geometry=shapely.points(x[picks] + 20.0, y[picks] + 15.0),
        crs=crs,
    ).to_crs(4326).to_file(tmp_path / "fac.geojson")
    (tmp_path / "walk.yaml").write_text(textwrap.dedent(RULES), encoding="utf-8")
    # a 2x2 grid over the residents' extent; the middle lines are shared borders
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    grid = [
        shapely.box(x0 - 1, y0 - 1, xm, ym),
        shapely.box(xm, y0 - 1, x1 + 1, ym),
        shapely.box(x0 - 1, ym, xm, y1 + 1),
        shapely.box(xm, ym, x1 + 1, y1 + 1),
    ]
    gpd.GeoDataFrame({"district": ["sw", "se", "nw", "ne"]}, geometry=grid, crs=crs).to_file(
        tmp_path / "districts.gpkg"
    )
    return tmp_path / "res.geojson", tmp_path / "fac.geojson"


def _start_cluster(tmp_path: Path) -> tuple[list[subprocess.Popen], str]:
    """A Dask scheduler and one worker, started as their own processes on 127.0.0.1."""
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": dict(os.environ)}
    dask = [sys.executable, "-m", "dask"]
    processes = [
        subprocess.Popen(
            [
                *dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            **quiet,  # type: ignore[call-overload]
        )
    ]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() or not scheduler_file.read_text().strip():
        if time.monotonic() > deadline or processes[0].poll() is not None:
            raise RuntimeError("the dask scheduler did not start")
        time.sleep(0.2)
    time.sleep(0.2)  # the file is written whole, but give the writer a moment to close it
    address = json.loads(scheduler_file.read_text())["address"]
    processes.append(
        subprocess.Popen(
            [
                *dask,
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--local-directory",
                str(tmp_path / "dask-worker"),
            ],
            **quiet,  # type: ignore[call-overload]
        )
    )
    return processes, address


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"resident_id": str})


def test_partition_equals_whole_city_on_external_scheduler(tmp_path: Path) -> None:
    pbf = shared("osm_engine_testdata/liechtenstein_valhalla.osm.pbf")
    res, fac = _data(pbf, tmp_path)
    whole = run_audit(
        AuditOptions(network=pbf, facilities=fac, residents=res, rules=[tmp_path / "walk.yaml"])
    )
    write_csv(whole.residents, tmp_path / "whole.csv")
    manifest = tmp_path / "MANIFEST.yaml"
    manifest.write_text(
        f"network: {pbf}\nfacilities: fac.geojson\nresidents: res.geojson\nrules: [walk.yaml]\n"
        "service_areas: none\npartition: {by: districts.gpkg, field: district}\n",
        encoding="utf-8",
    )
    processes, address = _start_cluster(tmp_path)
    try:
        result = CliRunner().invoke(
            app, ["batch", str(manifest), "--out", str(tmp_path / "out"), "--scheduler", address]
        )
    finally:
        _stop(processes)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    combined = _read(out / "residents.csv")
    assert set(combined["unit"]) == {"sw", "se", "nw", "ne"}
    assert combined["resident_id"].is_unique  # every resident in exactly one unit
    expected = _read(tmp_path / "whole.csv")
    got = combined.drop(columns="unit")  # in the input's order, as the whole-city audit
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # the halo clipped the facilities: each unit read fewer than all 180
    counts = [
        len(gpd.read_parquet(out / "units" / u / "inputs" / "facilities.parquet"))
        for u in ("sw", "se", "nw", "ne")
    ]
    assert max(counts) < 180, counts
    coverage = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    mine, theirs = coverage, whole.coverage.reset_index(drop=True)  # every row, in order
    assert len(mine) == len(theirs)
    assert mine["community_id"].fillna("").astype(str).tolist() == theirs["community_id"].tolist()
    for column in ("population_total", "population_met", "coverage_ratio", "median_min_not_met"):
        assert mine[column].to_numpy() == pytest.approx(
            theirs[column].to_numpy(dtype=float), rel=1e-12, nan_ok=True
        ), column
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["batch"]["residents"] == 2000
    assert summary["batch"]["unassigned_residents"] == 0


DRIVE_RULE = """\
id: drive
name: {zh: 驾车, en: driving}
mode: drive
direction: from_facility
drive:
  road_class_km_per_h: {primary: 50, secondary: 40, tertiary: 30, residential: 20, default: 25}
  congestion_factor: 0.77
  use_maxspeed: true
  sources:
    road_class_km_per_h: {ref: test, tag: default}
    congestion_factor: {ref: test, tag: default}
requirements:
  - id: station
    facility_type: ems_station
    max_time_min: 2
    target_coverage: 0.9
    sources:
      max_time_min: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
"""


def test_drive_partition_equals_whole_city(tmp_path: Path) -> None:
    """Driving halos (the fastest tagged maxspeed) clip the facilities and change nothing."""
    pbf = shared("osm_engine_testdata/liechtenstein_valhalla.osm.pbf")
    res, fac = _data(pbf, tmp_path, seed=3, n_res=1500)
    stations = gpd.read_file(fac)
    stations["type"] = "ems_station"
    stations.to_file(fac)
    (tmp_path / "drive.yaml").write_text(DRIVE_RULE, encoding="utf-8")
    whole = run_audit(
        AuditOptions(network=pbf, facilities=fac, residents=res, rules=[tmp_path / "drive.yaml"])
    )
    manifest = tmp_path / "MANIFEST.yaml"
    manifest.write_text(
        f"network: {pbf}\nfacilities: fac.geojson\nresidents: res.geojson\nrules: [drive.yaml]\n"
        "service_areas: none\npartition: {by: districts.gpkg, field: district}\n",
        encoding="utf-8",
    )
    result = run_batch(manifest, tmp_path / "out", workers=2)
    assert [u["status"] for u in result.units] == ["ok"] * 4
    out = tmp_path / "out"
    counts = [
        len(gpd.read_parquet(out / "units" / u / "inputs" / "facilities.parquet"))
        for u in ("sw", "se", "nw", "ne")
    ]
    assert min(counts) < 180, counts  # the halo clipped some unit's facilities
    assert result.halo_m is not None and result.halo_m < 10_000  # 2 × 2 min at ≤ 150 km/h
    combined = pd.concat(
        [
            pd.read_parquet(out / "units" / u / "residents.parquet")
            for u in ("sw", "se", "nw", "ne")
        ],
        ignore_index=True,
    )
    key = "resident_id"
    pd.testing.assert_frame_equal(
        combined.sort_values(key).reset_index(drop=True),
        whole.residents.sort_values(key).reset_index(drop=True),
        check_exact=True,
        check_dtype=False,
    )
    assert whole.residents["drive/station"].between(0, 1).all()
    assert 0 < whole.residents["drive/station"].mean() < 1  # some met, some not
