"""The interactive map map.html: self-contained, both languages, basemaps, and in a real browser.

The browser tests open the page from file:// in headless Chromium (Debian's chromium and
chromedriver: ``apt-get install chromium chromium-driver``) and skip when either is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from circles.audit import AuditResult, run_audit
from circles.cli import app
from circles.errors import InputDataError, OutputError
from circles.project import load_project
from circles.projection import wgs84_to_gcj02
from circles.report import webmap_data
from circles.report.basemaps import TIANDITU_ENV, parse_basemap
from circles.report.model import build_report_model
from circles.report.webmap import asset, write_web_map
from circles.report.webmap_data import colour_ramp, map_data
from circles.settings import merge
from tests.conftest import ROOT, toy_cli_args, toy_options

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "synthetic_district" / "circles.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def example() -> AuditResult:
    """The bundled synthetic district's audit (with its service areas)."""
    result = run_audit(merge(load_project(EXAMPLE), {}))
    assert result.geo is not None and result.geo.service_areas is not None
    return result


def _data(html: str) -> dict:
    block = r'<script type="application/json" id="circles-data">(.*?)</script>'
    found = re.search(block, html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def _without_leaflet(html: str) -> str:
    """The page less the vendored Leaflet library (whose code names its own web site)."""
    library = asset("leaflet.js")
    assert html.count(library) == 1
    return html.replace(library, "")


def test_map_is_self_contained(example: AuditResult, tmp_path: Path) -> None:
    path = write_web_map(tmp_path / "map.html", example, lang="en")
    html = path.read_text(encoding="utf-8")
    own = _without_leaflet(html)
    for pattern in (r"src\s*=\s*[\"']?https?:", r"href\s*=\s*[\"']?https?:", r"url\(\s*[\"']?http"):
        assert not re.search(pattern, own, re.I), pattern
    assert "<link" not in own and "@import" not in own and "<script src" not in own
    assert "url(images/" not in html  # Leaflet's marker images are dropped: no file request
    for tiles in ("openstreetmap.org", "autonavi.com", "tianditu.gov.cn"):  # no basemap code
        assert tiles not in html
    data = _data(html)
    assert data["meta"]["basemap"] == {"name": "none", "tiles": []}
    assert path.stat().st_size < 1_500_000


def test_map_content(example: AuditResult, tmp_path: Path) -> None:
    html = write_web_map(tmp_path / "map.html", example, lang="en").read_text(encoding="utf-8")
    data = _data(html)
    meta = data["meta"]
    assert meta["title"] == "synthetic_district: service-circle coverage"
    assert re.fullmatch(r"audit of \d{4}-\d\d-\d\d", meta["subtitle"])
    themes = meta["themes"]
    # one theme per circle and per requirement, circles first in report order
    expected = [
        (lc.circle.id, req)
        for lc in example.circles
        for req in ["", *(r.id for r in lc.circle.requirements)]
    ]
    assert [(t["circle"], t["req"]) for t in themes] == expected
    # the rule and its source: threshold, target, with the reference and tag of each number
    kindergarten = next(t for t in themes if t["req"] == "kindergarten")
    keys = {line["key"]: line for line in kindergarten["lines"]}
    assert keys["threshold"]["value"] == "15 min"
    assert keys["threshold"]["source"]["tag"] == "recalled (unverified)"
    assert "15分钟生活圈" in keys["threshold"]["source"]["ref"]
    assert keys["target"]["value"] == "90%"
    # community coverage per theme as in coverage.csv
    cov = example.coverage
    features = data["communities"]["features"]
    assert len(features) == len(example.geo.communities)
    first = features[0]["properties"]
    row = cov[
        (cov["scope"] == "community")
        & (cov["community_id"] == first["n"])
        & (cov["circle_id"] == "life_15min")
        & (cov["requirement_id"] == "kindergarten")
    ].iloc[0]
    index = themes.index(kindergarten)
    assert first["c"][index] == pytest.approx(row["coverage_ratio"], abs=1e-4)
    # residents not met per theme: the bits count the residents table's unmet, evaluated rows
    residents = meta["residents"]
    table = example.residents
    unmet = (table["status"] == "ok") & (table["life_15min/kindergarten"] != 1)
    assert residents["unmet_counts"][index] == int(unmet.sum())
    assert residents["shown"] == residents["total"]  # a district: nothing sampled
    # service areas only where the audit has them (walking requirements here)
    assert (
        set(data["areas"]) == {str(i) for i, t in enumerate(themes) if t.get("area")}
        and str(index) in data["areas"]
    )
    # facilities: only types that have facilities, each circle lists only those
    for circle in meta["circles"]:
        assert all(t in meta["facilities"] for t in circle["types"])
    assert all(len(f["names"]) for f in meta["facilities"].values())


def test_coordinates_are_wgs84_with_six_decimals(example: AuditResult, tmp_path: Path) -> None:
    html = write_web_map(tmp_path / "map.html", example, lang="en").read_text(encoding="utf-8")
    data = _data(html)
    text = json.dumps(data["communities"]) + json.dumps(data["areas"])
    decimals = [len(d) for d in re.findall(r"\d+\.(\d+)", text)]
    assert decimals and max(decimals) <= 6
    (south, west), (north, east) = data["meta"]["bounds"]
    assert 113 < west < east < 116 and 29 < south < north < 32  # Wuhan in longitude/latitude


def test_both_languages(example: AuditResult, tmp_path: Path) -> None:
    en = write_web_map(tmp_path / "en.html", example, lang="en").read_text(encoding="utf-8")
    zh = write_web_map(tmp_path / "zh.html", example, lang="zh").read_text(encoding="utf-8")
    assert '<html lang="en">' in en and '<html lang="zh-CN">' in zh
    meta_en, meta_zh = _data(en)["meta"], _data(zh)["meta"]
    assert meta_zh["title"] == "synthetic_district：服务圈覆盖评估"
    assert meta_zh["words"]["web_layers"] == "图层" and meta_en["words"]["web_layers"] == "Layers"
    assert set(meta_en["words"]) == set(meta_zh["words"])
    assert meta_zh["circles"][0]["name"] == "15分钟生活圈"
    assert meta_zh["themes"][1]["lines"][0]["key"] == "设施类型"


def test_residents_beyond_the_cap_are_sampled(
    example: AuditResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webmap_data, "MAX_RESIDENTS", 40)
    model = build_report_model(example.summary, example.coverage)
    residents = map_data(example, lang="en", model=model).meta["residents"]
    assert residents["shown"] == 40 < residents["total"]
    assert len(residents["xy"]) == 80


def test_amap_basemap_shifts_every_overlay_to_gcj02(example: AuditResult) -> None:
    model = build_report_model(example.summary, example.coverage)
    plain = map_data(example, lang="en", model=model)
    amap = map_data(example, lang="en", model=model, basemap=parse_basemap("amap"))
    xy = np.array(plain.meta["residents"]["xy"], dtype=float).reshape(-1, 2) / 1e6
    shifted = np.array(amap.meta["residents"]["xy"], dtype=float).reshape(-1, 2) / 1e6
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(shifted, np.column_stack([lon, lat]), atol=2e-6)
    assert np.abs(shifted - xy).max() > 1e-3  # hundreds of metres in Wuhan
    first = json.loads(plain.communities)["features"][0]["geometry"]["coordinates"][0][0]
    moved = json.loads(amap.communities)["features"][0]["geometry"]["coordinates"][0][0]
    expected = wgs84_to_gcj02(np.array([first[0]]), np.array([first[1]]))
    assert moved == pytest.approx([expected[0][0], expected[1][0]], abs=2e-6)
    area = next(iter(amap.areas.values()))
    assert area.startswith('{"type":"FeatureCollection"')
    tiles = amap.meta["basemap"]["tiles"]
    assert "webrd0{s}.is.autonavi.com" in tiles[0]["url"] and "style=8" in tiles[0]["url"]


def test_basemap_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIANDITU_ENV, raising=False)
    with pytest.raises(OutputError, match=r"--basemap 'bing': unknown basemap; use one of none"):
        parse_basemap("bing")
    with pytest.raises(OutputError, match=r"set the environment variable TIANDITU_KEY or pass"):
        parse_basemap("tianditu")
    assert parse_basemap("tianditu:abc").key == "abc"
    monkeypatch.setenv(TIANDITU_ENV, "k123")
    tiles = parse_basemap("tianditu").tiles()
    assert [("vec_w" in t["url"], "cva_w" in t["url"]) for t in tiles] == [
        (True, False),
        (False, True),
    ]
    assert all("tk=k123" in t["url"] for t in tiles)
    osm = parse_basemap("osm").tiles()[0]
    assert osm["attribution"] == "© OpenStreetMap contributors"
    # through the settings: a project key and the CLI option
    monkeypatch.delenv(TIANDITU_ENV)
    base = {"network": "a.gpkg", "facilities": "b.csv", "residents": "c.gpkg"}
    assert merge(base, {"basemap": "osm"}).basemap == "osm"
    with pytest.raises(InputDataError, match=r"^--basemap 'tianditu': .*TIANDITU_KEY"):
        merge(base, {"basemap": "tianditu"})


