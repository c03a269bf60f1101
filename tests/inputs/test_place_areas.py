"""Residents' polygon areas (circles.inputs.place.polygon_areas_m2), measured in the metric CRS."""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS
from shapely.geometry import Point, Polygon

from circles.inputs.place import polygon_areas_m2


def test_polygons_have_their_area_points_none():
    square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    bow_tie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # two triangles of 25 m²
    layer = gpd.GeoDataFrame(geometry=[square, Point(1, 1), bow_tie, None], crs="EPSG:32650")
    areas = polygon_areas_m2(layer, CRS("EPSG:32650"))
    assert areas is not None
    assert areas[0] == 100 and areas[2] == 50
    assert math.isnan(areas[1]) and math.isnan(areas[3])


def test_degrees_are_projected_before_measuring():
    # about 100 m × 100 m near Wuhan, drawn in longitude/latitude
    lon, lat = 114.3, 30.6
    dlon = 100 / (111_320 * math.cos(math.radians(lat)))
    dlat = 100 / 110_860
    square = Polygon([(lon, lat), (lon + dlon, lat), (lon + dlon, lat + dlat), (lon, lat + dlat)])
    layer = gpd.GeoDataFrame(geometry=[square], crs="EPSG:4326")
    areas = polygon_areas_m2(layer, CRS("EPSG:32650"))
    assert areas is not None
    assert 9_900 < areas[0] < 10_100


def test_point_layers_have_no_areas():
    layer = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:32650")
    assert polygon_areas_m2(layer, CRS("EPSG:32650")) is None
