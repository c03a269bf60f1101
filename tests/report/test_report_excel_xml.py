"""Tests for circles.report.excel_xml: the workbook reads back as openpyxl wrote it cell by cell.

Each workbook is written twice, by the writer and by the frozen openpyxl reference
(tests/report/excel_reference.py), and both are read with openpyxl: sheets, cell values and
types, number formats, fonts, fills, alignments, column widths, row heights, frozen panes,
filters, conditional formats, print setup, hyperlinks and data validations must be the same.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from circles.audit import AuditResult, run_audit
from circles.project import load_project
from circles.report import excel
from circles.report.checkup import checkup_table
from circles.report.excel import write_workbook
from circles.report.excel_xml import cell_xml, table_rows
from circles.settings import merge
from tests.conftest import ROOT
from tests.report import excel_reference

EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()))


def _cells(ws) -> dict[tuple[int, int], tuple]:
    """Every cell openpyxl read with a value or a style (an unstyled empty cell is no cell)."""
    styles: dict[tuple, str] = {}  # the style of a cell, described once per style id

    def style(cell) -> str:
        key = tuple(cell._style)
        if key not in styles:
            parts = (cell.font, cell.fill, cell.alignment, cell.border, cell.protection)
            # the styles themselves (not openpyxl's proxies), as text to compare quickly
            styles[key] = repr([cell.number_format, *(copy.copy(part) for part in parts)])
        return styles[key]

    return {
        key: (cell.value, type(cell.value), cell.data_type, style(cell))
        for key, cell in ws._cells.items()
        if cell.value is not None or cell.has_style
    }


def _sheet_setup(ws) -> dict:
    rules = [
        (str(cf.sqref), [(rule.type, repr(rule.colorScale)) for rule in cf.rules])
        for cf in ws.conditional_formatting
    ]
    return {
        "freeze_panes": ws.freeze_panes,
        "auto_filter": ws.auto_filter.ref,
        "widths": {k: (d.width, d.customWidth) for k, d in ws.column_dimensions.items()},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height is not None},
        "conditional_formats": rules,
        "validations": [repr(v) for v in ws.data_validations.dataValidation],
        "hyperlinks": [repr(link) for link in ws._hyperlinks],
        "merged": [str(r) for r in ws.merged_cells.ranges],
        "orientation": ws.page_setup.orientation,
        "paper": ws.page_setup.paperSize,
        "fit": (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight),
        "fit_to_page": ws.sheet_properties.pageSetUpPr.fitToPage,
        "print_titles": ws.print_title_rows,
        "max": (ws.max_row, ws.max_column),
    }


def assert_same_workbook(new: Path, old: Path) -> None:
    """The two workbooks read back the same with openpyxl."""
    a, b = _load(new), _load(old)
    assert a.sheetnames == b.sheetnames
    assert list(a.defined_names) == list(b.defined_names)
    for title in a.sheetnames:
        assert _sheet_setup(a[title]) == _sheet_setup(b[title]), title
        cells_a, cells_b = _cells(a[title]), _cells(b[title])
        assert cells_a.keys() == cells_b.keys(), title
        for key, value in cells_a.items():
            expected = cells_b[key]
            same = (
                value == expected
                or (  # NaN is not NaN
                    isinstance(value[0], float)
                    and math.isnan(value[0])
                    and value[1:] == expected[1:]
                )
            )
            assert same, (title, key, value, expected)


def _both(tmp_path: Path, name: str, *args, monkeypatch=None, **options) -> tuple[Path, Path]:
    new, old = tmp_path / f"{name}-new.xlsx", tmp_path / f"{name}-old.xlsx"
    write_workbook(new, *args, **options)
    excel_reference.write_workbook(old, *args, **options)
    return new, old


def _odd_residents(rows: int) -> pd.DataFrame:
    """Several thousand residents with every kind of column and the values openpyxl treats apart."""
    rng = np.random.default_rng(17)
    minutes = rng.random(rows) * 30
    minutes[rng.random(rows) < 0.3] = np.nan
    odd_floats = [382.0, 0.1 + 0.2, 1 / 3, 1e15, 1e16, 1.5e16, 1e-5, -0.0, 1e300, 5e-324, np.inf]
    floats = np.resize(np.array([*odd_floats, -np.inf, np.nan, 2.5, 123456789012345.6]), rows)
    texts = [
        "ok",
        "",
        " lead",
        "trail ",
        "   ",
        "\u3000江汉\u3000",
        "=SUM(A1:A2)",
        "=",
        "#N/A",
        "#DIV/0!",
        "a < b & c > d",
        "tab\there",
        "bell\x07",
        "line\nbreak",
        "江汉区民权街道",
    ]
    texts = np.resize(np.array(texts, dtype=object), rows)
    texts[3] = "x" * 33_000  # beyond the cell limit: cut
    mixed = [1, 2.5, "text", None, True, Decimal("1.25"), dt.date(2024, 5, 1), np.int64(7)]
    frame = pd.DataFrame(
        {
            "resident_id": [f"R{i:06d}" for i in range(rows)],
            "community_id": np.resize(np.array(["民权", "unassigned", "west"]), rows),
            "population": rng.integers(1, 900, rows).astype(float),
            "kindergarten_min": minutes.round(3),
            "raw_min": minutes,  # 17 significant digits
            "odd_float": floats,
            "float32": minutes.astype(np.float32),
            "text": texts.astype(str),
            "text_missing": pd.array(
                np.resize(np.array(["a", None, " b"], dtype=object), rows), dtype="str"
            ),
            "life_15min": rng.integers(0, 2, rows).astype(np.int8),
            "count": rng.integers(-5, 5, rows),
            "big": np.resize(np.array([0, 10**15, 10**16, -(10**17), 2**62]), rows),
            "reached": pd.array(
                np.resize(np.array([8, None, 0], dtype=object), rows), dtype="Int64"
            ),
            "uint": np.resize(np.array([0, 2**64 - 1], dtype=np.uint64), rows),
            "flag": rng.random(rows) < 0.5,
            "flag_missing": pd.array(
                np.resize(np.array([True, None, False], dtype=object), rows), dtype="boolean"
            ),
            "mixed": np.resize(np.array(mixed, dtype=object), rows),
            "text_object": pd.Series(texts, dtype=object).where(np.arange(rows) % 5 > 0, None),
            "when": pd.to_datetime(
                np.resize(np.array(["2024-01-02 00:00", None, "2024-03-04 05:06"]), rows)
            ),
            "zone": pd.Categorical(np.resize(np.array(["central", "new_urban", None]), rows)),
        }
    )
    return frame


@pytest.fixture(scope="module")
def example() -> AuditResult:
    """The example district's audit with the facility-side view."""
    return run_audit(merge(load_project(EXAMPLE), {"facility_impact": True}))


