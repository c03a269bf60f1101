"""Rule files: bundled presets validate; every kind of broken file fails with its exact message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.errors import RuleError
from circles.rules.docs import json_schema_text, readme_with_reference
from circles.rules.load import load_rules, presets_root

runner = CliRunner()

GOOD = """\
id: demo
name: {zh: 演示, en: demo}
mode: walk
speed_m_per_min: 60
sources:
  speed_m_per_min: {ref: test, tag: default}
requirements:
  - id: kindergarten
    facility_type: kindergarten
    max_time_min: 15
    target_coverage: 0.9
    sources:
      max_time_min: {ref: test, tag: recalled}
      target_coverage: {ref: test, tag: default}
"""
# line numbers in GOOD: 1 id, 2 name, 3 mode, 4 speed, 5 sources, 6 speed source,
# 7 requirements, 8 "- id", 9 facility_type, 10 max_time_min, 11 target_coverage, 12 sources


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_rules([path])
    return info.value.problems


REQ = "demo.requirements[0](kindergarten)"

BROKEN = {
    "syntax_error": (
        GOOD.replace("name: {zh: 演示, en: demo}", "name: {zh: 演示, en: demo"),
        ["3:5: file: YAML syntax error: expected ',' or '}', but got ':'"],
    ),
    "unknown_key": (
        GOOD.replace(
            "    target_coverage: 0.9\n", "    target_coverage: 0.9\n    max_tme_min: 3\n"
        ),
        [f"12:5: {REQ}.max_tme_min: unknown key; check the spelling against rules/README.md"],
    ),
    "misspelt_facility_type": (
        GOOD.replace("facility_type: kindergarten", "facility_type: kindergarden"),
        [
            f"9:5: {REQ}.facility_type: unknown facility type 'kindergarden'; did you mean "
            "'kindergarten'?"
        ],
    ),
    "negative_time": (
        GOOD.replace("max_time_min: 15", "max_time_min: -5"),
        [f"10:5: {REQ}.max_time_min: must be greater than 0 (got -5)"],
    ),
    "zero_time": (
        GOOD.replace("max_time_min: 15", "max_time_min: 0"),
        [f"10:5: {REQ}.max_time_min: must be greater than 0 (got 0)"],
    ),
    "missing_required_key": (
        GOOD.replace("    target_coverage: 0.9\n", ""),
        [f"8:5: {REQ}.target_coverage: required key is missing"],
    ),
    "duplicate_requirement_ids": (
        GOOD + GOOD[GOOD.index("  - id: kindergarten") :],
        [
            "15:5: demo.requirements[1](kindergarten).id: duplicate requirement id 'kindergarten' "
            "(first at requirements[0])"
        ],
    ),
    "wrong_value_type": (
        GOOD.replace("max_time_min: 15", "max_time_min: fifteen"),
        [f"10:5: {REQ}.max_time_min: expected a number, got 'fifteen'"],
    ),
    "zone_thresholds_without_default": (
        GOOD.replace(
            "mode: walk\n", "mode: walk\nzones:\n  central: {name: {zh: 中心, en: central}}\n"
        )
        .replace("    max_time_min: 15\n", "    max_time_min_by_zone: {central: 10}\n")
        .replace(
            "      max_time_min: {ref: test, tag: recalled}",
            "      max_time_min_by_zone: {ref: test, tag: recalled}",
        ),
        [
            f"12:5: {REQ}.max_time_min_by_zone: zone thresholds without a default: residents "
            "outside every zone need one; add max_time_min"
        ],
    ),
    "empty_requirement_list": (
        GOOD[: GOOD.index("requirements:")] + "requirements: []\n",
        ["7:1: demo.requirements: must not be empty"],
    ),
    "unknown_mode": (
        GOOD.replace("mode: walk", "mode: bike"),
        ["3:1: demo.mode: got 'bike'; expected one of 'walk', 'drive' or 'hub'"],
    ),
    "missing_source": (
        GOOD.replace("      target_coverage: {ref: test, tag: default}\n", ""),
        [
            f"11:5: {REQ}.target_coverage: no source for target_coverage; add "
            "sources.target_coverage with ref and tag"
        ],
    ),
    "unknown_tag": (
        GOOD.replace("tag: recalled", "tag: maybe"),
        [
            f"13:33: {REQ}.sources.max_time_min.tag: got 'maybe'; expected one of 'verified', "
            "'recalled' or 'default'"
        ],
    ),
    "both_thresholds": (
        GOOD.replace(
            "    max_time_min: 15\n", "    max_time_min: 15\n    max_distance_m: 300\n"
        ).replace(
            "      target_coverage: {ref: test, tag: default}",
            "      target_coverage: {ref: test, tag: default}\n"
            "      max_distance_m: {ref: test, tag: default}",
        ),
        [f"11:5: {REQ}.max_distance_m: give max_time_min or max_distance_m, not both"],
    ),
    "not_an_id": (
        GOOD.replace("id: demo", "id: Demo Circle"),
        [
            "1:1: Demo Circle.id: 'Demo Circle' is not an id: use lower-case letters, digits and _ "
            "(e.g. fresh_market)"
        ],
    ),
    "walking_speed_insane": (
        GOOD.replace("speed_m_per_min: 60", "speed_m_per_min: 600"),
        [
            "4:1: demo.speed_m_per_min: walking speed 600 m/min is outside 20-120 m/min; 60 m/min "
            "is the planning default"
        ],
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_each_broken_file_gives_its_exact_message(kind: str, tmp_path: Path) -> None:
    text, expected = BROKEN[kind]
    path = _write(tmp_path, text)
    assert _problems(path) == [f"{path}:{line}" for line in expected]


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_each_broken_file_exits_2_without_traceback(kind: str, tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN[kind][0])
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path}:" in result.output


def test_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    a = _write(tmp_path, BROKEN["negative_time"][0], "a.yaml")
    b = _write(tmp_path, BROKEN["missing_source"][0].replace("id: demo", "id: other"), "b.yaml")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    assert [p.split(":")[0] for p in info.value.problems] == [str(a), str(b)]


def test_duplicate_circle_ids_across_files(tmp_path: Path) -> None:
    a = _write(tmp_path, GOOD, "a.yaml")
    b = _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    assert info.value.problems == [f"{b}:1:1: demo.id: duplicate circle id 'demo' (also in {a})"]


def test_hub_table_problems_point_at_the_table(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "hub,destination,minutes,ref,tag\nA站,city_a,-3,est,default\nA站,city_x,30,est,default\n",
        encoding="utf-8",
    )
    path = _write(
        tmp_path,
        """\
        id: hubby
        name: {zh: 枢纽, en: hub}
        mode: hub
        speed_m_per_min: 60
        sources: {speed_m_per_min: {ref: t, tag: default}}
        hub:
          hub_types: [rail_station]
          access_max_min: 30
          transfer_min: 10
          table: t.csv
          destinations: {city_a: {zh: 甲, en: A}}
          sources: {access_max_min: {ref: t, tag: default}, transfer_min: {ref: t, tag: default}}
        requirements:
          - id: reach
            destinations: [city_a]
            max_time_min: 120
            target_coverage: 0.8
            sources: {max_time_min: {ref: t, tag: default}, target_coverage: {ref: t, tag: default}}
        """,
    )
    table = (tmp_path / "t.csv").resolve()
    assert _problems(path) == [
        f"{table}:2:1: hubby.hub.table: minutes must be greater than 0 (got -3)",
        f"{table}:3:1: hubby.hub.table: unknown destination 'city_x'; did you mean 'city_a'?",
    ]


def test_bundled_presets_validate_and_list_all_circles() -> None:
    result = runner.invoke(app, ["rules", "check", str(presets_root())])
    assert result.exit_code == 0, result.output
    for cid in (
        "life_15min",
        "activity_10min",
        "culture_sport_12min",
        "ems",
        "commute_1h",
        "metro_area_2h",
        "national_3h",
        "gb50180_lc5",
        "gb50180_lc10",
        "gb50180_lc15",
    ):
        assert cid in result.output
    wuhan = load_rules(["wuhan"])
    assert [lc.circle.id for lc in wuhan] == [
        "life_15min",
        "activity_10min",
        "culture_sport_12min",
        "ems",
        "commute_1h",
        "metro_area_2h",
        "national_3h",
    ]


def test_every_preset_number_has_a_source_and_tag() -> None:
    for lc in load_rules(["wuhan", "gb50180"]):
        c = lc.circle
        assert set(c.numbers()) <= set(c.sources)
        for req in c.requirements:
            assert set(req.numbers()) <= set(req.sources), (c.id, req.id)
            assert all(s.tag in {"verified", "recalled", "default"} for s in req.sources.values())
        if c.drive:
            assert {"road_class_km_per_h", "congestion_factor"} <= set(c.drive.sources)
        if c.hub:
            assert {"access_max_min", "transfer_min"} <= set(c.hub.sources)
            assert lc.hub_table and all(row.source.ref for row in lc.hub_table)


def test_ems_zones_are_wuhans_districts() -> None:
    (ems,) = load_rules(["wuhan"], circle_ids=["ems"])
    zones = ems.circle.zones
    assert len(zones["central"].districts) == 7 and len(zones["new_urban"].districts) == 6
    req = ems.circle.requirements[0]
    assert req.max_time_min_by_zone == {"central": 10, "new_urban": 12}


def test_generated_schema_and_reference_are_current() -> None:
    root = presets_root()
    assert (root / "schema.json").read_text(encoding="utf-8") == json_schema_text(), (
        "rules/schema.json is stale: run circles rules docs --write"
    )
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert readme_with_reference(readme) == readme, (
        "rules/README.md reference is stale: run circles rules docs --write"
    )
    result = runner.invoke(app, ["rules", "schema"])
    assert json.loads(result.output)["title"] == "circles rule file"


def test_rules_list_and_show() -> None:
    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and "national_3h" in listed.output
    shown = runner.invoke(app, ["rules", "show", "ems"], env={"COLUMNS": "220"})
    assert shown.exit_code == 0
    assert "central: 10 min" in shown.output and "new_urban: 12 min" in shown.output
    missing = runner.invoke(app, ["rules", "show", "emz"])
    assert missing.exit_code == 2 and "did you mean 'ems'?" in missing.output


def test_circle_selection(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert load_rules([path])[0].circle.requirements[0].max_time_s == 900
    with pytest.raises(RuleError, match="--circle nope: no such circle"):
        load_rules([path], circle_ids=["nope"])


def test_rule_edit_changes_the_audit(toy: dict[str, Path]) -> None:
    """Round trip: loosening a threshold in the file moves residents from not met to met."""
    from circles.audit import AuditOptions, run_audit

    def met_population(rule: Path) -> float:
        result = run_audit(
            AuditOptions(
                network=toy["network"],
                facilities=toy["facilities"],
                residents=toy["residents"],
                rules=[rule],
            )
        )
        cov = result.coverage.set_index(["requirement_id", "scope"])
        return cov.loc[("market", "overall"), "population_met"]

    rule = toy["rules"]
    assert met_population(rule) == 300  # only R2 (160 m) is within 200 m of the market
    rule.write_text(
        rule.read_text(encoding="utf-8").replace("max_distance_m: 200", "max_distance_m: 300"),
        encoding="utf-8",
    )
    assert met_population(rule) == 400  # now R1 (270 m) too
