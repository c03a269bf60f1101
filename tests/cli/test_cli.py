"""The command line, through Typer's CliRunner: exit codes, files written, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.report.files import REPORT_FILES
from tests.conftest import toy_cli_args

runner = CliRunner()


def _args(toy: dict[str, Path], out: Path) -> list[str]:
    return toy_cli_args(toy, out)


def test_audit_writes_every_report_file(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, _args(toy, out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    rows = pd.read_csv(out / "residents.csv", dtype={"resident_id": str})
    assert rows["resident_id"].tolist() == ["R1", "R2", "R3", "R4"]  # input order, none lost
    assert list(rows.columns) == [
        "resident_id",
        "community_id",
        "population",
        "snap_m",
        "status",
        "fresh_market_min",
        "kindergarten_min",
        "toy",
        "toy/two_kindergartens",
        "toy/market",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["residents"] == {
        "read": 4,
        "ok": 2,
        "off_network": 2,
        "no_geometry": 0,
        "unassigned": 2,
    }
    assert "west" in result.output and "east" in result.output


def test_refuses_to_overwrite_and_leaves_report_intact(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    assert runner.invoke(app, _args(toy, out)).exit_code == 0
    before = (out / "summary.json").read_bytes()
    again = runner.invoke(app, _args(toy, out))
    assert again.exit_code == 2
    assert "--overwrite" in again.output and "Traceback" not in again.output
    assert (out / "summary.json").read_bytes() == before
    # the residents' layer written ahead by a child process: stopped, its scratch folder gone
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    assert runner.invoke(app, [*_args(toy, out), "--overwrite", "-q"]).exit_code == 0
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_two_runs_identical_but_for_timestamp(toy: dict[str, Path]) -> None:
    a, b = toy["dir"] / "a", toy["dir"] / "b"
    assert runner.invoke(app, [*_args(toy, a), "-q"]).exit_code == 0
    assert runner.invoke(app, [*_args(toy, b), "-q"]).exit_code == 0
    for name in ("residents.csv", "coverage.csv", "facilities.csv", "network_issues.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    sa["run"].pop("timestamp"), sb["run"].pop("timestamp")
    assert sa == sb


def test_bad_input_is_one_line_exit_2(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, [*_args(toy, out), "--population-field", "popu"])
    assert result.exit_code == 2
    assert "'popu' not found" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_missing_file(toy: dict[str, Path]) -> None:
    args = _args(toy, toy["dir"] / "r")
    args[args.index("--residents") + 1] = str(toy["dir"] / "nope.gpkg")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "nope.gpkg does not exist" in result.output


def test_fail_on_gaps(toy: dict[str, Path]) -> None:
    result = runner.invoke(app, [*_args(toy, toy["dir"] / "r"), "--fail-on-gaps", "-q"])
    assert result.exit_code == 1
    assert result.output == ""


def test_project_file(toy: dict[str, Path]) -> None:
    project = toy["dir"] / "circles.yaml"
    project.write_text(
        "network: roads.geojson\nfacilities: facilities.gpkg\nresidents: residents.gpkg\n"
        "communities: communities.gpkg\nrules: rules/toy.yaml\n",
        encoding="utf-8",
    )
    out = toy["dir"] / "from-project"
    result = runner.invoke(app, ["audit", str(project), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "report.xlsx").exists()
    project.write_text("netwrk: roads.geojson\n", encoding="utf-8")
    result = runner.invoke(app, ["audit", str(project)])
    assert result.exit_code == 2 and "did you mean 'network'" in result.output


@pytest.mark.parametrize("speed", ["0", "-5"])
def test_bad_walk_speed(toy: dict[str, Path], speed: str) -> None:
    result = runner.invoke(app, [*_args(toy, toy["dir"] / "r"), "--walk-speed", speed])
    assert result.exit_code == 2 and "--walk-speed" in result.output


def test_help_lists_defaults() -> None:
    result = runner.invoke(app, ["audit", "--help"])
    assert result.exit_code == 0
    assert "250" in result.output and "--walk-speed" in result.output


def test_rules_are_validated_before_any_data_is_read(tmp_path: Path) -> None:
    rule = tmp_path / "bad.yaml"
    rule.write_text(
        "id: bad\nname: {zh: 坏, en: bad}\nmode: walk\nrequirements: []\n", encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "audit",
            "--network",
            "missing.pbf",
            "--facilities",
            "none.csv",
            "--residents",
            "none.csv",
            "--rules",
            str(rule),
        ],
    )
    assert result.exit_code == 2
    assert f"{rule}:4:1: bad.requirements: must not be empty" in result.output
    assert "does not exist" not in result.output


def test_the_command_as_a_process(toy: dict[str, Path], tmp_path: Path) -> None:
    """``python -m circles``: files in place, exit codes kept, output flushed before it ends."""
    import subprocess
    import sys

    def circles(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "circles", *args], capture_output=True, text=True, check=False
        )

    out = tmp_path / "report"
    done = circles(*toy_cli_args(toy, out), "--timings")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert "timing: total" in done.stderr and "toy" in done.stdout
    again = circles(*toy_cli_args(toy, out))
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert circles("--version").stdout.startswith("circles ")
