"""The Settings model: the CLI options, project keys and run.parameters all derive from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from pydantic import Field, ValidationError
from typer.testing import CliRunner

from circles.cli import app
from circles.cli.audit import settings_parameters
from circles.errors import ProjectFileError
from circles.project import KEYS
from circles.settings import Edge, Settings, edges, merge, project_keys

runner = CliRunner()

# options of `circles audit` about this run of the command rather than the audit itself
COMMAND_ONLY = {
    "project",
    "overwrite",
    "lang",
    "maps",
    "excel_residents",
    "fail_on_gaps",
    "quiet",
    "verbose",
    "debug",
    "timings",
}
# the keys of run.parameters users see in summary.json (and report.xlsx); keep them stable
RUN_PARAMETER_KEYS = {
    "service_areas",
    "walk_speed_m_per_min",
    "max_snap_m",
    "min_component_nodes",
    "split_crossings",
    "join_ends_m",
    "population_field",
    "facility_type_field",
    "community_field",
    "zone_field",
    "subdistrict_field",
    "households_field",
    "persons_per_household",
    "coords",
}
PATHS = {"network": "roads.gpkg", "facilities": "pois.csv", "residents": "homes.gpkg"}


def _audit_command() -> Any:
    return typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]


def test_cli_options_are_the_settings_fields() -> None:
    names = {param.name for param in _audit_command().params}
    assert names - COMMAND_ONLY == set(Settings.model_fields)


def test_project_keys_are_the_settings_fields() -> None:
    assert set(project_keys().values()) == set(Settings.model_fields) - {"cache"}
    assert project_keys().keys() == KEYS
    # today's keys keep working, edge names for SI fields
    assert {"walk_speed", "max_snap", "join_ends", "circles"} <= KEYS


def test_every_option_has_help_and_a_flag() -> None:
    params = {param.name: param for param in _audit_command().params}
    for name, edge in edges():
        assert Settings.model_fields[name].description, name
        assert params[name].help, name  # type: ignore[attr-defined]
        declared = {opt for flag in edge.flags(name) for opt in flag.split("/")}
        assert declared == set(params[name].opts + params[name].secondary_opts), name


def test_help_shows_the_model_defaults() -> None:
    result = runner.invoke(app, ["audit", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for default in ("[default: 250]", "[default: 50]", "[default: builtin]", "[default: zone]"):
        assert default in text
    assert "[default: 2.62, China's 2020 census national average]" in text


def test_command_line_wins_and_units_convert_at_the_edge() -> None:
    project = {"walk_speed": 60.0, "max_snap": 100.0, "coords": {"facilities": "gcj02"}}
    cli = {**PATHS, "walk_speed_m_s": 48.0, "coords": ["planned=bd09"], "cache": True}
    settings = merge(project, cli)
    assert settings.walk_speed_m_s == pytest.approx(0.8)  # 48 m/min
    assert settings.walk_speed_m_per_min == 48.0  # exactly, back at the edge
    assert settings.max_snap_m == 100.0  # from the project file
    assert settings.coords == {"facilities": "gcj02", "planned": "bd09"}  # merged by layer
    assert settings.cache is False  # --no-cache
    assert settings.network == Path("roads.gpkg")


def test_run_parameters_keep_their_keys() -> None:
    settings = merge({"split_crossings": None}, {**PATHS, "walk_speed_m_s": 48.0})
    parameters = settings.run_parameters()
    assert set(parameters) == RUN_PARAMETER_KEYS
    assert parameters["walk_speed_m_per_min"] == 48.0
    assert parameters["split_crossings"] == "auto"
    assert parameters["max_snap_m"] == 250.0


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="walk_speed"):
        Settings(**PATHS, walk_speed=48)  # type: ignore[call-arg]


def test_missing_paths_are_named() -> None:
    with pytest.raises(ProjectFileError, match="missing --network, --residents"):
        merge({}, {"facilities": "pois.csv"})


def test_a_new_field_appears_everywhere() -> None:
    """Adding an option is adding one Settings field: CLI, project key and summary follow."""

    class Wider(Settings):
        max_walk_detour_ratio: Annotated[
            float | None,
            Edge("max_walk_detour", give="a ratio (e.g. max_walk_detour: 1.6)", summary=True),
            Field(description="Largest network/straight-line distance ratio walked."),
        ] = None

    options = {param.name: param for param in settings_parameters(Wider)}
    assert "max_walk_detour_ratio" in options
    assert project_keys(Wider)["max_walk_detour"] == "max_walk_detour_ratio"
    wider = merge({"max_walk_detour": 1.6}, PATHS, Wider)
    assert wider.run_parameters()["max_walk_detour_ratio"] == 1.6
