"""Rule files: the bundled presets validate; broken files fail with file:line:col messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from circles.errors import RuleError
from circles.rules import load_rules

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


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(RuleError) as info:
        load_rules([path])
    return info.value.problems


def test_bundled_wuhan_walking_circles() -> None:
    loaded = load_rules()
    assert [lc.circle.id for lc in loaded] == [
        "life_15min",
        "activity_10min",
        "culture_sport_12min",
    ]
    for lc in loaded:
        for req in lc.circle.requirements:
            assert req.sources.keys() >= {"target_coverage"}
            assert req.max_time_min is not None and "max_time_min" in req.sources


def test_good_file_and_circle_selection(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert load_rules([path])[0].circle.requirements[0].max_time_s == 900
    with pytest.raises(RuleError, match="--circle nope: no such circle"):
        load_rules([path], circle_ids=["nope"])


def test_unknown_key_points_at_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        GOOD.replace(
            "    target_coverage: 0.9\n", "    target_coverage: 0.9\n    max_tme_min: 3\n"
        ),
    )
    assert _problems(path) == [
        f"{path}:12:5: demo.requirements[0](kindergarten).max_tme_min: "
        "unknown key; check the spelling against rules/README.md"
    ]


def test_misspelt_facility_type_suggests(tmp_path: Path) -> None:
    path = _write(
        tmp_path, GOOD.replace("facility_type: kindergarten", "facility_type: kindergarden")
    )
    assert _problems(path) == [
        f"{path}:9:5: demo.requirements[0](kindergarten).facility_type: unknown facility type "
        "'kindergarden'; did you mean 'kindergarten'?"
    ]


def test_negative_time_and_missing_source_reported_together(tmp_path: Path) -> None:
    text = GOOD.replace("max_time_min: 15", "max_time_min: -5")
    other = _write(
        tmp_path,
        GOOD.replace("      target_coverage: {ref: test, tag: default}\n", ""),
        "other.yaml",
    )
    path = _write(tmp_path, text)
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    problems = info.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(
        f"{path}:10:5: demo.requirements[0](kindergarten).max_time_min: "
        "Input should be greater than 0"
    )
    assert problems[1] == (
        f"{other}:11:5: demo.requirements[0](kindergarten).target_coverage: "
        "no source for target_coverage; add sources.target_coverage with ref "
        "and tag"
    )


def test_syntax_error_has_position(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("name: {zh: 演示, en: demo}", "name: {zh: 演示, en: demo"))
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:") and "YAML syntax error" in problem
