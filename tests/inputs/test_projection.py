"""GCJ-02 / BD-09 conversions against published reference pairs, and round trips."""

from __future__ import annotations

import numpy as np
import pytest

from circles.projection import (
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_gcj02,
)

# Reference pairs published with the widely used coordtransform library's tests
# (wandergis/coordtransform, test/app.js): inputs (116.404, 39.915).
WGS_TO_GCJ = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))
GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))


def test_published_reference_pairs() -> None:
    (lon, lat), (glon, glat) = WGS_TO_GCJ
    assert np.allclose(wgs84_to_gcj02(lon, lat), (glon, glat), atol=1e-9)
    (lon, lat), (blon, blat) = GCJ_TO_BD
    assert np.allclose(gcj02_to_bd09(lon, lat), (blon, blat), atol=1e-9)


@pytest.mark.parametrize(
    "lon_lat", [(114.30, 30.55), (121.47, 31.23), (104.07, 30.67), (126.63, 45.75), (113.26, 23.13)]
)
def test_round_trips_below_half_a_metre(lon_lat: tuple[float, float]) -> None:
    lon, lat = np.array([lon_lat[0]]), np.array([lon_lat[1]])
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.hypot((back[0] - lon) * 111_000, (back[1] - lat) * 111_000).max() < 0.005
    back = bd09_to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)))
    assert np.hypot((back[0] - lon) * 111_000, (back[1] - lat) * 111_000).max() < 0.005


def test_outside_china_is_unshifted() -> None:
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(glon, lon) and np.array_equal(glat, lat)
    assert np.allclose(gcj02_to_wgs84(lon, lat), (lon, lat))


def test_utm_zone_inside_is_the_database_zone() -> None:
    """The UTM zone found without the database is the one the database gives, or None."""
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    from circles.projection import utm_zone_inside

    rng = np.random.default_rng(17)
    points = [(lon, lat) for lon, lat in rng.uniform((-180, -90), (180, 90), (300, 2))]
    points += [(114.3, 30.6), (-8.6, 41.15), (-6.0, 41.0), (0.0, 0.0), (6.0 + 1e-9, 1.0)]
    points += [(-179.999, 83.9), (179.999, -79.9), (3.0, 84.0), (3.0, -80.0), (3.0, 1e-7)]
    found = 0
    for lon, lat in points:
        code = utm_zone_inside(float(lon), float(lat))
        if code is None:
            continue
        infos = query_utm_crs_info(
            datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
        )
        assert [int(i.code) for i in infos] == [code], (lon, lat)
        found += 1
    assert found > 200
