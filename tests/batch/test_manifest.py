"""Batch manifests: the shared keys, units or partition, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from circles.batch.manifest import load_manifest
from circles.cli import app
from circles.errors import ManifestError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "synthetic_district"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "MANIFEST.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_units_from_files_and_mappings(tmp_path: Path) -> None:
    (tmp_path / "wuhan").mkdir()
    (tmp_path / "wuhan" / "circles.yaml").write_text("residents: res.gpkg\nmax_snap: 100\n")
    (tmp_path / "xiangyang.yaml").write_text("residents: xy.gpkg\n")
    path = _write(
        tmp_path,
        "network: city.osm.pbf\nfacilities: pois.csv\nmax_snap: 200\n"
        "units: [wuhan/circles.yaml, xiangyang.yaml, {name: third, residents: t.gpkg}]\n",
    )
    manifest = load_manifest(path)
    assert [u.name for u in manifest.units] == ["wuhan", "xiangyang", "third"]
    wuhan, xiangyang, third = manifest.units
    assert wuhan.keys["residents"] == tmp_path / "wuhan" / "res.gpkg"  # the project file's folder
    assert wuhan.keys["max_snap"] == 100.0  # the unit's key wins
    assert xiangyang.keys["max_snap"] == 200.0  # the shared key otherwise
    assert third.keys["residents"] == tmp_path / "t.gpkg"  # mappings: the manifest's folder
    assert third.keys["network"] == tmp_path / "city.osm.pbf"
    assert manifest.partition is None


def test_partition(tmp_path: Path) -> None:
    (tmp_path / "districts.gpkg").write_bytes(b"")
    manifest = load_manifest(
        _write(tmp_path, "network: a.pbf\npartition: {by: districts.gpkg, field: name}\n")
    )
    assert manifest.partition is not None
    assert manifest.partition.by == tmp_path / "districts.gpkg"
    assert manifest.partition.field == "name"
    assert manifest.units == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netwrok: a.pbf\nunits: [{name: a}]\n", "unknown key 'netwrok'; did you mean 'network'?"),
        ("network: a.pbf\n", "give exactly one of units: (a list"),
        (
            "units: [{name: a}]\npartition: {by: d.gpkg}\n",
            "got units and partition",
        ),
        ("units: [missing.yaml]\n", "units[0] 'missing.yaml': project file"),
        ("units: [{name: a}, {name: a}]\n", "units[0] and units[1] are both named 'a'"),
        ("units: [{residents: r.gpkg}]\n", "units[0] is a mapping without name:"),
        ("units: [{name: a, residens: r.gpkg}]\n", "unknown key units[0].'residens'"),
        ("partition: {by: nowhere.gpkg}\n", "partition.by 'nowhere.gpkg'"),
        ("partition: {by: d.gpkg, feild: x}\n", "unknown key partition.'feild'"),
        ("out: somewhere\nunits: [{name: a}]\n", "circles batch --out DIR names the output"),
        ("units: []\n", "units must be a non-empty list"),
        ("units: [{name: a/b}]\n", "cannot be a folder name"),
    ],
)
def test_bad_manifests(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "d.gpkg").write_bytes(b"")
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert str(tmp_path / "MANIFEST.yaml") in str(info.value)


def test_alias_bomb_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 8):
        prev = chr(ord("a") + i - 1)
        lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join([f'*{prev}'] * 10)}]")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ManifestError.__mro__[1]):  # ProjectFileError, as for project files
        load_manifest(path)


def test_cli_bad_manifest_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "units: [{name: a}]\npartition: {by: d.gpkg}\n")
    (tmp_path / "d.gpkg").write_bytes(b"")
    result = CliRunner().invoke(app, ["batch", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "give exactly one of units" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_missing_manifest_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2, result.output
    assert "manifest" in result.output and "does not exist; check the path" in result.output


def test_cli_unit_missing_required_key_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "units: [{name: a, residents: r.gpkg}]\n")
    result = CliRunner().invoke(app, ["batch", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "missing --network, --facilities" in result.output


def test_partition_layer_of_a_geopackage(tmp_path: Path) -> None:
    (tmp_path / "admin.gpkg").write_bytes(b"")
    manifest = load_manifest(
        _write(tmp_path, "network: a.pbf\npartition: {by: 'admin.gpkg:districts', field: name}\n")
    )
    assert manifest.partition is not None
    assert manifest.partition.by == tmp_path / "admin.gpkg:districts"
