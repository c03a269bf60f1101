"""The Chinese workbook of real runs (the example and the toy) is Chinese throughout.

Every cell is scanned for English words (three or more ASCII letters) outside the names of
things: ids (circles, requirements, facility types, zones, destinations, communities, OSM
road classes), file
names and paths, options and parameters, URLs, units and the names of standards and systems.
A warning or reference the text tables do not know is shown as written and marked
（英文原文）; such a cell is not scanned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from circles.cli import app
from tests.conftest import ROOT, toy_cli_args

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"
MARKER = "（英文原文）"

#: Names of standards, systems, units and the like, shown as they are in Chinese text.
NAMES = {
    "circles", "OSM", "GCJ", "WGS", "EPSG", "UTC", "SHA", "GTFS", "CJJ", "ISPRS", "Int", "Geo",
    "Inf", "POI", "CSV", "Excel", "GeoJSON", "BOM", "UTF", "GBK", "pbf", "osm",
}  # fmt: skip
#: Stripped before scanning: URLs, hashes, paths and file names, options, snake_case ids.
_STRIP = re.compile(
    r"https?://\S+"
    r"|\b[0-9a-f]{32,}\b"
    r"|(?:[\w.-]*/)+[\w.-]+"
    r"|[\w.-]+\.(?:csv|yaml|yml|geojson|gpkg|shp|xlsx|json|pbf|osm|parquet)\b"
    r"|--[\w-]+"
    r"|\b\w+_\w+\b"
)
_WORD = re.compile(r"[A-Za-z]{3,}")


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _ids(summary: dict) -> set[str]:
    """The words of the names of things in a summary: ids, parameters, inputs, networks."""
    things: list[object] = [
        summary["run"].get("parameters"),
        list((summary["run"].get("inputs") or {}).keys()),
        summary["run"].get("engine"),
        list((summary.get("networks") or {}).keys()),
        (summary.get("counts") or {}).get("facilities", {}).get("by_type", {}).keys(),
        [c.get("community_id") for c in summary.get("communities") or []],
    ]
    for circle in summary["circles"]:
        things += [circle["circle_id"], circle.get("model_parts")]
        things += [list((circle.get("drive") or {}).get("road_class_km_per_h") or {})]
        things += [[z.get("zone") for z in circle.get("zones") or []]]
        things += [[d.get("destination") for d in circle.get("destinations") or []]]
        for requirement in circle["requirements"]:
            things += [requirement["requirement_id"], requirement.get("facility_types")]
            things += [requirement.get("destinations")]
    words: set[str] = set()
    for thing in things:
        for text in _strings(list(thing) if isinstance(thing, type({}.keys())) else thing):
            words.update(_WORD.findall(text))
    return words


def english_words(workbook: Path, summary: dict) -> dict[str, str]:
    """English words in the workbook's cells (and sheet names) -> a cell they are in."""
    allowed = NAMES | _ids(summary)
    found: dict[str, str] = {}
    book = openpyxl.load_workbook(workbook, read_only=True)
    try:
        for sheet in book.worksheets:
            cells = [sheet.title]
            for row in sheet.iter_rows(values_only=True):
                cells += [value for value in row if isinstance(value, str)]
                # a boolean cell reads TRUE / FALSE in Excel: Chinese shows 是 / 否
                cells += [str(value) for value in row if isinstance(value, bool)]
            for cell in cells:
                if cell.startswith(MARKER):
                    continue
                for word in _WORD.findall(_STRIP.sub(" ", cell)):
                    if word not in allowed:
                        found.setdefault(word, f"{sheet.title}: {cell[:120]}")
    finally:
        book.close()
    return found


def _run(args: list[str], out: Path) -> tuple[Path, dict]:
    result = runner.invoke(app, [*args, "--lang", "zh", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return out / "report.xlsx", summary


def test_the_example_workbook_in_chinese_has_no_english_words(tmp_path: Path):
    out = tmp_path / "out"
    workbook, summary = _run(["audit", str(EXAMPLE), "--out", str(out)], out)
    assert summary["warnings"], "the example's warnings are part of the check"
    assert english_words(workbook, summary) == {}


def test_the_toy_workbook_in_chinese_has_no_english_words(tmp_path: Path, toy: dict[str, Path]):
    out = tmp_path / "out"
    workbook, summary = _run(toy_cli_args(toy, out), out)
    assert english_words(workbook, summary) == {}


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("沿街道网络步行，速度 60 米/分钟", set()),
        ("see network_issues.csv for the rest", {"see", "for", "the", "rest"}),
        ("（英文原文）something rare", set()),
        ("https://example.org/a/b 与 rules/wuhan/1_life_15min.yaml", set()),
    ],
)
def test_the_scan_itself(tmp_path: Path, cell: str, words: set[str]):
    path = tmp_path / "one.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "汇总"
    book.active["A1"] = cell
    book.save(path)
    summary = {"run": {"parameters": {}}, "circles": []}
    assert set(english_words(path, summary)) == words
