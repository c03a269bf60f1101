"""Transforms shared by the status quo's and the planned report: each geometry once, same result."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS

from circles.report.gis import areas_to_crs
from circles.report.shared import each, shared_transforms
from tests.conftest import CRS as TOY_CRS
from tests.conftest import X0, Y0


def _squares(n: int) -> np.ndarray:
    return np.array([shapely.box(X0 + i, Y0, X0 + i + 0.5, Y0 + 0.5) for i in range(n)])


def test_each_transforms_an_object_once_within_a_block() -> None:
    calls: list[int] = []

    def scaled(geoms: np.ndarray) -> np.ndarray:
        calls.append(len(geoms))
        return shapely.transform(geoms, lambda xy: xy * 2.0)

    first, fresh = _squares(3), _squares(1)
    expected = scaled(first)
    calls.clear()
    with shared_transforms():
        a = each(first, "twice", scaled)
        b = each(np.concatenate([first[1:], fresh]), "twice", scaled)  # two seen, one new
        c = each(first[:1], "other", scaled)  # another transform: not shared
    assert calls == [3, 1, 1]
    assert all(x.equals(y) for x, y in zip(a, expected, strict=True))
    assert b[0] is a[1] and b[1] is a[2]
    assert b[2].equals(scaled(fresh)[0]) and c[0].equals(expected[0])
    calls.clear()
    each(first, "twice", scaled)  # outside a block: nothing remembered
    assert calls == [3]


def test_areas_are_projected_as_to_crs_does() -> None:
    frame = gpd.GeoDataFrame({"requirement_id": ["a", "b", "c"]}, geometry=_squares(3), crs=TOY_CRS)
    wgs84 = CRS.from_user_input("EPSG:4326")
    with shared_transforms():
        once = areas_to_crs(frame, wgs84)
        again = areas_to_crs(frame, wgs84)
    assert_geodataframe_equal(once, frame.to_crs(wgs84), check_less_precise=False)
    assert_geodataframe_equal(again, frame.to_crs(wgs84))
    assert again.geometry.iloc[0] is once.geometry.iloc[0]
