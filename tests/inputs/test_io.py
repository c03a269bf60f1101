"""Reading CSV text: Arrow's fast reader gives what pandas' reader gives, or hands over to it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.inputs.tables import arrow_csv, read_csv_text, text_to_float

CSV = (
    "id,name,population,lon,lat\n"
    '007,"Wang, Li",120, 114.30 ,30.55\n'
    "\n"
    '008,"两行\n名称",,114.31,30.56\n'
    '009,,"3 ",114.32,\n'
)


def _pandas(text: str, sep: str = ",") -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_fast_reader_reads_as_pandas_does(sep: str) -> None:
    text = CSV.replace(",", sep) if sep != "," else CSV
    fast = arrow_csv(text, text.encode(), sep)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _pandas(text, sep))
    assert fast["id"].tolist() == ["007", "008", "009"]  # leading zeros kept: ids are text


@pytest.mark.parametrize(
    "text",
    [
        "id,id\n1,2\n",  # repeated names: pandas renames them
        "id,\n1,2\n",  # a blank name
        "id,lon\n1,2,3\n",  # a ragged row
    ],
)
def test_unusual_files_go_to_pandas(text: str) -> None:
    assert arrow_csv(text, text.encode(), ",") is None


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")]
)
def test_encodings_read_the_same(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "pois.csv"
    path.write_bytes(prefix + CSV.encode(encoding))
    pd.testing.assert_frame_equal(read_csv_text(path, "facilities"), _pandas(CSV))


def test_text_to_float() -> None:
    values = pd.Series([" 1.5 ", "", "abc", "1e3", "-2", None, "0.1"], dtype=object)
    got = text_to_float(values)
    np.testing.assert_array_equal(got, [1.5, np.nan, np.nan, 1000.0, -2.0, np.nan, 0.1])
    # the fast path (no blanks) parses exactly as pandas does
    many = pd.Series([f"{x:.9f}" for x in np.random.default_rng(1).uniform(-180, 180, 5000)])
    np.testing.assert_array_equal(text_to_float(many), pd.to_numeric(many).to_numpy())
    np.testing.assert_array_equal(text_to_float(pd.Series([3, 4])), [3.0, 4.0])
