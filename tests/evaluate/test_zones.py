"""Zones: the real Wuhan districts (GCJ-02, no .prj) mapped to the EMS circle's zones."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from circles.errors import InputDataError
from circles.evaluate.zones import circle_zone_ids, threshold_minutes, zone_values
from circles.inputs.read import read_layer
from circles.projection import gcj02_to_wgs84, to_wgs84_coords, wgs84_to_gcj02
from circles.rules.load import load_rules
from tests.conftest import shared

# WGS 84 points (OSM positions) and the district that holds them
PLACES = [
    ((114.2900, 30.5790), "江汉区"),  # Jianghan Road, Hankou
    ((114.3640, 30.5360), "武昌区"),  # Wuhan University
    ((114.4150, 30.5000), "洪山区"),  # Huazhong University of Science and Technology area
    ((114.3200, 30.3500), "江夏区"),  # Zhifang, Jiangxia
    ((114.3800, 30.8800), "黄陂区"),  # Qianchuan, Huangpi
    ((113.5000, 29.5000), ""),  # outside Wuhan
]


@pytest.fixture
def districts():
    path = shared("cn_wuhan_districts_gcj02/wuhan_districts.shp")
    with pytest.raises(InputDataError, match="has no CRS; pass --crs"):
        read_layer(path, "zones")
    layer = read_layer(path, "zones", crs="EPSG:4326")
    return to_wgs84_coords(layer, "gcj02", role="zones", path=str(path))


def test_districts_hold_the_right_places(districts) -> None:
    points = np.array([shapely.Point(xy) for xy, _ in PLACES], dtype=object)
    values = zone_values(points, districts, "name")
    assert values.tolist() == [name for _, name in PLACES]


def test_ems_thresholds_by_district(districts) -> None:
    (ems,) = load_rules(["wuhan"], circle_ids=["ems"])
    points = np.array([shapely.Point(xy) for xy, _ in PLACES], dtype=object)
    zone_ids, unmatched = circle_zone_ids(zone_values(points, districts, "name"), ems.circle)
    assert zone_ids.tolist() == ["central", "central", "central", "new_urban", "new_urban", ""]
    assert unmatched == []
    minutes = threshold_minutes(ems.circle.requirements[0], zone_ids)
    assert minutes.tolist() == [10, 10, 10, 12, 12, 12]
    every = zone_values(
        np.array([g.representative_point() for g in districts.geometry], dtype=object),
        districts,
        "name",
    )
    ids, unmatched = circle_zone_ids(every, ems.circle)
    assert sorted(ids.tolist()).count("central") == 7 and list(ids).count("new_urban") == 6


def test_unconverted_gcj02_would_misplace_points(districts) -> None:
    """The GCJ-02 offset is hundreds of metres: converting matters at district edges."""
    lon, lat = 114.3640, 30.5360
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = np.hypot((glon - lon) * 96_000, (glat - lat) * 111_000)
    assert 300 < shift < 800
    back = gcj02_to_wgs84(glon, glat)
    assert abs(back[0] - lon) < 1e-9 and abs(back[1] - lat) < 1e-9
