"""Bad-input corpus: every malformed input exits 2 with one line naming the thing and the fix.

Each case builds one malformed input from the ``toy`` district in ``tmp_path`` and runs
``circles audit`` through Typer's CliRunner. The whole output is compared with the expected text
(``{d}`` stands for the tmp folder, ``{out}`` for the --out folder): one ``error:`` line, or for
rule-file problems one line per problem and an ``error: N problems...`` line. No traceback, and
no report folder (nor a ``.report.*.tmp`` staging folder) is left behind.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from circles.cli import app
from circles.project import KEYS
from circles.report.files import REPORT_FILES
from tests.conftest import CRS, at

runner = CliRunner()
GDAL_HINT = (
    "the message repeats the path and passes on GDAL's advice to prefix the path with "
    "'<DRIVER>:', which circles cannot take (that path does not exist)"
)

Toy = dict[str, Path]
LAYERS = ("network", "facilities", "residents", "communities")
PROJECT_KEYS = ", ".join(sorted(KEYS))  # the keys project files accept


def audit_args(toy: Toy, out: Path, *extra: str, **paths: Path | str | None) -> list[str]:
    """``circles audit`` on the toy district; ``paths`` replace (or, as None, drop) a layer."""
    given: dict[str, Path | str | None] = {k: toy[k] for k in (*LAYERS, "rules")}
    given.update(paths)
    args = ["audit"]
    for key, value in given.items():
        if value is not None:
            args += [f"--{key}", str(value)]
    return [*args, "--out", str(out), *extra]


def _read(toy: Toy, role: str) -> gpd.GeoDataFrame:
    return gpd.read_file(toy[role])


def _write(toy: Toy, layer: gpd.GeoDataFrame, name: str) -> Path:
    path = toy["dir"] / name
    layer.to_file(path)
    return path


def _garbage(toy: Toy, name: str) -> Path:
    path = toy["dir"] / name
    path.write_bytes(random.Random(name).randbytes(4096))
    return path


def _text(toy: Toy, name: str, text: str) -> Path:
    path = toy["dir"] / name
    path.write_text(text, encoding="utf-8")
    return path


def _with_column(toy: Toy, role: str, column: str, values: list, name: str) -> Path:
    layer = _read(toy, role)
    layer[column] = values
    return _write(toy, layer, name)


def _renamed(toy: Toy, role: str, old: str, new: str, name: str) -> Path:
    return _write(toy, _read(toy, role).rename(columns={old: new}), name)


def _folder(toy: Toy, name: str) -> Path:
    folder = toy["dir"] / name
    folder.mkdir()
    return folder


def _empty(toy: Toy, role: str) -> Path:
    layer = _read(toy, role)
    return _write(toy, layer.iloc[0:0], f"{role}_empty.gpkg")


# --------------------------------------------------------------------------- builders


def missing(role: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, **{role: toy["dir"] / f"no_{role}.gpkg"})


def folder_for(role: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, **{role: _folder(toy, f"{role}_folder")})


def empty(role: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, **{role: _empty(toy, role)})


def garbage(role: str, name: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, **{role: _garbage(toy, name)})


def options(*extra: str) -> Callable[[Toy, Path], list[str]]:
    return lambda toy, out: audit_args(toy, out, *extra)


def truncated_geojson(toy: Toy, out: Path) -> list[str]:
    text = toy["network"].read_text(encoding="utf-8")
    path = _text(toy, "roads_truncated.geojson", text[: len(text) // 2])
    return audit_args(toy, out, network=path)


def csv_without_coordinates(toy: Toy, out: Path) -> list[str]:
    path = _text(toy, "pois.csv", "id,type,east,north\nK1,kindergarten,500050,3380010\n")
    return audit_args(toy, out, facilities=path)


def csv_xy_without_crs(toy: Toy, out: Path) -> list[str]:
    path = _text(toy, "pois.csv", "id,type,x,y\nK1,kindergarten,500050,3380010\n")
    return audit_args(toy, out, facilities=path)


def shapefile_without_prj(toy: Toy, out: Path) -> list[str]:
    path = _folder(toy, "shp") / "residents.shp"
    _read(toy, "residents").to_file(path)
    path.with_suffix(".prj").unlink()
    return audit_args(toy, out, residents=path)


def facilities_kind_column(toy: Toy, out: Path) -> list[str]:
    path = _renamed(toy, "facilities", "type", "kind", "facilities_kind.gpkg")
    return audit_args(toy, out, facilities=path)


def population(values: list, name: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        return audit_args(
            toy, out, residents=_with_column(toy, "residents", "population", values, name)
        )

    return make


def ids(role: str, column: str, values: list, name: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        return audit_args(toy, out, **{role: _with_column(toy, role, column, values, name)})

    return make


def communities_as_points(toy: Toy, out: Path) -> list[str]:
    layer = _read(toy, "communities")
    layer["geometry"] = layer.geometry.centroid
    return audit_args(toy, out, communities=_write(toy, layer, "communities_points.gpkg"))


def network_of_points(toy: Toy, out: Path) -> list[str]:
    layer = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(at(0, 0)), Point(at(100, 0))], crs=CRS
    )
    return audit_args(toy, out, network=_write(toy, layer, "roads_points.geojson"))


def network_of_dots(toy: Toy, out: Path) -> list[str]:
    """Lines without length (both vertices at one place): nothing to walk along."""
    dots = [LineString([at(0, 0), at(0, 0)]), LineString([at(200, 0), at(200, 0)])]
    layer = gpd.GeoDataFrame({"name": ["dot 1", "dot 2"]}, geometry=dots, crs=CRS)
    return audit_args(toy, out, network=_write(toy, layer, "roads_dots.geojson"))


def network_of_empty_lines(toy: Toy, out: Path) -> list[str]:
    layer = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[LineString(), LineString()], crs=CRS)
    return audit_args(toy, out, network=_write(toy, layer, "roads_empty_lines.gpkg"))


def rule_typo(toy: Toy, out: Path) -> list[str]:
    text = toy["rules"].read_text(encoding="utf-8").replace("max_time_min:", "max_time_minutes:")
    return audit_args(toy, out, rules=_text(toy, "typo.yaml", text))


TOY_PROJECT = (
    "network: roads.geojson\nfacilities: facilities.gpkg\nresidents: residents.gpkg\n"
    "communities: communities.gpkg\nrules: rules/toy.yaml\n"
)


def project(text: str) -> Callable[[Toy, Path], list[str]]:
    def make(toy: Toy, out: Path) -> list[str]:
        path = _text(toy, "circles.yaml", text)
        return ["audit", str(path), "--out", str(out)]

    return make


def no_network_given(toy: Toy, out: Path) -> list[str]:
    return audit_args(toy, out, network=None)


def two_missing(toy: Toy, out: Path) -> list[str]:
    d = toy["dir"]
    return audit_args(toy, out, network=d / "no_roads.geojson", residents=d / "no_res.gpkg")


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    make: Callable[[Toy, Path], list[str]]
    expected: str  # the whole output; {d} = the tmp folder, {out} = the --out folder


def case(id_: str, make: Callable[[Toy, Path], list[str]], expected: str):
    return pytest.param(Case(make, expected), id=id_)


CASES = [
    # missing files
    case(
        "missing-network",
        missing("network"),
        "error: network file {d}/no_network.gpkg does not exist; check the path",
    ),
    case(
        "missing-facilities",
        missing("facilities"),
        "error: facilities file {d}/no_facilities.gpkg does not exist; check the path",
    ),
    case(
        "missing-residents",
        missing("residents"),
        "error: residents file {d}/no_residents.gpkg does not exist; check the path",
    ),
    case(
        "missing-communities",
        missing("communities"),
        "error: communities file {d}/no_communities.gpkg does not exist; check the path",
    ),
    case(
        "missing-network-and-residents",
        two_missing,
        "error: network file {d}/no_roads.geojson, residents file {d}/no_res.gpkg do not exist; "
        "check the paths",
    ),
    case(
        "no-network-option",
        no_network_given,
        "error: missing --network; give them as options or in a project file "
        "(circles audit PROJECT.yaml)",
    ),
    # folders instead of files
    case(
        "network-is-folder",
        folder_for("network"),
        "error: network path {d}/network_folder is a folder; give the file itself",
    ),
    case(
        "residents-is-folder",
        folder_for("residents"),
        "error: residents path {d}/residents_folder is a folder; give the file itself",
    ),
    # empty layers
    case(
        "residents-no-rows",
        empty("residents"),
        "error: residents file residents_empty.gpkg has no rows; give at least one resident",
    ),
    case(
        "facilities-no-rows",
        empty("facilities"),
        "error: facilities file facilities_empty.gpkg has no rows; give at least one facility",
    ),
    case(
        "communities-no-rows",
        empty("communities"),
        "error: communities file communities_empty.gpkg holds no polygons; give community "
        "boundaries as polygons, or put a community column on the residents instead",
    ),
    case(
        "network-no-rows",
        empty("network"),
        "error: network file network_empty.gpkg has no rows; give road centre-lines",
    ),
    # unreadable files
    case(
        "garbage-gpkg",
        garbage("residents", "residents.gpkg"),
        "error: cannot read residents file {d}/residents.gpkg (not recognized as being in a "
        "supported file format); give a GeoPackage, GeoJSON, Shapefile or CSV",
    ),
    case(
        "garbage-geojson",
        garbage("facilities", "pois.geojson"),
        "error: cannot read facilities file {d}/pois.geojson (not recognized as being in a "
        "supported file format); give a GeoPackage, GeoJSON, Shapefile or CSV",
    ),
    case(
        "garbage-osm-pbf",
        garbage("network", "district.osm.pbf"),
        "error: cannot read OSM extract {d}/district.osm.pbf (not a valid OSM PBF file: PBF "
        "error: invalid BlobHeader size (> max_blob_header_size)); check that it is a complete "
        ".osm.pbf file",
    ),
    case(
        "truncated-geojson",
        truncated_geojson,
        "error: cannot read network file {d}/roads_truncated.geojson (Failed to read GeoJSON "
        "data; At line 9, character 13: Unterminated object); give a GeoPackage, GeoJSON, "
        "Shapefile or CSV",
    ),
    case(
        "csv-empty-file",
        lambda toy, out: audit_args(toy, out, facilities=_text(toy, "pois.csv", "")),
        "error: facilities file {d}/pois.csv is empty; give a CSV with a header row",
    ),
    case(
        "csv-no-coordinate-columns",
        csv_without_coordinates,
        "error: facilities file {d}/pois.csv has no coordinate columns; expected lon/lat (or "
        "lng/lat, 经度/纬度, a 'location' column of \"lng,lat\") or x/y; found: id, type, east, "
        "north",
    ),
    case(
        "csv-xy-needs-crs",
        csv_xy_without_crs,
        "error: facilities file {d}/pois.csv has x/y columns but no CRS; pass --crs naming the "
        "CRS of x/y (e.g. --crs EPSG:32650), or give lon/lat columns in WGS 84",
    ),
    case(
        "shapefile-without-prj",
        shapefile_without_prj,
        "error: residents file {d}/shp/residents.shp has no CRS; pass --crs with the projected "
        "CRS its coordinates are in (e.g. --crs EPSG:32650), or --coords residents=wgs84 (or "
        "gcj02, bd09) when they are longitude/latitude",
    ),
    # columns
    case(
        "type-column-absent",
        facilities_kind_column,
        "error: column 'type' not found in facilities file facilities_kind.gpkg; available: id, "
        "kind; pass --facility-type-field",
    ),
    case(
        "type-field-misspelt",
        options("--facility-type-field", "typ"),
        "error: column 'typ' not found in facilities file facilities.gpkg; did you mean 'type'? "
        "available: id, type; pass --facility-type-field",
    ),
    case(
        "population-field-misspelt",
        options("--population-field", "populaton"),
        "error: column 'populaton' not found in residents file residents.gpkg; did you mean "
        "'population'? available: id, population; pass --population-field",
    ),
    case(
        "community-field-misspelt",
        options("--community-field", "comunity"),
        "error: column 'comunity' not found in communities file communities.gpkg; did you mean "
        "'community'? available: community; pass --community-field",
    ),
    case(
        "resident-id-field-misspelt",
        options("--resident-id-field", "idd"),
        "error: column 'idd' not found in residents file residents.gpkg; did you mean 'id'? "
        "available: id, population; pass --resident-id-field",
    ),
    case(
        "facility-id-field-misspelt",
        options("--facility-id-field", "fid"),
        "error: column 'fid' not found in facilities file facilities.gpkg; did you mean 'id'? "
        "available: id, type; pass --facility-id-field",
    ),
    case(
        "resident-id-field-unknown",
        options("--resident-id-field", "小区编号"),
        "error: column '小区编号' not found in residents file residents.gpkg; available: id, "
        "population; pass --resident-id-field",
    ),
    # values
    case(
        "population-not-a-number",
        population([100, "many", 50, 25], "residents_text_pop.gpkg"),
        "error: residents file residents_text_pop.gpkg: column 'population' holds 'many' at row "
        "2 (resident R2), not a number; fix the value",
    ),
    case(
        "population-negative",
        population([100, 300, -5, 25], "residents_negative_pop.gpkg"),
        "error: residents file residents_negative_pop.gpkg: column 'population' is negative (-5) "
        "at row 3 (resident R3); population must be >= 0",
    ),
    case(
        "population-infinite",
        population([100, "inf", 50, 25], "residents_inf_pop.gpkg"),
        "error: residents file residents_inf_pop.gpkg: column 'population' holds 'inf' at row 2 "
        "(resident R2), not a number; fix the value",
    ),
    case(
        "duplicate-resident-ids",
        ids("residents", "id", ["R1", "R2", "R2", "R4"], "residents_dup.gpkg"),
        "error: residents file residents_dup.gpkg: column 'id' repeats the id 'R2' (rows 2, 3); "
        "make the ids unique or pass --resident-id-field naming another column",
    ),
    case(
        "duplicate-facility-ids",
        ids("facilities", "id", ["K1", "K1", "M1"], "facilities_dup.gpkg"),
        "error: facilities file facilities_dup.gpkg: column 'id' repeats the id 'K1' (rows 1, "
        "2); make the ids unique or pass --facility-id-field naming another column",
    ),
    case(
        "duplicate-community-names",
        ids("communities", "community", ["west", "west", "empty"], "communities_dup.gpkg"),
        "error: communities file communities_dup.gpkg: column 'community' repeats the id "
        "'west' (rows 1, 2); make the ids unique or pass --community-field naming another column",
    ),
    case(
        "empty-resident-id",
        ids("residents", "id", ["R1", "", "R3", "R4"], "residents_blank_id.gpkg"),
        "error: residents file residents_blank_id.gpkg: column 'id' is empty in 1 row (first: "
        "row 2); fill in the ids or pass --resident-id-field naming another column",
    ),
    case(
        "null-facility-id",
        ids("facilities", "id", ["K1", None, "M1"], "facilities_null_id.gpkg"),
        "error: facilities file facilities_null_id.gpkg: column 'id' is empty in 1 row (first: "
        "row 2); fill in the ids or pass --facility-id-field naming another column",
    ),
    case(
        "blank-community-name",
        ids("communities", "community", ["west", " ", "empty"], "communities_blank.gpkg"),
        "error: communities file communities_blank.gpkg: column 'community' is empty in 1 row "
        "(first: row 2); fill in the ids or pass --community-field naming another column",
    ),
    case(
        "community-called-unassigned",
        ids("communities", "community", ["west", "unassigned", "empty"], "communities_u.gpkg"),
        "error: communities file communities_u.gpkg: a community is named 'unassigned', which "
        "circles uses for residents in no community; rename it",
    ),
    # geometry kinds
    case(
        "communities-are-points",
        communities_as_points,
        "error: communities file communities_points.gpkg holds no polygons; give community "
        "boundaries as polygons, or put a community column on the residents instead",
    ),
    case(
        "network-of-points",
        network_of_points,
        "error: network file roads_points.geojson holds Point; give road centre-lines "
        "(LineString) or an .osm.pbf extract",
    ),
    case(
        "network-only-dots",
        network_of_dots,
        "error: network file roads_dots.geojson yields no edges: none of its 2 lines has a "
        "length; give road centre-lines that meet at shared end points",
    ),
    case(
        "network-only-empty-lines",
        network_of_empty_lines,
        "error: network file roads_empty_lines.gpkg has no lines with coordinates (2 rows have "
        "empty geometries); give road centre-lines (LineString) or an .osm.pbf extract",
    ),
    # rules
    case(
        "rules-no-such-preset",
        lambda toy, out: audit_args(toy, out, rules="wuhna"),
        "wuhna: no such rule file or folder, and no bundled preset of that name (bundled "
        "presets: gb50180, wuhan)\nerror: 1 problem in the rule files",
    ),
    case(
        "rules-empty-folder",
        lambda toy, out: audit_args(toy, out, rules=_folder(toy, "no_rules")),
        "{d}/no_rules: no rule files (*.yaml) found\nerror: 1 problem in the rule files",
    ),
    case(
        "rule-file-misspelt-key",
        rule_typo,
        "{d}/typo.yaml:10:5: toy.requirements[0](two_kindergartens).max_time_minutes: unknown "
        "key; check the spelling against rules/README.md\nerror: 1 problem in the rule files",
    ),
    case(
        "circle-unknown",
        options("--circle", "toyy"),
        "--circle toyy: no such circle in the rules (available: toy); did you mean 'toy'?\n"
        "error: 1 problem in the rule files",
    ),
    # options
    case(
        "walk-speed-zero", options("--walk-speed", "0"), "error: --walk-speed 0 must be > 0 m/min"
    ),
    case(
        "walk-speed-negative",
        options("--walk-speed", "-5"),
        "error: --walk-speed -5 must be > 0 m/min",
    ),
    case(
        "walk-speed-not-a-number",
        options("--walk-speed", "fast"),
        "error: Invalid value for '--walk-speed': Input should be a valid number, unable to parse "
        "string as a number (see circles audit --help)",
    ),
    case("max-snap-zero", options("--max-snap", "0"), "error: --max-snap 0 must be > 0 metres"),
    case(
        "min-component-nodes-negative",
        options("--min-component-nodes", "-3"),
        "error: --min-component-nodes -3 must be >= 0 (0 keeps every component)",
    ),
    case(
        "crs-geographic",
        options("--crs", "EPSG:4326"),
        "error: --crs EPSG:4326 is geographic (degrees); give a projected CRS in metres such as "
        "a UTM zone (EPSG:326xx)",
    ),
    case(
        "crs-unknown",
        options("--crs", "EPSG:99999"),
        "error: --crs 'EPSG:99999' is not a CRS pyproj knows; give e.g. EPSG:32650",
    ),
    case(
        "coords-unknown-system",
        options("--coords", "residents=baidu"),
        "error: --coords residents=baidu: unknown coordinate system; use wgs84, gcj02 or bd09",
    ),
    case(
        "coords-unknown-layer",
        options("--coords", "shops=gcj02"),
        "error: --coords shops=...: no such layer; use one of facilities, residents, "
        "communities, zones, planned, candidates, or give a bare system (--coords gcj02) for "
        "every layer",
    ),
    case(
        "coords-on-projected-layer",
        options("--coords", "residents=gcj02"),
        "error: residents file {d}/residents.gpkg is in a projected CRS (EPSG:32650), but "
        "--coords residents=gcj02 expects longitude/latitude; drop --coords for this layer",
    ),
    # project files
    case(
        "project-unknown-key",
        project("netwrk: roads.geojson\n"),
        "error: {d}/circles.yaml: unknown key 'netwrk'; did you mean 'network'? keys are the "
        "circles audit options: " + PROJECT_KEYS,
    ),
    case(
        "project-yaml-syntax-error",
        project("network: [roads.geojson\nfacilities: x\n"),
        "error: {d}/circles.yaml:2:11: YAML syntax error: expected ',' or ']', but got ':'",
    ),
    case(
        "project-not-a-mapping",
        project("- roads.geojson\n- facilities.gpkg\n"),
        "error: {d}/circles.yaml: a project file is a mapping of option names to values",
    ),
    case(
        "project-file-missing",
        lambda toy, out: ["audit", str(toy["dir"] / "nope.yaml"), "--out", str(out)],
        "error: project file {d}/nope.yaml does not exist; check the path",
    ),
    case(
        "project-walk-speed-not-a-number",
        project(TOY_PROJECT + "walk_speed: fast\n"),
        "error: {d}/circles.yaml: walk_speed 'fast' is not a number; give metres per minute "
        "(e.g. walk_speed: 48)",
    ),
    case(
        "project-max-snap-not-a-number",
        project(TOY_PROJECT + "max_snap: far\n"),
        "error: {d}/circles.yaml: max_snap 'far' is not a number; give metres (e.g. max_snap: 250)",
    ),
    case(
        "project-min-component-nodes-not-a-number",
        project(TOY_PROJECT + "min_component_nodes: many\n"),
        "error: {d}/circles.yaml: min_component_nodes 'many' is not a whole number; give a node "
        "count (e.g. min_component_nodes: 50)",
    ),
    case(
        "project-crs-geographic-as-number",
        project(TOY_PROJECT + "crs: 4326\n"),
        "error: --crs 4326 is geographic (degrees); give a projected CRS in metres such as a UTM "
        "zone (EPSG:326xx)",
    ),
]


def _expand(text: str, toy: Toy, out: Path) -> list[str]:
    return text.replace("{d}", str(toy["dir"])).replace("{out}", str(out)).splitlines()


def _assert_clean_failure(result, expected: list[str]) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines == expected
    assert lines[-1].startswith("error: ")
    if len(lines) > 1:  # rule-file problems: path lines, then the count
        assert lines[-1].startswith(f"error: {len(lines) - 1} problem")


def _no_report_left(out: Path) -> None:
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    assert not list(out.parent.glob(f".{out.name}.*.tmp"))


@pytest.mark.parametrize("bad", CASES)
def test_bad_input(toy: Toy, bad: Case) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, bad.make(toy, out))
    _assert_clean_failure(result, _expand(bad.expected, toy, out))
    _no_report_left(out)


# --------------------------------------------------------------------------- the --out folder


def _existing_report(toy: Toy) -> Path:
    out = toy["dir"] / "report"
    out.mkdir()
    for name in REPORT_FILES:
        (out / name).write_bytes(f"earlier {name}\n".encode())
    return out


def _out_is_a_file(toy: Toy) -> Path:
    out = toy["dir"] / "report"
    out.write_text("not a folder\n", encoding="utf-8")
    return out


def _out_under_read_only_folder(toy: Toy) -> Path:
    folder = toy["dir"] / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):
        folder.chmod(0o700)
        pytest.skip("the read-only folder is writable here (running as root)")
    return folder / "report"


OUT_CASES = [
    pytest.param(
        _existing_report,
        "error: output folder {out} already holds " + ", ".join(REPORT_FILES) + "; pass "
        "--overwrite to replace them or choose another --out",
        id="out-holds-a-report",
    ),
    pytest.param(
        _out_is_a_file,
        "error: --out {out} is a file, not a folder; choose another --out",
        id="out-is-a-file",
    ),
    pytest.param(
        _out_under_read_only_folder,
        "error: cannot write to {d}/read_only (Permission denied); choose another --out",
        id="out-under-read-only-folder",
    ),
]


def _snapshot(path: Path) -> dict[str, bytes] | None:
    """Every file under ``path`` (or ``path`` itself) with its bytes; None when absent."""
    if path.is_file():
        return {".": path.read_bytes()}
    if path.is_dir():
        return {str(f.relative_to(path)): f.read_bytes() for f in path.rglob("*") if f.is_file()}
    return None


@pytest.mark.parametrize(("prepare", "expected"), OUT_CASES)
def test_bad_out(toy: Toy, prepare: Callable[[Toy], Path], expected: str) -> None:
    out = prepare(toy)
    before = _snapshot(out)
    try:
        result = runner.invoke(app, audit_args(toy, out))
        _assert_clean_failure(result, _expand(expected, toy, out))
        assert _snapshot(out) == before  # an earlier report or file is untouched
        assert not list(out.parent.glob(f".{out.name}.*.tmp"))
    finally:
        out.parent.chmod(0o700)


# --------------------------------------------------------------------------- --debug


def test_debug_prints_the_traceback_and_still_exits_2(toy: Toy) -> None:
    out = toy["dir"] / "report"
    args = population([100, 300, -5, 25], "residents_negative_pop.gpkg")(toy, out)
    result = runner.invoke(app, [*args, "--debug"])
    assert result.exit_code == 2, result.output
    assert "Traceback (most recent call last)" in result.output
    assert "circles.errors.InputDataError" in result.output
    assert result.output.splitlines()[-1] == (
        "error: residents file residents_negative_pop.gpkg: column 'population' is negative (-5) "
        "at row 3 (resident R3); population must be >= 0"
    )
    _no_report_left(out)


# --------------------------------------------------------------------------- remedies work


def test_lonlat_layer_without_crs_is_read_with_coords(toy: Toy) -> None:
    """The remedy shapefile-without-prj should offer: --coords LAYER=wgs84 for lon/lat data."""
    path = _folder(toy, "shp") / "residents.shp"
    _read(toy, "residents").to_crs("EPSG:4326").to_file(path)
    path.with_suffix(".prj").unlink()
    out = toy["dir"] / "report"
    result = runner.invoke(
        app, [*audit_args(toy, out, residents=path), "--coords", "residents=wgs84", "-q"]
    )
    assert result.exit_code == 0, result.output