def test_the_example_district_workbook_reads_back_as_openpyxl_wrote_it(
    tmp_path: Path, example: AuditResult
):
    result = example
    assert result.facility_impact is not None and len(result.facility_impact)
    checkup = checkup_table(result.summary, result.coverage, result.residents)
    new, old = _both(
        tmp_path,
        "example",
        result.summary,
        result.coverage,
        residents=result.residents,
        facility_impact=result.facility_impact,
        checkup=checkup,
    )
    assert_same_workbook(new, old)


def test_the_hand_made_audit_workbook_reads_back_as_openpyxl_wrote_it(tmp_path: Path, audit):
    """Headings, notes, unverified numbers and gaps: every cell style of the small sheets."""
    new, old = _both(tmp_path, "fixture", *audit, lang="zh")
    assert_same_workbook(new, old)


def test_a_residents_sheet_of_every_kind_of_column_reads_back_the_same(tmp_path: Path, audit):
    residents = _odd_residents(2_000)
    new, old = _both(tmp_path, "odd", *audit, residents=residents)
    assert_same_workbook(new, old)
    ws = _load(new)["Residents"]
    header = [cell.value for cell in ws[1]]
    row = {h: c.value for h, c in zip(header, ws[7], strict=True)}  # the sixth resident
    assert row["text"] == "\u3000江汉\u3000"
    assert row["odd_float"] == 1.5e16  # "%.16g": an exponent, a float


