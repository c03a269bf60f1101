"""``circles audit --facility-impact``: facility_impact.csv and the workbook sheet, by hand.

On the toy district (tests/conftest.py, 60 m/min): two_kindergartens needs 2 within 180 m;
R1 has K1 at 130 m and K2 at 135 m (meets it), R2 has K1 at 20 m and K2 at 205 m (one only);
market needs M1 within 200 m: R2 at 160 m, R1 at 270 m. R3 and R4 are off the network.
Population 100 (R1), 300 (R2), 50, 25: 475 in all.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.report.files import IMPACT_FILE, UTF8_BOM, report_names
from tests.conftest import toy_cli_args

runner = CliRunner()
TOTAL = 475.0
EXPECTED = [  # facility, residents, within, sole, lost: sorted by lost, then within
    ("two_kindergartens", "K1", "kindergarten", "west", 2, 400.0, 300.0, 100.0),
    ("two_kindergartens", "K2", "kindergarten", "east", 1, 100.0, 0.0, 100.0),
    ("market", "M1", "fresh_market", "west", 1, 300.0, 300.0, 300.0),
]


def test_facility_impact_writes_the_file_and_the_sheet(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, [*toy_cli_args(toy, out), "--facility-impact"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(report_names(impact=True))
    assert (out / IMPACT_FILE).read_bytes().startswith(UTF8_BOM)
    table = pd.read_csv(out / IMPACT_FILE, dtype={"facility_id": str}, keep_default_na=False)
    got = list(
        table[
            [
                "requirement_id",
                "facility_id",
                "facility_type",
                "community_id",
                "residents_within",
                "population_within",
                "population_sole",
                "population_lost",
            ]
        ].itertuples(index=False, name=None)
    )
    assert got == EXPECTED
    assert (table["circle_id"] == "toy").all() and (table["status"] == "ok").all()
    assert table["coverage_lost"].tolist() == pytest.approx([100 / TOTAL, 100 / TOTAL, 300 / TOTAL])
    sheet = openpyxl.load_workbook(out / "report.xlsx", read_only=True)["Facilities"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3] == "facility id" and "population lost if it closed" in rows[0]
    assert [r[3] for r in rows[1:]] == ["K1", "K2", "M1"]
    assert rows[1][rows[0].index("population lost if it closed")] == 100


def test_without_the_option_neither_exists_and_overwrite_clears_it(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    assert runner.invoke(app, [*toy_cli_args(toy, out), "--facility-impact"]).exit_code == 0
    result = runner.invoke(app, [*toy_cli_args(toy, out), "--overwrite"])
    assert result.exit_code == 0, result.output  # the file is a report's: replaced
    assert not (out / IMPACT_FILE).exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(report_names())
    assert "Facilities" not in openpyxl.load_workbook(out / "report.xlsx").sheetnames


def test_project_key_and_chinese_sheet(toy: dict[str, Path]) -> None:
    project = toy["dir"] / "circles.yaml"
    project.write_text("facility_impact: true\n", encoding="utf-8")
    out = toy["dir"] / "report"
    args = toy_cli_args(toy, out)
    result = runner.invoke(app, [args[0], str(project), *args[1:], "--lang", "zh"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    rows = list(book["设施影响"].iter_rows(values_only=True))
    assert "关闭后失去达标的人口" in rows[0] and rows[1][6] == "west"
    # the command line wins over the project file
    result = runner.invoke(
        app,
        [args[0], str(project), *args[1:], "--no-facility-impact", "--overwrite"],
    )
    assert result.exit_code == 0, result.output
    assert not (out / IMPACT_FILE).exists()
