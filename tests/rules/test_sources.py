"""The sources users see cite the documents themselves, never the project's research notes."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from circles.cli import app
from circles.report.excel import LABELS
from circles.rules.load import load_rules, presets_root
from tests.conftest import ROOT

runner = CliRunner()
NOTES = "STANDARDS.md"
EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"


def _rule_files() -> list[Path]:
    return sorted(p for p in (ROOT / "rules").rglob("*") if p.is_file() and p.suffix != ".pyc")


def test_no_rule_file_cites_the_research_notes():
    files = _rule_files()
    assert any(p.suffix == ".csv" for p in files) and any(p.suffix == ".yaml" for p in files)
    citing = [str(p.relative_to(ROOT)) for p in files if NOTES in p.read_text(encoding="utf-8")]
    assert citing == []


def _refs(value: object) -> list[str]:
    """Every ``ref`` string in a nested dump of the rule models."""
    if isinstance(value, dict):
        found = [value["ref"]] if isinstance(value.get("ref"), str) else []
        return found + [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def test_every_default_reads_circles_default_and_no_ref_is_a_bare_section():
    files = sorted(presets_root().glob("*/*.yaml"))
    circles = load_rules(files)
    refs: list[tuple[str, str]] = []
    for loaded in circles:
        for source in _sources(loaded.circle.model_dump()):
            refs.append((source["ref"], source["tag"]))
        refs += [(row.source.ref, row.source.tag) for row in loaded.hub_table]
    assert refs
    for ref, tag in refs:
        assert not ref.startswith("§"), ref
        if tag == "default":
            assert ref.startswith("circles default"), ref


def _sources(value: object) -> list[dict]:
    if isinstance(value, dict):
        here = [value] if isinstance(value.get("ref"), str) and "tag" in value else []
        return here + [s for item in value.values() for s in _sources(item)]
    if isinstance(value, list):
        return [s for item in value for s in _sources(item)]
    return []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_output_of_the_example_cites_the_research_notes(tmp_path: Path, lang: str):
    out = tmp_path / "out"
    result = runner.invoke(app, ["audit", str(EXAMPLE), "--out", str(out), "--lang", lang, "-q"])
    assert result.exit_code == 0, result.output
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert NOTES not in summary
    assert _refs(json.loads(summary)), "the summary carries the rules' sources"
    workbook = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    sheet = workbook[LABELS[lang]["sheet_rules"]]
    cells = [v for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    workbook.close()
    assert any("GB 50180" in cell or "circles default" in cell for cell in cells)
    assert not [cell for cell in cells if NOTES in cell]
