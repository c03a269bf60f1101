"""Tests for circles.report.model_words: the model line in the report's language."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.report.model_words import model_line
from tests.conftest import ROOT

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"


@pytest.fixture(scope="module")
def example_summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("example") / "out"
    result = runner.invoke(app, ["audit", str(EXAMPLE), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_english_line_from_the_parts_is_the_summary_model(example_summary):
    circles = example_summary["circles"]
    assert {c["model_parts"]["kind"] for c in circles} == {"walk", "drive", "hub"}
    for circle in circles:
        assert model_line(circle, "en") == circle["model"]


def test_chinese_line_has_no_english_words_but_ids_and_file_names(example_summary):
    for circle in example_summary["circles"]:
        line = model_line(circle, "zh")
        assert line and line != circle["model"]
        parts = circle["model_parts"]
        ids = {*parts.get("facility_types", []), *parts.get("hub_types", [])}
        rest = re.sub(r"[\w./]+\.csv", "", line)
        words = set(re.findall(r"[A-Za-z_]{3,}", rest)) - ids
        assert not words, (line, words)
    ems = next(c for c in example_summary["circles"] if c["circle_id"] == "ems")
    assert "中心城区 10 分钟 / 新城区 12 分钟，其他地区 12 分钟" in model_line(ems, "zh")


def test_a_summary_without_parts_keeps_its_model():
    assert model_line({"model": "as given"}, "zh") == "as given"
    assert model_line({}, "zh") is None
