"""The residents' layer written by a child process: the same file as in the parent, no orphan."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from circles.projection import xy_points
from circles.report import layer_process
from circles.report.gis import write_frame
from circles.report.layer_process import PendingLayer

UTM = "EPSG:32650"  # Wuhan's UTM zone


def awkward_table(n: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    """Columns of every kind a residents table has, and points some of which are missing."""
    rng = np.random.default_rng(7)
    names = np.array(["幸福小区", "Block =A", "", "东湖 社区"], dtype=object)[rng.integers(0, 4, n)]
    names[::7] = None
    table = pd.DataFrame(
        {
            "resident_id": [f"r{i}" for i in range(n)],
            "小区名称": names,
            "community_id": pd.array(rng.choice(["c1", "c2", None], n), dtype="string"),
            "population": rng.random(n) * 100,
            "walk_15_met": rng.integers(0, 2, n).astype("int16"),
            "households": rng.integers(0, 900, n),
            "time_min": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 30),
            "served": rng.random(n) < 0.5,
        }
    )
    xy = np.column_stack([rng.uniform(230e3, 240e3, n), rng.uniform(3.37e6, 3.38e6, n)])
    xy[::11] = np.nan  # residents without a point
    return table, xy


def the_parent_way(table: pd.DataFrame, xy: np.ndarray, crs: str, crs_out: str, path: Path):
    """The layer as the report wrote it before: a GeoDataFrame projected and written here."""
    frame = gpd.GeoDataFrame(table, geometry=xy_points(xy), crs=crs).to_crs(crs_out)
    write_frame(frame.reset_index(drop=True), path, "residents")


def assert_same_layer(a: Path, b: Path) -> None:
    """Same rows, geometries, field types and GeoPackage metadata (timestamps aside)."""
    one = pyogrio.read_dataframe(a, use_arrow=True)
    two = pyogrio.read_dataframe(b, use_arrow=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(one.drop(columns="geometry")), pd.DataFrame(two.drop(columns="geometry"))
    )
    assert one.geometry.to_wkb().equals(two.geometry.to_wkb())
    assert repr(pyogrio.read_info(a)) == repr(pyogrio.read_info(b))
    queries = [
        "select table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id "
        "from gpkg_contents",
        "select * from gpkg_geometry_columns",
        "select * from gpkg_extensions",
        "select * from gpkg_spatial_ref_sys",
        "select type, name, sql from sqlite_master order by name",
    ]
    with sqlite3.connect(a) as left, sqlite3.connect(b) as right:
        for query in queries:
            assert list(left.execute(query)) == list(right.execute(query)), query


def written_ahead(table, xy, crs, crs_out, tmp_path: Path) -> tuple[Path, Path]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pending = PendingLayer(table, xy, crs, crs_out, layer="residents", scratch=scratch)
    pending.start()
    pending.move_to(tmp_path / "ahead.gpkg")
    return tmp_path / "ahead.gpkg", scratch


@pytest.mark.parametrize(
    "crs_out",
    ["EPSG:4326", "EPSG:4490", "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +ellps=GRS80"],
)
def test_the_child_writes_the_file_the_parent_wrote(tmp_path: Path, crs_out: str) -> None:
    table, xy = awkward_table()
    ahead, scratch = written_ahead(table, xy, UTM, crs_out, tmp_path)
    the_parent_way(table, xy, UTM, crs_out, tmp_path / "parent.gpkg")
    assert_same_layer(ahead, tmp_path / "parent.gpkg")
    assert not scratch.exists()  # the Arrow stream and the child's files are gone


def test_many_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows go to the child 64 at a time: the same file."""
    monkeypatch.setattr(layer_process, "BATCH_ROWS", 64)
    table, xy = awkward_table(1_000)
    ahead, _ = written_ahead(table, xy, UTM, "EPSG:4326", tmp_path)
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(ahead, tmp_path / "parent.gpkg")


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_and_empty_tables(tmp_path: Path, rows: int) -> None:
    table, xy = awkward_table(rows)
    ahead, _ = written_ahead(table, xy, UTM, "EPSG:4326", tmp_path)
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(ahead, tmp_path / "parent.gpkg")


def test_no_point_at_all(tmp_path: Path) -> None:
    table, xy = awkward_table(20)
    xy[:] = np.nan
    ahead, _ = written_ahead(table, xy, UTM, "EPSG:4326", tmp_path)
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(ahead, tmp_path / "parent.gpkg")


def test_a_column_arrow_cannot_take_as_is_is_written_in_the_parent(tmp_path: Path) -> None:
    table, xy = awkward_table(50)
    table["mixed"] = pd.Series([1, "two", 3.0, None, b"x"] * 10, dtype=object)
    table["nothing"] = pd.Series([None] * 50, dtype=object)  # Arrow's null type
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pending = PendingLayer(table, xy, UTM, "EPSG:4326", layer="residents", scratch=scratch)
    pending.start()
    assert not pending.in_child
    pending.move_to(tmp_path / "ahead.gpkg")
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(tmp_path / "ahead.gpkg", tmp_path / "parent.gpkg")


@pytest.mark.parametrize("interpreter", ["missing", "fails"])
def test_no_child_or_a_failed_one_the_parent_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interpreter: str
) -> None:
    false = shutil.which("false")
    if interpreter == "fails" and false is None:
        pytest.skip("no `false` command here")
    exe = str(tmp_path / "no-python") if interpreter == "missing" else false
    monkeypatch.setattr(layer_process.sys, "executable", exe)
    table, xy = awkward_table(30)
    ahead, scratch = written_ahead(table, xy, UTM, "EPSG:4326", tmp_path)
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(ahead, tmp_path / "parent.gpkg")
    assert not scratch.exists()


def test_close_stops_the_child_and_removes_the_scratch_folder(tmp_path: Path) -> None:
    table, xy = awkward_table(20_000)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pending = PendingLayer(table, xy, UTM, "EPSG:4326", layer="residents", scratch=scratch)
    assert not pending.in_child  # started on request only
    pending.start()
    assert pending.in_child
    pending.close()
    assert not pending.in_child  # ended and reaped: no orphan, no zombie
    assert not scratch.exists()
    pending.close()  # twice is harmless
    pending.start()  # and nothing starts once closed
    assert not pending.in_child


def test_never_started_it_is_written_in_the_parent(tmp_path: Path) -> None:
    table, xy = awkward_table(40)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pending = PendingLayer(table, xy, UTM, "EPSG:4326", layer="residents", scratch=scratch)
    pending.move_to(tmp_path / "ahead.gpkg")
    the_parent_way(table, xy, UTM, "EPSG:4326", tmp_path / "parent.gpkg")
    assert_same_layer(tmp_path / "ahead.gpkg", tmp_path / "parent.gpkg")
    assert not scratch.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_the_child_ends_when_its_parent_is_gone(tmp_path: Path) -> None:
    """The child watches its standard input: closed (the parent gone), it exits at once."""
    args = tmp_path / "args.json"
    os.mkfifo(args)  # the child blocks reading its arguments, which never come
    child = subprocess.Popen(
        [sys.executable, "-m", "circles.report.layer_process", str(args)],
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert child.stdin is not None
        child.stdin.close()  # what the system does to the pipe when the parent dies
        assert child.wait(timeout=60) == 3
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
