"""More bad input: CRS mix-ups, formats, YAML bombs, rule-file edge cases, the --out folder.

Same style as ``tests/test_bad_input.py``: each case builds one malformed input from the ``toy``
district in ``tmp_path``, runs the CLI through Typer's CliRunner and compares the whole output
(``{d}`` stands for the tmp folder, ``{out}`` for the --out folder) with one ``error:`` line, or
for rule-file problems one line per problem and an ``error: N problems...`` line. Then the
remedies the messages name are shown to work.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon
from typer.testing import CliRunner

from circles.cli import app
from circles.evaluate.zones import zone_values
from circles.inputs.read import read_layer, split_layer
from circles.report.files import REPORT_FILES
from circles.rules.load import presets_root
from circles.rules.yaml_limits import MAX_EXPANDED_VALUES, expanded_size
from tests.conftest import CRS
from tests.test_bad_input import (
    TOY_PROJECT,
    Case,
    Toy,
    _assert_clean_failure,
    _expand,
    _folder,
    _no_report_left,
    _read,
    _text,
    audit_args,
    case,
    project,
)

runner = CliRunner()

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=False)
)
BOMB_MESSAGE = (
    "its aliases (*name) expand to more than 100,000 values, which no rule or project file "
    "needs (a YAML alias bomb?); write the values out or use fewer aliases"
)


# --------------------------------------------------------------------------- builders


def _lonlat_shapefile(toy: Toy, role: str) -> Path:
    """The toy layer in longitude/latitude, as a shapefile without its .prj (no CRS)."""
    path = _folder(toy, f"{role}_shp") / f"{role}.shp"
    _read(toy, role).to_crs("EPSG:4326").to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def degrees_as_metres(role: str, *extra: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(
        toy, out, "--crs", CRS, *extra, **{role: _lonlat_shapefile(toy, role)}
    )


def degrees_as_metres_in_project(toy: Toy, out: Path) -> list[str]:
    res = _lonlat_shapefile(toy, "residents")
    text = TOY_PROJECT.replace("residents.gpkg", str(res.relative_to(toy["dir"])))
    return ["audit", str(_text(toy, "circles.yaml", text + f"crs: {CRS}\n")), "--out", str(out)]


def csv_xy_in_degrees(toy: Toy, out: Path) -> list[str]:
    path = _text(toy, "pois.csv", "id,type,x,y\nK1,kindergarten,114.30,30.55\n")
    return audit_args(toy, out, "--crs", CRS, facilities=path)


def rule_file(text: str, name: str = "rule.yaml") -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, rules=_text(toy, name, text))


def toy_rule_with(old: str, new: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        text = toy["rules"].read_text(encoding="utf-8").replace(old, new)
        return audit_args(toy, out, rules=_text(toy, "changed.yaml", text))

    return make


def osm_xml(name: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        path = toy["dir"] / name
        path.write_bytes(b"<?xml version='1.0'?><osm version='0.6'></osm>")
        return audit_args(toy, out, network=path)

    return make


def out_is(where: Callable[[Toy], Path]) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        args = audit_args(toy, out)
        args[args.index("--out") + 1] = str(where(toy))
        return args

    return make


def garbage_named(role: str, name: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        path = toy["dir"] / name
        path.write_bytes(b"not a table at all\x00\x01" * 50)
        return audit_args(toy, out, **{role: path})

    return make


def _two_layer_gpkg(toy: Toy) -> Path:
    path = toy["dir"] / "both.gpkg"
    _read(toy, "facilities").to_file(path, layer="facilities")
    _read(toy, "residents").to_file(path, layer="residents")
    return path


def gpkg_layer(layer: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, facilities=f"{_two_layer_gpkg(toy)}:{layer}")


# --------------------------------------------------------------------------- the corpus


CASES = [
    # CRS mix-ups: degrees read as metres
    case(
        "residents-degrees-read-as-metres",
        degrees_as_metres("residents"),
        "error: residents file {d}/residents_shp/residents.shp has no CRS and its coordinates "
        "look like longitude/latitude (x 117.001 to 117.01, y 30.5522 to 30.5614), not metres of "
        "EPSG:32650; pass --coords residents=wgs84 (or gcj02, bd09), or give the file its CRS "
        "(a .prj)",
    ),
    case(
        "communities-degrees-read-as-metres",
        degrees_as_metres("communities"),
        "error: communities file {d}/communities_shp/communities.shp has no CRS and its "
        "coordinates look like longitude/latitude (x 116.999 to 117.022, y 30.552 to 30.5714), "
        "not metres of EPSG:32650; pass --coords communities=wgs84 (or gcj02, bd09), or give the "
        "file its CRS (a .prj)",
    ),
    case(
        "degrees-read-as-metres-of-project-crs",
        degrees_as_metres_in_project,
        "error: residents file {d}/residents_shp/residents.shp has no CRS and its coordinates "
        "look like longitude/latitude (x 117.001 to 117.01, y 30.5522 to 30.5614), not metres of "
        "EPSG:32650; pass --coords residents=wgs84 (or gcj02, bd09), or give the file its CRS "
        "(a .prj)",
    ),
    case(
        "csv-xy-in-degrees",
        csv_xy_in_degrees,
        "error: facilities file {d}/pois.csv has no CRS and its coordinates look like "
        "longitude/latitude (x 114.3 to 114.3, y 30.55 to 30.55), not metres of EPSG:32650; pass "
        "--coords facilities=wgs84 (or gcj02, bd09), or give the file its CRS (a .prj)",
    ),
    # formats
    case(
        "network-osm-xml",
        osm_xml("district.osm"),
        "error: network file {d}/district.osm is OSM XML, which circles does not read; convert "
        "it to PBF (osmium cat district.osm -o district.osm.pbf) and pass the .osm.pbf",
    ),
    case(
        "network-osm-xml-bz2",
        osm_xml("district.osm.bz2"),
        "error: network file {d}/district.osm.bz2 is OSM XML, which circles does not read; "
        "convert it to PBF (osmium cat district.osm.bz2 -o district.osm.pbf) and pass the "
        ".osm.pbf",
    ),
    case(
        "garbage-parquet",
        garbage_named("facilities", "pois.parquet"),
        "error: cannot read facilities file {d}/pois.parquet (Could not open Parquet input "
        "source: Parquet magic bytes not found in footer. Either the file is corrupted or this "
        "is not a parquet file.); give a GeoParquet or a Parquet table with lon/lat or x/y "
        "columns",
    ),
    case(
        "garbage-xlsx",
        garbage_named("facilities", "pois.xlsx"),
        "error: cannot read facilities file {d}/pois.xlsx (BadZipFile: File is not a zip file); "
        "save it as .xlsx from Excel, or as CSV",
    ),
    case(
        "old-xls",
        garbage_named("facilities", "pois.xls"),
        "error: facilities file {d}/pois.xls is an old Excel .xls workbook; save it as .xlsx "
        "(or CSV)",
    ),
    case(
        "gpkg-unknown-layer",
        gpkg_layer("shops"),
        "error: facilities file {d}/both.gpkg has no layer 'shops'; its layers: facilities, "
        "residents; give both.gpkg:LAYER",
    ),
    # YAML bombs
    case(
        "rule-file-alias-bomb",
        rule_file(BOMB, "bomb.yaml"),
        "{d}/bomb.yaml:1:1: file: " + BOMB_MESSAGE + "\nerror: 1 problem in the rule files",
    ),
    case(
        "project-file-alias-bomb",
        project(TOY_PROJECT + BOMB),
        "error: {d}/circles.yaml: " + BOMB_MESSAGE,
    ),
    case(
        "project-value-not-echoed-in-full",
        project(TOY_PROJECT.replace("network: roads.geojson", "network: [" + "1, " * 999 + "1]")),
        "error: {d}/circles.yaml: network [" + "1, " * 19 + "1… must be a single value, not a "
        "list or mapping",
    ),
    case(
        "rule-file-nested-too-deeply",
        rule_file("id: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml"),
        "{d}/deep.yaml:1:1: file: values nested too deeply; flatten the file\n"
        "error: 1 problem in the rule files",
    ),
    # rule files
    case(
        "rule-file-empty",
        rule_file("", "empty.yaml"),
        "{d}/empty.yaml:1:1: file: the rule file is empty; describe one circle (id, name, mode, "
        "requirements), see rules/README.md\nerror: 1 problem in the rule files",
    ),
    case(
        "rule-file-only-comments",
        rule_file("# a circle, one day\n", "comments.yaml"),
        "{d}/comments.yaml:1:1: file: the rule file holds only comments; describe one circle "
        "(id, name, mode, requirements), see rules/README.md\nerror: 1 problem in the rule files",
    ),
    case(
        "min-count-absurd",
        toy_rule_with("min_count: 2", "min_count: 1000000000"),
        "{d}/changed.yaml:11:5: toy.requirements[0](two_kindergartens).min_count: min_count "
        "1,000,000,000 is not a sane count (at most 100); give how many facilities must lie "
        "within the threshold\nerror: 1 problem in the rule files",
    ),
    # the --out folder
    case(
        "out-is-the-data-folder",
        out_is(lambda toy: toy["dir"]),
        "error: --out {d} holds the input {d}/roads.geojson; a report folder is replaced as a "
        "whole, so give a folder of its own (e.g. --out circles-report)",
    ),
    case(
        "out-contains-the-data-folder",
        out_is(lambda toy: toy["dir"].parent),
        "error: --out {p} holds the input {d}/roads.geojson; a report folder is replaced as a "
        "whole, so give a folder of its own (e.g. --out circles-report)",
    ),
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_more(toy: Toy, bad: Case) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, bad.make(toy, out))
    expected = [
        line.replace("{p}", str(toy["dir"].parent)) for line in _expand(bad.expected, toy, out)
    ]
    _assert_clean_failure(result, expected)
    _no_report_left(out)


# --------------------------------------------------------------------------- rules check


def _hub_rule(folder: Path, table: str) -> Path:
    """The bundled commute circle in ``folder`` with its table at ``table``."""
    source = presets_root() / "wuhan" / "5_commute_1h.yaml"
    text = source.read_text(encoding="utf-8").replace("tables/commute_1h.csv", table)
    path = folder / "commute.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HUB_TABLE = "hub,destination,minutes,ref,tag\n江汉路,core_hankou,3,test,default\n"


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_hub_table_outside_the_rule_folder_is_refused(tmp_path: Path, how: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    outside = tmp_path / "secret.csv"
    outside.write_text(HUB_TABLE, encoding="utf-8")
    table = {"dotdot": "../secret.csv", "absolute": str(outside), "symlink": "link.csv"}[how]
    if how == "symlink":
        (rules / "link.csv").symlink_to(outside)
    path = _hub_rule(rules, table)
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        f"{path}:17:3: commute_1h.hub.table: {table!r} lies outside the rule file's folder "
        f"{rules}; put the table in that folder and name it relative to the rule file",
        "error: 1 problem in the rule files",
    ]


def test_hub_table_inside_the_rule_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.csv").write_text(HUB_TABLE, encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(_hub_rule(tmp_path, "tables/t.csv"))])
    assert result.exit_code == 0, result.output
    assert result.output == "ok: 1 circles in 1 files: commute_1h\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "{d}: no rule files (*.yaml) found"),
        (
            {"a.yaml": "\n\n"},
            "{d}/a.yaml:1:1: file: the rule file is empty; describe one circle (id, name, mode, "
            "requirements), see rules/README.md",
        ),
    ],
    ids=["empty-folder", "folder-of-an-empty-file"],
)
def test_rules_check_refuses_empty_rules(tmp_path: Path, files: dict, expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        expected.replace("{d}", str(tmp_path)),
        "error: 1 problem in the rule files",
    ]


def test_yaml_anchors_within_reason_are_fine() -> None:
    shared = {"ref": "test", "tag": "default"}
    tree = {"sources": {"a": shared, "b": shared}, "list": [shared] * 50}
    # the root and its 2 keys; sources and its 2 keys, twice the shared map (itself, 4 scalars);
    # the list and 50 times the shared map
    assert expanded_size(tree) == 3 + 3 + 2 * 5 + 1 + 50 * 5
    looped: list = []
    looped.append(looped)
    assert expanded_size(looped) > MAX_EXPANDED_VALUES


# --------------------------------------------------------------------------- one-line errors


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["rules", "check", "wuhan"], "circles.rules.load.load_rules"),
        (["compare", "a", "b"], "circles.report.compare_report.read_report"),
        (["facilities", "classify", "x.csv"], "circles.catalogue.poi.classify_file"),
    ],
    ids=["rules-check", "compare", "facilities-classify"],
)
def test_commands_turn_a_bug_into_one_line(monkeypatch, args: list[str], target: str) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("boom")

    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", broken)
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert result.output.splitlines() == [
        "error: internal error (KeyError: 'boom'); please report it with the command that caused it"
    ]


def test_abort_is_one_line(monkeypatch) -> None:
    import typer

    def aborted(*_: object, **__: object) -> None:
        raise typer.Abort()

    monkeypatch.setattr("circles.rules.load.load_rules", aborted)
    result = runner.invoke(app, ["rules", "check", "wuhan"])
    assert result.exit_code == 1, result.output
    assert result.output == "aborted\n"


# --------------------------------------------------------------------------- remedies work


def _ok(result) -> None:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_degrees_with_coords_read_as_wgs84(toy: Toy) -> None:
    out = toy["dir"] / "report"
    args = degrees_as_metres("residents", "--coords", "residents=wgs84", "-q")(toy, out)
    _ok(runner.invoke(app, args))


def test_geoparquet_and_plain_parquet_facilities(toy: Toy) -> None:
    layer = _read(toy, "facilities")
    geo = toy["dir"] / "pois.parquet"
    layer.to_parquet(geo)
    plain = toy["dir"] / "pois_plain.parquet"
    lonlat = layer.to_crs("EPSG:4326")
    table = pd.DataFrame(
        {
            "id": layer["id"],
            "type": layer["type"],
            "lon": lonlat.geometry.x,
            "lat": lonlat.geometry.y,
        }
    )
    table.to_parquet(plain)
    for path in (geo, plain):
        out = toy["dir"] / f"report_{path.stem}"
        _ok(runner.invoke(app, [*audit_args(toy, out, facilities=path), "-q"]))
        facilities = pd.read_csv(out / "facilities.csv")
        assert facilities["facility_id"].tolist() == ["K1", "K2", "M1"]
        assert (facilities["status"] == "ok").all()


def _excel(toy: Toy, name: str) -> Path:
    """The toy facilities as an Excel workbook: a notes sheet first, then Amap-like lng/lat."""
    lonlat = _read(toy, "facilities").to_crs("EPSG:4326")
    path = toy["dir"] / name
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["exported 2024"]}).to_excel(writer, sheet_name="notes", index=False)
        pd.DataFrame(
            {
                "id": lonlat["id"],
                "type": lonlat["type"],
                "location": [f"{p.x:.7f},{p.y:.7f}" for p in lonlat.geometry],
            }
        ).to_excel(writer, sheet_name="pois", index=False)
    return path


def test_excel_facilities_from_a_named_sheet(toy: Toy) -> None:
    path = _excel(toy, "pois.xlsx")
    out = toy["dir"] / "report"
    _ok(runner.invoke(app, [*audit_args(toy, out, facilities=f"{path}:pois"), "-q"]))
    facilities = pd.read_csv(out / "facilities.csv")
    assert facilities["facility_id"].tolist() == ["K1", "K2", "M1"]
    assert (facilities["status"] == "ok").all()


def test_excel_first_sheet_without_coordinates_says_so(toy: Toy) -> None:
    path = _excel(toy, "pois.xlsx")
    out = toy["dir"] / "report"
    result = runner.invoke(app, audit_args(toy, out, facilities=path))
    _assert_clean_failure(
        result,
        [
            f"error: facilities file {path} has no coordinate columns; expected lon/lat (or "
            "lng/lat, 经度/纬度, a 'location' column of \"lng,lat\") or x/y; found: note"
        ],
    )
    result = runner.invoke(app, audit_args(toy, out, facilities=f"{path}:shops"))
    _assert_clean_failure(
        result,
        [
            f"error: facilities file {path} has no sheet 'shops'; its sheets: notes, pois; give "
            "pois.xlsx:SHEET"
        ],
    )


def test_gpkg_with_several_layers_warns_and_reads_the_chosen_one(toy: Toy) -> None:
    path = _two_layer_gpkg(toy)
    warnings: list[str] = []
    first = read_layer(path, "facilities", warnings=warnings)
    assert first["id"].tolist() == ["K1", "K2", "M1"]
    assert warnings == [
        "facilities file both.gpkg holds 2 layers; read the first, 'facilities' (others: "
        "'residents'); choose one with both.gpkg:LAYER"
    ]
    warnings.clear()
    chosen = read_layer(Path(f"{path}:residents"), "residents", warnings=warnings)
    assert chosen["id"].tolist() == ["R1", "R2", "R3", "R4"] and warnings == []


def test_split_layer(tmp_path: Path) -> None:
    colon = tmp_path / "a:b.gpkg"
    colon.write_bytes(b"")
    assert split_layer(colon) == (colon, None)  # exists as given
    assert split_layer(Path(f"{tmp_path}/x.gpkg:roads")) == (tmp_path / "x.gpkg", "roads")
    assert split_layer(Path(f"{tmp_path}/x.xlsx:Sheet 2")) == (tmp_path / "x.xlsx", "Sheet 2")
    assert split_layer(Path("C:\\data\\x.gpkg")) == (Path("C:\\data\\x.gpkg"), None)
    assert split_layer(Path("C:\\data\\x.gpkg:roads")) == (Path("C:\\data\\x.gpkg"), "roads")
    assert split_layer(Path("C:x.gpkg")) == (Path("C:x.gpkg"), None)
    assert split_layer(Path(f"{tmp_path}/x.csv:roads")) == (Path(f"{tmp_path}/x.csv:roads"), None)
    assert split_layer(Path("d:ir/x.gpkg")) == (Path("d:ir/x.gpkg"), None)
    assert split_layer(Path("x.gpkg:a:b")) == (Path("x.gpkg"), "a:b")


def test_overlapping_zones_are_counted_and_the_first_wins() -> None:
    zones = gpd.GeoDataFrame(
        {"zone": ["central", "new_urban", "central"]},
        geometry=[
            Polygon([(0, 0), (10, 0), (10, 10), (0, 10)]),
            Polygon([(5, 0), (20, 0), (20, 10), (5, 10)]),
            Polygon([(0, 0), (3, 0), (3, 3), (0, 3)]),
        ],
    )
    points = np.array([Point(1, 1), Point(7, 5), Point(15, 5), Point(50, 50), None], dtype=object)
    warnings: list[str] = []
    values = zone_values(points, zones, "zone", warnings, name="zones.gpkg")
    assert values.tolist() == ["central", "central", "new_urban", "", ""]
    assert warnings == [
        "zones file zones.gpkg: 1 residents lie in more than one zone polygon of different "
        "values (overlapping polygons, or on a shared edge); each takes the value of the first "
        "of them in the file (e.g. 'central' over 'new_urban'); make the zone polygons disjoint "
        "to decide otherwise"
    ]
    assert shapely.is_valid(zones.geometry).all()


# --------------------------------------------------------------------------- --overwrite


def test_overwrite_replaces_the_report_folder_as_a_whole(toy: Toy) -> None:
    out = toy["dir"] / "report"
    (out / "maps").mkdir(parents=True)
    (out / "maps" / "old_circle.png").write_bytes(b"stale")
    (out / "planned").mkdir()
    (out / "planned" / "summary.json").write_text("{}", encoding="utf-8")
    for name in REPORT_FILES:
        (out / name).write_text("earlier\n", encoding="utf-8")
    stale = toy["dir"] / ".report.999999999.abc.tmp"  # a killed run's staging folder
    stale.mkdir()
    (stale / "residents.csv").write_text("half\n", encoding="utf-8")
    refused = runner.invoke(app, audit_args(toy, out))
    assert refused.exit_code == 2 and "already holds" in refused.output
    _ok(runner.invoke(app, [*audit_args(toy, out), "--overwrite", "-q"]))
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    assert not stale.exists()
    assert not list(toy["dir"].glob(".report.*.tmp"))


def test_overwrite_refuses_a_folder_with_other_files(toy: Toy) -> None:
    out = toy["dir"] / "report"
    out.mkdir()
    (out / "notes.docx").write_bytes(b"mine")
    (out / "summary.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, [*audit_args(toy, out), "--overwrite"])
    _assert_clean_failure(
        result,
        [
            f"error: output folder {out} holds files that are not part of a circles report "
            "(notes.docx); the report folder is replaced as a whole: choose a new or empty --out"
        ],
    )
    assert (out / "notes.docx").read_bytes() == b"mine"


def test_a_running_stage_is_left_alone(toy: Toy) -> None:
    mine = toy["dir"] / f".report.{os.getppid()}.abc.tmp"  # a live process's staging folder
    mine.mkdir()
    out = toy["dir"] / "report"
    _ok(runner.invoke(app, [*audit_args(toy, out), "-q"]))
    assert mine.exists()
    shutil.rmtree(mine)


def test_empty_rule_file_in_a_rules_folder_stops_the_audit(toy: Toy) -> None:
    (toy["rules"].parent / "draft.yaml").write_text("", encoding="utf-8")
    out = toy["dir"] / "report"
    result = runner.invoke(app, audit_args(toy, out, rules=toy["rules"].parent))
    _assert_clean_failure(
        result,
        [
            f"{toy['rules'].parent}/draft.yaml:1:1: file: the rule file is empty; describe one "
            "circle (id, name, mode, requirements), see rules/README.md",
            "error: 1 problem in the rule files",
        ],
    )
    _no_report_left(out)


def test_real_gcj02_districts_without_prj_are_not_read_as_metres() -> None:
    """Wuhan's districts (GCJ-02 degrees, no .prj) as zones under a metric --crs: refused."""
    from circles.errors import InputDataError
    from tests.conftest import shared

    path = shared("cn_wuhan_districts_gcj02/wuhan_districts.shp")
    with pytest.raises(InputDataError, match=r"pass --coords zones=wgs84 \(or gcj02, bd09\)"):
        read_layer(path, "zones", crs=CRS)
    assert len(read_layer(path, "zones", crs="EPSG:4326")) == 13