def test_cli_basemap_without_key_is_a_user_error(
    toy: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TIANDITU_ENV, raising=False)
    out = toy["dir"] / "report"
    result = runner.invoke(app, [*toy_cli_args(toy, out), "--basemap", "tianditu"])
    assert result.exit_code == 2, result.output
    assert "TIANDITU_KEY" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_every_report_has_a_map(toy: dict[str, Path]) -> None:
    out = toy["dir"] / "report"
    result = runner.invoke(app, [*toy_cli_args(toy, out), "-q", "--basemap", "osm"])
    assert result.exit_code == 0, result.output
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in html and "OpenStreetMap contributors" in html


def test_map_without_community_polygons(toy: dict[str, Path], tmp_path: Path) -> None:
    result = run_audit(toy_options(toy, communities=None))
    html = write_web_map(tmp_path / "map.html", result, lang="zh").read_text(encoding="utf-8")
    data = _data(html)
    assert data["communities"] is None
    assert data["meta"]["bounds"] is not None  # the residents and facilities frame the view


def test_colour_ramp_is_the_png_maps_red_to_green() -> None:
    ramp = colour_ramp()
    assert len(ramp) == 101
    assert (ramp[0], ramp[50], ramp[100]) == ("#a50026", "#ffffbf", "#006837")


