"""The residents CSV formatted in chunks on two threads: the same bytes, in memory or spooled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.report import files
from circles.report.files import UTF8_BOM, PendingCsv


def awkward_frame(n: int = 2_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    names = np.array(["幸福小区, 一期", 'say "hi"', "two\nlines", "", "plain"], dtype=object)
    return pd.DataFrame(
        {
            "resident_id": [f"r{i}" for i in range(n)],
            "name": pd.array(names[rng.integers(0, 5, n)], dtype="string"),
            "population": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 100),
            "met": rng.integers(0, 2, n).astype("int16"),
            "households": rng.integers(0, 900, n),
            "served": rng.random(n) < 0.5,
        }
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many chunks, finished out of order by the two threads."""
    monkeypatch.setattr(files, "CHUNK_ROWS", 7)


@pytest.mark.parametrize("mark", ["bom", "no bom"])
def test_spooled_rows_are_the_same_bytes(tmp_path: Path, small_chunks: None, mark: str) -> None:
    bom = mark == "bom"
    frame = awkward_frame()
    PendingCsv(frame).write(tmp_path / "memory.csv", bom=bom)
    spool = tmp_path / "spool.csv"
    pending = PendingCsv(frame, spool=spool, bom=bom)
    pending.write(tmp_path / "spooled.csv", bom=bom)
    pending.close()
    memory = (tmp_path / "memory.csv").read_bytes()
    assert (tmp_path / "spooled.csv").read_bytes() == memory
    assert memory.startswith(UTF8_BOM) == bom
    assert not spool.exists()
    # and the chunks change nothing: one chunk gives the same bytes
    files.CHUNK_ROWS = 10**9
    PendingCsv(frame).write(tmp_path / "whole.csv", bom=bom)
    assert (tmp_path / "whole.csv").read_bytes() == memory
    back = pd.read_csv(tmp_path / "memory.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(back) == len(frame) and back["name"].tolist() == frame["name"].tolist()


def test_a_spool_written_with_the_other_byte_order_mark(tmp_path: Path, small_chunks: None):
    frame = awkward_frame(100)
    PendingCsv(frame).write(tmp_path / "memory.csv", bom=False)
    pending = PendingCsv(frame, spool=tmp_path / "spool.csv", bom=True)
    pending.write(tmp_path / "spooled.csv", bom=False)
    pending.close()
    assert (tmp_path / "spooled.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()


def test_no_spool_file_the_rows_stay_in_memory(tmp_path: Path) -> None:
    frame = awkward_frame(50)
    pending = PendingCsv(frame, spool=tmp_path / "no such folder" / "spool.csv")
    pending.write(tmp_path / "out.csv")
    PendingCsv(frame).write(tmp_path / "memory.csv")
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()


def test_closed_unwritten_the_spool_is_removed(tmp_path: Path, small_chunks: None) -> None:
    spool = tmp_path / "spool.csv"
    pending = PendingCsv(awkward_frame(), spool=spool)
    pending.close()  # waits for the threads, then removes the file
    assert not spool.exists()
    pending.close()