def test_residents_beyond_the_row_limit_go_on_as_before(tmp_path: Path, audit, monkeypatch):
    for module in (excel, excel_reference):
        monkeypatch.setattr(module, "_EXCEL_MAX_ROWS", 101)  # a hundred residents a sheet
    monkeypatch.setattr(excel, "_RESIDENT_CHUNK_ROWS", 30)
    new, old = _both(tmp_path, "limit", *audit, residents=_odd_residents(250))
    assert _load(new).sheetnames[-3:] == ["Residents", "Residents 2", "Residents 3"]
    assert_same_workbook(new, old)


def test_an_empty_residents_table_has_its_header_only(tmp_path: Path, audit):
    new, old = _both(tmp_path, "empty", *audit, residents=_odd_residents(10).iloc[:0])
    assert_same_workbook(new, old)


def test_cells_are_written_as_openpyxl_writes_them():
    assert cell_xml(None) == "<c/>"
    assert cell_xml(None, 3) == '<c s="3"/>'
    assert cell_xml(382.0) == "<c><v>382</v></c>"
    assert cell_xml(0.1 + 0.2) == "<c><v>0.3</v></c>"  # "%.16g"
    assert cell_xml(value=True, style_id=2) == '<c s="2" t="b"><v>1</v></c>'
    assert cell_xml("") == '<c t="inlineStr"/>'
    assert cell_xml(" a") == '<c t="inlineStr"><is><t xml:space="preserve"> a</t></is></c>'
    assert cell_xml("  ") == '<c t="inlineStr"><is><t>  </t></is></c>'
    assert cell_xml("=A1&B1") == "<c><f>A1&amp;B1</f><v/></c>"
    assert cell_xml("#N/A") == '<c t="e"><v>#N/A</v></c>'


def test_a_table_is_written_in_chunks_of_rows():
    frame = pd.DataFrame({"a": [1.5, np.nan, 3.0], "b": ["x", None, "<"]})
    chunks = [bytes(chunk).decode() for chunk in table_rows(frame, 2, 2)]
    assert chunks == [
        '<row r="2"><c><v>1.5</v></c><c t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="3"><c/><c/></row>',
        '<row r="4"><c><v>3</v></c><c t="inlineStr"><is><t>&lt;</t></is></c></row>',
    ]


def test_the_package_is_a_valid_zip_with_the_rows_in_each_sheet(tmp_path: Path, audit):
    path = tmp_path / "report.xlsx"
    write_workbook(path, *audit, residents=_odd_residents(50))
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        names = package.namelist()
        sheets = [name for name in names if name.startswith("xl/worksheets/sheet")]
        for name in sheets:
            text = package.read(name).decode()
            assert text.count("<sheetData>") == text.count("</sheetData>") == 1
            assert text.index('<row r="1"') < text.index("</sheetData>")


def test_a_sheet_beyond_the_zip_limit_is_written_again_with_zip64(
    tmp_path: Path, audit, monkeypatch
):
    """Only a sheet that needs it gets ZIP64 (Excel may want to repair it elsewhere)."""
    residents = _odd_residents(300)
    plain = tmp_path / "plain.xlsx"
    write_workbook(plain, *audit, residents=residents)
    with zipfile.ZipFile(plain) as package:
        assert all(not info.extra for info in package.infolist())
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 50_000)  # the residents' rows are more
    new, old = _both(tmp_path, "zip64", *audit, residents=residents)
    with zipfile.ZipFile(new) as package:
        sheets = len(package.namelist()) and _load(new).sheetnames
        zip64 = [info.filename for info in package.infolist() if info.extra]
    assert zip64 == [f"xl/worksheets/sheet{len(sheets)}.xml"]  # Residents, the last sheet
    assert_same_workbook(new, old)