# --- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium through chromedriver (skipped when either is not installed)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) or shutil.which("chromium") is None:
        why = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        if os.environ.get("CIRCLES_REQUIRE_BROWSER"):  # CI installs them: never skip there
            pytest.fail(why)
        pytest.skip(why)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def open_map(driver, path: Path) -> None:
    """Load a map.html and wait until Leaflet has drawn the communities."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return !!window.circlesMap && document.querySelectorAll("
            "'.leaflet-communities-pane path').length > 0"
        )
    )


#: The community path nearest the middle of the window (script for execute_script).
CENTRAL_PATH = """
const paths = [...document.querySelectorAll('.leaflet-communities-pane path')];
const mid = [window.innerWidth / 2, window.innerHeight / 2];
const away = (p) => {
  const r = p.getBoundingClientRect();
  return Math.hypot(r.x + r.width / 2 - mid[0], r.y + r.height / 2 - mid[1]);
};
return paths.reduce((best, p) => (away(p) < away(best) ? p : best));
"""


def _paths(driver) -> int:
    return int(driver.execute_script("return document.querySelectorAll('svg path').length"))


def _colours(png: bytes) -> int:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 20) or [])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_map_in_headless_chromium(browser, example: AuditResult, tmp_path: Path, lang: str) -> None:
    path = write_web_map(tmp_path / "map.html", example, lang=lang)
    browser.get_log("browser")  # drop what earlier pages logged
    open_map(browser, path)
    # renders, not blank: the shaded communities give many colours
    assert _colours(browser.get_screenshot_as_png()) > 50
    n_communities = len(example.geo.communities)
    assert _paths(browser) == n_communities  # only the first circle's choropleth at start
    # a service area toggled through the layer control adds its polygons; off again removes them
    box = browser.find_element("css selector", "input[data-area]")
    box.click()
    assert _paths(browser) > n_communities
    box.click()
    assert _paths(browser) == n_communities
    # facilities of a type, then residents not met (drawn on a canvas), then another theme
    browser.find_element("css selector", "input[data-fac]").click()
    assert _paths(browser) > n_communities
    browser.find_element("css selector", "input[data-unmet]").click()
    browser.find_element("css selector", 'input[name="theme"][value="1"]').click()
    legend = browser.find_element("css selector", ".circles-legend").text
    unmet = (
        "resident not meeting: 15-minute life circle"
        if lang == "en"
        else "未达标居民点：15分钟生活圈"
    )
    assert unmet in legend
    # hover a community: its name and coverage in a tooltip
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    target = browser.execute_script(CENTRAL_PATH)  # clear of the title, legend and layers
    ActionChains(browser).move_to_element(target).perform()
    WebDriverWait(browser, 10).until(
        lambda d: any(t.text.strip() for t in d.find_elements("css selector", ".leaflet-tooltip"))
    )
    # click: the rule and its source
    ActionChains(browser).click(target).perform()
    word = "source" if lang == "en" else "出处"
    WebDriverWait(browser, 10).until(
        lambda d: any(word in p.text for p in d.find_elements("css selector", ".leaflet-popup"))
    )
    # no console errors, nothing fetched from the network
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert all(name.startswith(("file:", "data:", "blob:")) for name in resources), resources
    if os.environ.get("CIRCLES_WEBMAP_SHOTS"):  # screenshots for a look: a folder to write to
        import time

        browser.execute_script("window.circlesMap.closePopup()")
        browser.find_element("css selector", 'input[name="theme"][value="0"]').click()
        browser.find_element("css selector", "input[data-area]").click()
        ActionChains(browser).click(target).perform()
        time.sleep(1.0)  # the popup fades in
        shots = Path(os.environ["CIRCLES_WEBMAP_SHOTS"])
        browser.save_screenshot(str(shots / f"webmap_{lang}.png"))


def test_map_without_communities_in_headless_chromium(
    browser, toy: dict[str, Path], tmp_path: Path
) -> None:
    result = run_audit(toy_options(toy, communities=None))
    path = write_web_map(tmp_path / "map.html", result, lang="en")
    browser.get_log("browser")
    browser.get(path.resolve().as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return !!window.circlesMap"))
    # nothing to shade: no coverage column, and the first circle's residents not met are shown
    assert browser.find_elements("css selector", 'input[name="theme"]') == []
    assert browser.find_element("css selector", "input[data-unmet]").is_selected()
    assert "resident not meeting" in browser.find_element("css selector", ".circles-legend").text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
