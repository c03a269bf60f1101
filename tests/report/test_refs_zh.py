"""Tests for circles.report.refs_zh and values.ref_text: sources in the Chinese workbook."""

from __future__ import annotations

from circles.report.refs_zh import REFS_ZH
from circles.report.text import text_for
from circles.report.values import ref_text
from circles.rules.load import load_rules, presets_root

ZH, EN = text_for("zh"), text_for("en")


def _bundled_refs() -> set[str]:
    refs: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("ref"), str):
                refs.add(value["ref"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for loaded in load_rules(sorted(presets_root().glob("*/*.yaml"))):
        walk(loaded.circle.model_dump())
        refs.update(row.source.ref for row in loaded.hub_table)
    return refs


def test_every_bundled_english_ref_has_a_chinese_rendering():
    refs = _bundled_refs()
    marker = ZH["ref_untranslated"].format(ref="")
    untranslated = sorted(ref for ref in refs if ref_text(ref, ZH).startswith(marker))
    assert untranslated == []
    unused = sorted(
        key for key in REFS_ZH if key not in refs and not key.startswith(("--", "第七次"))
    )
    assert unused == [], "renderings of refs no bundled rule has"


def test_ref_text_in_english_is_the_ref_and_others_are_marked():
    assert ref_text("circles default: no Wuhan coverage target found", EN) == (
        "circles default: no Wuhan coverage target found"
    )
    assert ref_text("circles default: no Wuhan coverage target found", ZH) == (
        "circles 默认值：未找到武汉的覆盖率目标"
    )
    own = "my own survey of the district"
    assert ref_text(own, ZH) == f"（英文原文）{own}"
    assert ref_text("GB 50180-2018 城市居住区规划设计标准 附录C", ZH) == (
        "GB 50180-2018 城市居住区规划设计标准 附录C"
    )
    assert ref_text(None, ZH) is None
