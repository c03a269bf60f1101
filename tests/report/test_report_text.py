"""The one en/zh text table of the report outputs."""

from __future__ import annotations

import string

import pytest

from circles.report.text import LANGUAGES, TEXT, THRESHOLD_KEYS, say, text_for
from circles.report.values import THRESHOLD_WORDS


def test_both_languages_have_the_same_keys():
    assert set(LANGUAGES) == set(TEXT)
    assert set(TEXT["en"]) == set(TEXT["zh"])
    assert set(THRESHOLD_KEYS) <= set(TEXT["en"])
    assert {key: TEXT["en"][key] for key in THRESHOLD_KEYS} == THRESHOLD_WORDS


def test_maps_and_comparison_read_the_table():
    assert say("zh", "map_unmet", n="12") == "未达标居民点（12）"
    assert say("en", "map_title", name="Life", pct="50.0 %") == "Life — coverage 50.0 %"
    assert say("fr", "comparison_sheet") == "Comparison"
    assert text_for("zh")["comparison_newly_met_population"] == "新增达标人口"


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="'fr' is not known; use one of: en, zh"):
        text_for("fr")


def test_both_languages_fill_the_same_placeholders():
    fields = string.Formatter()
    for key, english in TEXT["en"].items():
        names_en = {name for _, name, _, _ in fields.parse(english) if name is not None}
        names_zh = {name for _, name, _, _ in fields.parse(TEXT["zh"][key]) if name is not None}
        assert names_en == names_zh, key


def test_rule_views_render_from_the_text_table(monkeypatch):
    from typer.testing import CliRunner

    from circles.cli import app
    from circles.report import rules_view

    monkeypatch.setattr(rules_view, "LANG", "zh")
    runner = CliRunner()
    shown = runner.invoke(app, ["rules", "show", "ems"], env={"COLUMNS": "220"})
    assert shown.exit_code == 0, shown.output
    assert "central：10 分钟" in shown.output and "阈值" in shown.output
    listed = runner.invoke(app, ["rules", "list"], env={"COLUMNS": "220"})
    assert listed.exit_code == 0, listed.output
    assert "圈层" in listed.output and "national_3h" in listed.output
