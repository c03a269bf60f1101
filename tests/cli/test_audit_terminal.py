"""``circles audit`` on the bundled synthetic example: one screen on stdout, warnings on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from circles.cli import app

EXAMPLE = Path(__file__).parents[2] / "examples" / "synthetic_district" / "circles.yaml"
WUHAN_CIRCLES = (
    "life_15min",
    "activity_10min",
    "culture_sport_12min",
    "ems",
    "commute_1h",
    "metro_area_2h",
    "national_3h",
)

runner = CliRunner()


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory: pytest.TempPathFactory):
    """The example audited twice at 100 columns: the default summary, then with -v."""
    out = tmp_path_factory.mktemp("example")
    results = {}
    for name, extra in (("brief", []), ("verbose", ["-v"])):
        args = ["audit", str(EXAMPLE), "--out", str(out / name)]
        results[name] = runner.invoke(app, args + extra, env={"COLUMNS": "100"})
    return results


def test_example_summary_fits_one_screen(example_runs) -> None:
    result = example_runs["brief"]
    assert result.exit_code == 0, result.output
    lines = (result.stdout + result.stderr).rstrip("\n").splitlines()
    assert len(lines) <= 50, result.output
    assert all(cell_len(line.rstrip()) <= 100 for line in lines), result.stdout
    for circle_id in WUHAN_CIRCLES:  # one line each
        assert sum(line.startswith(f"{circle_id} ") for line in result.stdout.splitlines()) == 1
    assert "Communities with the most people not met" in result.stdout
    assert "Communities, worst first" not in result.stdout


def test_warnings_and_messages_go_to_stderr(example_runs) -> None:
    for result in example_runs.values():
        assert "warning:" not in result.stdout
        assert "report written to" in result.stderr
        assert "…" not in result.stderr.split("report written to")[-1]  # no progress when piped


def test_verbose_prints_the_full_tables(example_runs) -> None:
    result = example_runs["verbose"]
    assert result.exit_code == 0, result.output
    assert "Communities, worst first" in result.stdout
    assert "national_3h: destinations" in result.stdout
    assert "Communities with the most people not met" not in result.stdout


def test_example_warns_only_of_what_it_teaches(example_runs) -> None:
    """Two warnings: the Wuhan hubs the district lacks, the compounds off the network."""
    warnings = [
        line for line in example_runs["verbose"].stderr.splitlines() if line.startswith("warning:")
    ]
    assert len(warnings) == 2, example_runs["verbose"].stderr
    assert warnings[0].startswith("warning: hubs of the line-haul tables not found")
    assert warnings[1].startswith("warning: residents farther than 250 m")
