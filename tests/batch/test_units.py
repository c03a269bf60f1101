"""circles batch with units: (the example district twice), on a local Dask cluster of processes.

One unit fails (its residents file is missing) and is reported while the others finish; the
command exits 2; --resume skips the unchanged units and redoes a changed one; no process of the
cluster outlives the command.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import openpyxl
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from circles.batch import run_batch
from circles.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "synthetic_district"
SHARED_KEYS = f"""\
network: {EXAMPLE / "roads.geojson"}
facilities: {EXAMPLE / "facilities.csv"}
residents: {EXAMPLE / "residents.geojson"}
communities: {EXAMPLE / "communities.geojson"}
zones: {EXAMPLE / "zones.geojson"}
zone_field: name
community_field: community
facility_type_field: type
crs: EPSG:32650
service_areas: none
"""


def _manifest(tmp_path: Path, snap: int = 250) -> Path:
    path = tmp_path / "MANIFEST.yaml"
    path.write_text(
        SHARED_KEYS
        + "units:\n"
        + "  - {name: walk, circles: [activity_10min]}\n"
        + f"  - {{name: ems, circles: [ems, life_15min], max_snap: {snap}}}\n"
        + "  - {name: broken, circles: [activity_10min], residents: nowhere.geojson}\n",
        encoding="utf-8",
    )
    return path


def _children() -> list[psutil.Process]:
    """This process's children, but Python's multiprocessing resource tracker.

    The tracker is started once per process by the first spawned worker and ends with it; it
    is not part of the cluster.
    """
    deadline = time.monotonic() + 10
    while True:
        alive = [p for p in psutil.Process().children(recursive=True) if p.is_running()]
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE and not _tracker(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _tracker(process: psutil.Process) -> bool:
    try:
        return "multiprocessing.resource_tracker" in " ".join(process.cmdline())
    except psutil.Error:
        return False


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("batch_units")
    lines: list[str] = []
    result = run_batch(_manifest(tmp_path), tmp_path / "out", workers=2, progress=lines.append)
    return tmp_path, result, lines


def test_failed_unit_reported_others_finish(first_run) -> None:
    tmp_path, result, lines = first_run
    status = {u["name"]: u["status"] for u in result.units}
    assert status == {"walk": "ok", "ems": "ok", "broken": "failed"}
    (broken,) = result.failed
    assert "nowhere.geojson" in broken["error"] and "\n" not in broken["error"]
    assert broken["user_error"] is True
    assert any(line.startswith("walk: done in") and "250 residents" in line for line in lines)
    assert any(line.startswith("broken: failed after a retry:") for line in lines)
    units = pd.read_csv(tmp_path / "out" / "units.csv", encoding="utf-8-sig")
    assert units["unit"].tolist() == ["walk", "ems", "broken"]
    assert units["status"].tolist() == ["ok", "ok", "failed"]
    assert (units.loc[:1, "residents"] == 250).all()
    assert (units.loc[:1, "peak_rss_mib"] > 0).all()


def test_no_process_outlives_the_batch(first_run) -> None:
    assert _children() == []


def test_combined_outputs(first_run) -> None:
    tmp_path, _, _ = first_run
    out = tmp_path / "out"
    residents = pd.read_csv(out / "residents.csv", encoding="utf-8-sig", dtype={"resident_id": str})
    assert residents["unit"].value_counts().to_dict() == {"walk": 250, "ems": 250}
    for name in ("walk", "ems"):  # each unit's rows are its own report's, exactly
        own = pd.read_csv(
            out / "units" / name / "report" / "residents.csv",
            encoding="utf-8-sig",
            dtype={"resident_id": str},
        )
        mine = residents[residents["unit"] == name].drop(columns="unit").dropna(axis=1, how="all")
        own = own.dropna(axis=1, how="all")  # units with other circles have other columns
        pd.testing.assert_frame_equal(
            mine[own.columns].reset_index(drop=True), own, check_dtype=False
        )
    coverage = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    overall = coverage[(coverage["unit"] == "all")]
    for name, circle in (("walk", "activity_10min"), ("ems", "ems"), ("ems", "life_15min")):
        own = pd.read_csv(out / "units" / name / "report" / "coverage.csv", encoding="utf-8-sig")
        own = own[(own["scope"] == "overall") & (own["circle_id"] == circle)]
        mine = overall[overall["circle_id"] == circle]
        assert mine["population_met"].tolist() == pytest.approx(own["population_met"].tolist())
        assert mine["median_min_not_met"].tolist() == pytest.approx(
            own["median_min_not_met"].tolist(), nan_ok=True
        )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["batch"]["units_failed"] == 1
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert book.sheetnames == ["units", "overall", "coverage"]
    assert next(book["units"].iter_rows(max_row=1, values_only=True))[:2] == ("unit", "status")
    book.close()
    assert summary["batch"]["residents"] == 500


def test_resume_skips_unchanged_units(first_run) -> None:
    tmp_path, _, _ = first_run
    out = tmp_path / "out"
    walk_report = out / "units" / "walk" / "report" / "summary.json"
    before = walk_report.stat().st_mtime_ns
    manifest = _manifest(tmp_path, snap=200)  # the ems unit changes, walk does not
    runner = CliRunner()
    refused = runner.invoke(app, ["batch", str(manifest), "--out", str(out)])
    assert refused.exit_code == 2, refused.output
    assert "pass --resume" in refused.output
    result = runner.invoke(
        app, ["batch", str(manifest), "--out", str(out), "--resume", "--workers", "1"]
    )
    assert result.exit_code == 2, result.output  # broken still fails
    assert "walk: unchanged, skipped (--resume)" in result.output
    assert "ems: done in" in result.output
    assert "error: unit broken:" in result.output
    assert walk_report.stat().st_mtime_ns == before
    units = pd.read_csv(out / "units.csv", encoding="utf-8-sig")
    assert units["status"].tolist() == ["resumed", "ok", "failed"]
    assert _children() == []


def test_every_unit_failing(tmp_path: Path) -> None:
    manifest = tmp_path / "MANIFEST.yaml"
    manifest.write_text(
        SHARED_KEYS + "units: [{name: broken, residents: nowhere.geojson}]\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["batch", str(manifest), "--out", str(tmp_path / "out"), "--workers", "1"]
    )
    assert result.exit_code == 2, result.output
    assert "0 of 1 units audited" in result.output
    assert "error: unit broken: residents file" in result.output
    units = pd.read_csv(tmp_path / "out" / "units.csv", encoding="utf-8-sig")
    assert units["status"].tolist() == ["failed"]
