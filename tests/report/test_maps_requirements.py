"""Maps per requirement, fitted frames, names, boundaries and legends (issue 13), on the example."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

pytest.importorskip("matplotlib")

from circles.audit import AuditOptions, AuditResult, run_audit
from circles.report import maps, maps_draw, maps_frame, maps_labels, maps_layers
from circles.report.maps_fonts import LATIN, MapLabels
from circles.report.model import build_report_model

EXAMPLE = Path(__file__).parents[2] / "examples" / "synthetic_district"


@pytest.fixture(scope="module")
def example() -> AuditResult:
    """The bundled example district: communities, zones, walking and driving circles."""
    return run_audit(
        AuditOptions(
            network=EXAMPLE / "roads.geojson",
            facilities=EXAMPLE / "facilities.csv",
            residents=EXAMPLE / "residents.geojson",
            communities=EXAMPLE / "communities.geojson",
            community_field="community",
            zones=EXAMPLE / "zones.geojson",
            zone_field="name",
            population_field="population",
            facility_type_field="type",
            crs="EPSG:32650",
            circle_ids=["life_15min", "ems"],
        )
    )


def _labels() -> MapLabels:
    """English labels with the fonts write_maps uses (Chinese names need a CJK font)."""
    cjk = maps.find_cjk_font()
    return MapLabels("en", [LATIN] if cjk is None else [LATIN, cjk])


def _figures(result: AuditResult) -> dict[str, object]:
    """Every map of ``result`` as a Figure, by file name (not saved)."""
    from matplotlib import rc_context

    labels = _labels()
    layers = maps_layers.MapLayers(result)
    model = build_report_model(result.summary, result.coverage)
    n = len(layers.community_ids)
    cjk = maps.find_cjk_font()
    families = [LATIN] if cjk is None else [LATIN, cjk]
    with rc_context({"font.family": families}):
        return {
            spec.file_name: maps_draw.draw_map(spec, layers, labels, n_communities=n)
            for spec in maps.map_specs(result, model, layers, labels)
        }


def _legend_texts(figure) -> list[str]:
    (legend,) = figure.legends
    return [t.get_text().replace("\n", " ") for t in legend.get_texts()]


def test_one_map_per_circle_and_per_requirement(example: AuditResult, tmp_path: Path):
    paths = maps.write_maps(tmp_path, example, lang="en")
    expected = []
    for circle in example.summary["circles"]:
        cid = circle["circle_id"]
        expected.append(f"map_{cid}.png")
        expected += [f"map_{cid}_{r['requirement_id']}.png" for r in circle["requirements"]]
    assert [p.name for p in paths] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)
    assert "map_life_15min_kindergarten.png" in expected


def test_requirement_map_shades_and_titles_by_the_requirement(example: AuditResult):
    labels = MapLabels("en", [LATIN])
    layers = maps_layers.MapLayers(example)
    model = build_report_model(example.summary, example.coverage)
    specs = {s.file_name: s for s in maps.map_specs(example, model, layers, labels)}
    spec = specs["map_life_15min_kindergarten.png"]
    assert spec.facility_types == ["kindergarten"]
    assert spec.met_column == "life_15min/kindergarten"
    assert "kindergarten" in spec.title and "88.7 %" in spec.title
    assert "within 15 min" in spec.subtitle
    coverage = example.coverage
    rows = coverage[
        (coverage["circle_id"] == "life_15min")
        & (coverage["requirement_id"] == "kindergarten")
        & (coverage["scope"] == "community")
    ].set_index("community_id")["coverage_ratio"]
    for community_id, ratio in zip(layers.community_ids, spec.ratio, strict=True):
        assert ratio == pytest.approx(rows[community_id])
    # the residents drawn are those missing the kindergarten, not the whole circle
    figure = _figures(example)["map_life_15min_kindergarten.png"]
    unmet = int(
        (
            (example.residents["status"] == "ok")
            & (example.residents["life_15min/kindergarten"] == 0)
        )
        .to_numpy()
        .sum()
    )
    assert f"residents not meeting the requirement ({unmet})" in _legend_texts(figure)


def test_legend_drops_types_without_facilities_and_names_them(example: AuditResult):
    figures = _figures(example)
    texts = _legend_texts(figures["map_ems.png"])
    # the example has EMS stations but no EMS centre: no "(0)" entry, a note instead
    assert not any(t.endswith("(0)") and "resident" not in t for t in texts)
    assert any(t.startswith("EMS station (") for t in texts)
    assert texts[-1] == "No facilities in the data: EMS centre"
    for name, figure in figures.items():
        for text in _legend_texts(figure):
            assert not (text.endswith(" (0)") and "resident" not in text), (name, text)


def test_driving_circle_draws_and_names_the_driving_network(example: AuditResult):
    assert example.geo is not None and example.geo.drive_network is not None
    figures = _figures(example)
    for name in ("map_ems.png", "map_ems_ems_station.png"):
        texts = _legend_texts(figures[name])
        assert "driving network" in texts and "walking network" not in texts
    assert "walking network" in _legend_texts(figures["map_life_15min.png"])
    # the driving map's grey lines are the driving network's edges
    layers = maps_layers.MapLayers(example)
    walk, drive = layers.network("walk"), layers.network("drive")
    assert drive[2] == "drive" and walk[2] == "walk"
    assert drive[1] == example.geo.drive_network.n_edges or drive[1] > 0


def test_community_names_and_the_boundary_are_drawn(example: AuditResult):
    figures = _figures(example)
    figure = figures["map_life_15min.png"]
    (ax,) = [a for a in figure.axes if a.get_xlim() != (0.0, 1.0)][:1]
    texts = {t.get_text() for t in ax.texts}
    communities = {c for c in example.geo.communities["community_id"] if _labels().ok(c)}
    assert texts >= communities  # 12 large communities: all named (where the fonts draw them)
    assert len(communities) == 12 or maps.find_cjk_font() is None
    assert "district boundary" in _legend_texts(figure)
    layers = maps_layers.MapLayers(example)
    assert len(layers.boundary) >= 1
    # the boundary is the outline of the communities dissolved: one ring round the district
    outline = shapely.polygons(layers.boundary[0].vertices)
    union = shapely.union_all(example.geo.communities.geometry.to_numpy())
    assert shapely.area(shapely.symmetric_difference(outline, union)) < 0.01 * union.area
    # the zones of the EMS thresholds on the EMS maps only, named with their minutes
    ems_texts = {t.get_text() for t in figures["map_ems.png"].axes[0].texts}
    assert {"武昌区 · 10 min", "江夏区 · 12 min"} <= ems_texts or not MapLabels("en", [LATIN]).ok(
        "武昌区"
    )
    assert "zones of the thresholds" in _legend_texts(figures["map_ems.png"])
    assert "zones of the thresholds" not in _legend_texts(figure)


def test_frame_is_fitted_to_the_study_area(example: AuditResult):
    layers = maps_layers.MapLayers(example)
    box = maps_frame.map_box(layers.extent)
    _, _, width, height = maps_frame.MAP_BOX
    assert box[2] == pytest.approx(width) or box[3] == pytest.approx(height)
    x0, y0, x1, y1 = maps_frame.view_limits(
        layers.extent, box[2] * maps.WIDTH_PX, box[3] * maps.HEIGHT_PX
    )
    ex0, ey0, ex1, ey1 = layers.extent
    # the study area fills the view but for the margins, in both directions
    assert (ex1 - ex0) / (x1 - x0) > 0.9 and (ey1 - ey0) / (y1 - y0) > 0.88
    # far points (off the network) do not widen the view
    far = maps_layers.study_extent([np.array([[0, 0], [100, 100]])], [np.array([[1e4, 0]])], [])
    assert far == (0.0, 0.0, 100.0, 100.0)
    near = maps_layers.study_extent([np.array([[0, 0], [100, 100]])], [np.array([[110, 0]])], [])
    assert near == (0.0, 0.0, 110.0, 100.0)
    # the legend starts right of the map, never over it
    figure = _figures(example)["map_life_15min.png"]
    figure.canvas.draw()
    (legend,) = figure.legends
    legend_box = legend.get_window_extent()
    map_right = figure.axes[0].get_window_extent().x1
    assert legend_box.x0 >= map_right


def test_service_area_outline_on_requirement_maps(example: AuditResult):
    geo = example.geo
    assert geo is not None
    communities = geo.communities
    area = shapely.union_all(communities.geometry.to_numpy()[:3]).buffer(-20)
    geo.service_areas = gpd.GeoDataFrame(  # type: ignore[attr-defined]
        {
            "circle_id": ["life_15min"],
            "requirement_id": ["kindergarten"],
            "facility_type": ["kindergarten"],
            "minutes": [15.0],
        },
        geometry=[area],
        crs=geo.crs,
    )
    try:
        figures = _figures(example)
    finally:
        del geo.service_areas  # type: ignore[attr-defined]
    assert "service area (15 min)" in _legend_texts(figures["map_life_15min_kindergarten.png"])
    assert not any("service area" in t for t in _legend_texts(figures["map_life_15min.png"]))
    assert not any(
        "service area" in t for t in _legend_texts(figures["map_life_15min_fresh_market.png"])
    )


def test_many_communities_label_the_most_wanting_without_overlap():
    # a 20 × 20 grid of 100 m squares, each named; the map is 2 m a pixel
    ids, geoms = [], []
    for i in range(20):
        for j in range(20):
            ids.append(f"C{i:02d}{j:02d}")
            geoms.append(shapely.box(i * 100, j * 100, i * 100 + 100, j * 100 + 100))
    labels = MapLabels("en", [LATIN])
    candidates = maps_labels.label_candidates(ids, np.array(geoms), 2.0, labels)
    assert len(candidates.index) == 400  # "C0000" fits in a 50-pixel square
    not_met = np.zeros(400)
    not_met[[5, 17, 250]] = [10, 30, 20]
    chosen = maps_labels.place_labels(candidates, 400, not_met)
    assert len(chosen) <= maps_labels.MANY
    assert candidates.index[chosen[:3]].tolist() == [17, 250, 5]  # the most not met first
    lo = candidates.xy[chosen] - candidates.half[chosen]
    hi = candidates.xy[chosen] + candidates.half[chosen]
    for k in range(len(chosen)):
        others = np.arange(len(chosen)) != k
        overlap = (lo[k] < hi[others]).all(axis=1) & (hi[k] > lo[others]).all(axis=1)
        assert not overlap.any()
    # a name too long for its polygon is left out (among few communities)
    tiny = maps_labels.label_candidates(
        ["A very long community name"], np.array(geoms[:1]), 2.0, labels
    )
    assert tiny.fits.tolist() == [False]
    assert len(maps_labels.place_labels(tiny, 1)) == 0


def test_largest_polygons_of_collections():
    square = shapely.box(0, 0, 10, 10)
    small = shapely.box(20, 0, 21, 1)
    collection = shapely.GeometryCollection(
        [shapely.MultiPolygon([small, square]), shapely.Point(5, 5)]
    )
    out = maps_layers.largest_polygons(np.array([collection, None, small], dtype=object))
    assert out[0].equals(square) and out[1] is None and out[2].equals(small)
    xy = maps_layers.label_points(out)
    assert xy[0].tolist() == pytest.approx([5, 5], abs=0.1) and np.isnan(xy[1]).all()


def test_many_small_communities_name_the_worst_even_when_they_overflow():
    # 400 squares of 20 pixels: no name fits; the most wanting are named all the same
    ids = [f"Community {k}" for k in range(400)]
    geoms = np.array(
        [
            shapely.box(k % 20 * 40, k // 20 * 40, k % 20 * 40 + 40, k // 20 * 40 + 40)
            for k in range(400)
        ]
    )
    labels = MapLabels("en", [LATIN])
    candidates = maps_labels.label_candidates(ids, geoms, 2.0, labels)
    assert not candidates.fits.any()
    not_met = np.zeros(400)
    not_met[[0, 210, 399]] = [5, 50, 500]
    chosen = maps_labels.place_labels(candidates, 400, not_met)
    assert candidates.index[chosen].tolist() == [399, 210, 0]  # only the wanting, worst first
    assert set(candidates.size_pt[chosen]) == {maps_labels.SIZES_PT[-2]}
    assert len(maps_labels.place_labels(candidates, 100)) == 0  # few communities: fit or none


def test_community_names_keep_clear_of_the_zone_names():
    ids = ["North", "South"]
    geoms = np.array([shapely.box(0, 100, 100, 200), shapely.box(0, 0, 100, 100)])
    labels = MapLabels("en", [LATIN])
    candidates = maps_labels.label_candidates(ids, geoms, 1.0, labels)
    assert len(maps_labels.place_labels(candidates, 2)) == 2
    assert candidates.xy.tolist() == [
        pytest.approx([50, 150], abs=1),
        pytest.approx([50, 50], abs=1),
    ]
    zone_box = np.array([[40.0, 140.0, 60.0, 160.0]])  # over the northern name
    chosen = maps_labels.place_labels(candidates, 2, taken=zone_box)
    assert candidates.index[chosen].tolist() == [1]