@pytest.mark.parametrize("exchange", [True, False], ids=["one-rename", "move-aside"])
def test_staged_output_swaps_the_whole_folder(
    tmp_path: Path, monkeypatch, *, exchange: bool
) -> None:
    from circles.report import staging as circles_io

    if not exchange:  # systems without renameat2: the old folder is moved aside first
        monkeypatch.setattr(circles_io, "_exchange", lambda a, b: False)
    out = tmp_path / "report"
    (out / "maps").mkdir(parents=True)
    (out / "a.csv").write_text("old\n", encoding="utf-8")
    with circles_io.staged_output(
        out, ["a.csv"], overwrite=True, whole=True, known={"a.csv", "maps"}
    ) as stage:
        (stage / "a.csv").write_text("new\n", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]
    assert (out / "a.csv").read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize(
    ("summary", "coverage", "expected"),
    [
        (
            "{bad",
            "a,b\n1,2\n",
            "error: {d} holds a damaged report (JSONDecodeError: Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1)); run the audit again to rewrite it",
        ),
        (
            "{}",
            "a,b\n1,2\n",
            "error: {d} is not a circles report folder (coverage.csv lacks circle_id, "
            "requirement_id, scope, community_id, population_total, population_met, "
            "coverage_ratio); give the --out folder of an audit",
        ),
    ],
    ids=["summary-not-json", "coverage-without-columns"],
)
def test_compare_of_a_damaged_report_is_one_line(
    tmp_path: Path, summary: str, coverage: str, expected: str
) -> None:
    (tmp_path / "summary.json").write_text(summary, encoding="utf-8")
    (tmp_path / "coverage.csv").write_text(coverage, encoding="utf-8")
    result = runner.invoke(app, ["compare", str(tmp_path), str(tmp_path)])
    _assert_clean_failure(result, [expected.replace("{d}", str(tmp_path))])


def test_classify_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    pois = _text({"dir": tmp_path}, "pois.csv", "id,lon,lat\n1,114.3,30.5\n")
    out = tmp_path / "nowhere" / "types.csv"
    result = runner.invoke(app, ["facilities", "classify", str(pois), "-o", str(out)])
    _assert_clean_failure(
        result,
        [
            f"error: cannot write {out} (Cannot save file into a non-existent directory: "
            f"'{out.parent}'); choose another --out"
        ],
    )
