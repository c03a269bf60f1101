"""Generate the SYNTHETIC example district used by the circles quick start.

Everything this script writes is invented: the street layout, the street, community and compound
names, the populations and the facilities. The district is only *placed* near lon 114.30,
lat 30.55 (Wuhan) so that the UTM zone (EPSG:32650) and the Chinese labels look realistic. It is
not real data and must not be used for planning.

Run from the repository root::

    python examples/synthetic_district/make_district.py

The script is deterministic (fixed seed) and writes, next to itself:

- ``roads.geojson``        road centre-lines (WGS 84), split at every junction; ``bridge`` yes/no
- ``communities.geojson``  12 community (社区) polygons; an eastern strip is left uncovered
- ``residents.geojson``    residential compounds (小区), mostly polygons, some points
- ``facilities.csv``       facilities with ``id``, ``name``, ``type``, ``lon``, ``lat``, ``seats``
- ``zones.geojson``        two district polygons (the river's banks) for the EMS circle

Deliberate quirks (so that the audit's warnings and edge cases show up):

- a river crosses the district and only two arterial roads bridge it;
- one elevated road crosses two streets without sharing a vertex with them (an overpass, tagged
  ``bridge=yes``: the audit keeps it apart from the streets below and lists the two places in
  ``network_issues.csv`` without a warning);
- one small footpath fragment in a park is connected to nothing;
- three compounds lie more than 400 m outside the street network (off-network: the audit flags
  them, counts them as not covered and warns);
- two compounds have no population but a number of households (the audit takes their population
  from the households, as it does for real data with gaps);
- an eastern strip of the district belongs to no community ("unassigned" residents);
- the northern bank has no middle school and no elderly day-care centre, the south-east has no
  small public space, and culture and sports venues are clustered, so coverage differs a lot
  between communities.

All geometry is built in a local metric frame (x east, y north, metres, origin at the south-west
corner of the district), noded with shapely on a 1 cm grid and only then projected to WGS 84, so
shared end points are bit-identical in the output files.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, mapping
from shapely.ops import polygonize

SEED = 20_261_121
HERE = Path(__file__).resolve().parent

CENTRE_LON, CENTRE_LAT = 114.30, 30.55
UTM_CRS = "EPSG:32650"  # WGS 84 / UTM zone 50N, the zone that contains Wuhan
WIDTH_M, HEIGHT_M = 3000.0, 2500.0
DECIMALS = 7  # output coordinate precision in degrees (about 1 cm)
GRID_M = 0.01  # noding grid in metres

# Nominal positions of the arterial grid (about 500 m apart); each line is jittered and tilted.
ARTERIAL_X_M = [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0]
ARTERIAL_Y_M = [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]
BRIDGE_COLUMNS = (2, 5)  # the only two north-south arterials that cross the river
PARK_BLOCK = (1, 3)  # superblock (column, row) kept as a park without streets
BANK_ROAD_OFFSET_M = 75.0  # riverside roads run this far from the river centre-line
UNASSIGNED_FROM_X_M = 2750.0  # communities stop here; the strip to the east is unassigned
MAX_FACILITY_OFFSET_M = 35.0

ARTERIAL_NAMES_NS = ["中山路", "人民路", "解放大道", "建设大道", "新华路", "复兴大道", "长安路"]
ARTERIAL_NAMES_EW = ["友谊路", "和平大道", "胜利路", "学府路", "振兴大道", "光明路"]
_LOCAL_WORDS_TEXT = (
    "民主 团结 幸福 文化 红旗 工农 东风 前进 长青 青年 育才 花园 紫荆 桂花 玉兰 丁香 梧桐 杨柳 "
    "松柏 翠竹 兰亭 荷塘 明月 清泉 石桥 新村 永安 太平 兴隆 富强 劳动 书院 府前 仓前 大成 三元 "
    "五福 百花 牡丹 芙蓉 海棠 银杏 枫林 樱花 茶园 果园 菜园 竹林 柳塘 莲花 金沙 银湖 凤凰 麒麟 "
    "白鹤 黄鹂 喜鹊 双桥 七星 九龙 安居 乐业 康宁 吉祥 如意 顺和 永丰 丰乐 富民 惠民 利民 同心 "
    "和顺 崇文 尚武 敦厚 仁和 义和 礼贤 智远 信义 忠孝 临江 望江 观澜 听涛 映月 栖霞 晓园 春晖"
)
LOCAL_WORDS = _LOCAL_WORDS_TEXT.split()
CN_NUMBERS = "一二三四五六七八九十"
COMMUNITY_NAMES = [
    # COMMUNITY_NAMES[row][column], rows from south to north: rows 0-1 lie south of the river
    ["桂园社区", "梅苑社区", "清风社区"],
    ["和平社区", "建设社区", "新华社区"],
    ["长春社区", "翠柳社区", "阳光社区"],
    ["丰收社区", "光华社区", "育才社区"],
]
_COMPOUND_PREFIXES_TEXT = (
    "幸福 阳光 和谐 锦绣 翠园 金桂 滨江 绿城 华府 东方 银河 盛世 怡景 丽景 碧水 青山 紫荆 书香 "
    "百合 君悦 春华 秋实 嘉禾 福星 瑞丰 鸿运 明珠 星河 玉湖 枫叶 海棠 梧桐 紫薇 金地 天润 恒安"
)
COMPOUND_PREFIXES = _COMPOUND_PREFIXES_TEXT.split()
_COMPOUND_SUFFIXES_TEXT = "小区 花园 家园 苑 新村 公寓 佳园 雅居 名邸 里"
COMPOUND_SUFFIXES = _COMPOUND_SUFFIXES_TEXT.split()

FACILITY_SUFFIX = {
    "kindergarten": "幼儿园",
    "primary_school": "小学",
    "middle_school": "中学",
    "elderly_daycare": "老年人日间照料中心",
    "fresh_market": "菜市场",
    "health_station": "卫生服务站",
    "health_centre": "社区卫生服务中心",
    "community_service_station": "党群服务中心",
    "pocket_park": "口袋公园",
    "community_park": "公园",
    "plaza": "广场",
    "playground": "儿童游乐场",
    "outdoor_fitness": "全民健身点",
    "library": "图书馆",
    "museum": "博物馆",
    "cultural_centre": "文化活动中心",
    "art_gallery": "美术馆",
    "theatre": "剧院",
    "cinema": "影城",
    "stadium": "体育场",
    "gymnasium": "体育馆",
    "swimming_pool": "游泳馆",
    "fitness_centre": "健身中心",
    "sports_ground_m": "运动场",
    "bus_stop": "站",
    "metro_station": "地铁站",
    "clinic": "诊所",
    "convenience_retail": "便利店",
    "hospital": "医院",
    "ems_station": "急救站",
    "rail_station": "站",
}
# Hubs carry the names used in the line-haul tables of the bundled Wuhan preset
# (rules/wuhan/tables/*.csv), so that the hub circles have something to find here. Their places,
# like everything in this district, are invented.
HUB_NAMES = {"metro_station": ["街道口", "洪山广场", "武昌火车站"], "rail_station": ["武昌站"]}
# Zones for the EMS circle: the northern bank plays a central district (10 minutes), the southern
# bank a new urban district (12 minutes); the names are chosen only to match the preset's lists.
ZONE_NAMES = {"north": "武昌区", "south": "江夏区"}
# Facility types named after the community (社区) or subdistrict (街道) that contains them.
NAMED_BY_COMMUNITY = {
    "elderly_daycare",
    "health_station",
    "community_service_station",
    "ems_station",
}


@dataclass
class Road:
    """A road centre-line in the local metric frame (metres)."""

    geometry: LineString
    name: str
    highway: str
    is_bridge: bool = False


# --------------------------------------------------------------------------------------------
# small geometry helpers
# --------------------------------------------------------------------------------------------


def lerp(p: tuple[float, float], q: tuple[float, float], t: float) -> tuple[float, float]:
    """Return the point a fraction ``t`` of the way from ``p`` to ``q``."""
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def intersect(
    a0: tuple[float, float],
    a1: tuple[float, float],
    b0: tuple[float, float],
    b1: tuple[float, float],
) -> tuple[float, float]:
    """Return the intersection of the infinite lines a0-a1 and b0-b1."""
    d1 = (a1[0] - a0[0], a1[1] - a0[1])
    d2 = (b1[0] - b0[0], b1[1] - b0[1])
    den = d1[0] * d2[1] - d1[1] * d2[0]
    t = ((b0[0] - a0[0]) * d2[1] - (b0[1] - a0[1]) * d2[0]) / den
    return (a0[0] + t * d1[0], a0[1] + t * d1[1])


def midpoint(line: LineString) -> Point:
    """Return the point halfway along ``line``."""
    return line.interpolate(0.5, normalized=True)


def region_below(coords: list[tuple[float, float]]) -> Polygon:
    """Return the region below a west-to-east polyline (down to y = -10 km)."""
    return Polygon([*coords, (coords[-1][0], -10_000.0), (coords[0][0], -10_000.0)])


def largest_polygon(geom: shapely.Geometry) -> Polygon | None:
    """Return the largest polygon part of ``geom`` (or None when it has no area)."""
    if geom.is_empty:
        return None
    if isinstance(geom, Polygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return max(parts, key=lambda g: g.area) if parts else None


# --------------------------------------------------------------------------------------------
# street network
# --------------------------------------------------------------------------------------------


def arterial_corners(rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """Jitter the arterial grid and return its junctions as ``corners[column][row]``."""
    ns_lines = []
    for x in ARTERIAL_X_M:
        x0 = x + rng.uniform(-15, 15)
        ns_lines.append(((x0, -100.0), (x0 + rng.uniform(-12, 12), HEIGHT_M + 100.0)))
    ew_lines = []
    for y in ARTERIAL_Y_M:
        y0 = y + rng.uniform(-15, 15)
        ew_lines.append(((-100.0, y0), (WIDTH_M + 100.0, y0 + rng.uniform(-12, 12))))
    return [[intersect(*ns, *ew) for ew in ew_lines] for ns in ns_lines]


def river_centre_line() -> LineString:
    """Return the (meandering) river centre-line, extending beyond the district."""
    xs = np.arange(-600.0, WIDTH_M + 601.0, 25.0)
    ys = (
        HEIGHT_M / 2
        + 60.0 * np.sin(2 * math.pi * (xs + 300.0) / 2600.0)
        + 18.0 * np.sin(2 * math.pi * xs / 900.0)
    )
    return LineString(np.column_stack([xs, ys]))


class NamePool:
    """Hand out unique two-character words for local street names."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.words = list(rng.permutation(LOCAL_WORDS))

    def take(self) -> str:
        """Return the next unused word."""
        return str(self.words.pop())


@dataclass
class Guide:
    """A line that streets attach to: an arterial edge of a superblock, a street or a bank road.

    ``key`` identifies an arterial edge (shared by the two superblocks on either side of it);
    streets that attach to it from both sides within ``ATTACH_SNAP`` are aligned exactly, so
    they form a crossroads instead of two T-junctions a few metres apart.
    """

    line: LineString
    key: tuple[str, int, int] | None = None

    def at(self, fraction: float) -> tuple[float, float]:
        """Return the point a fraction of the way along the guide."""
        if self.key is not None:
            return lerp(self.line.coords[0], self.line.coords[-1], fraction)
        return self.line.interpolate(fraction, normalized=True).coords[0]


ATTACH_SNAP = 0.07  # fraction of an arterial edge (about 35 m)


class Attachments:
    """Remember where streets attach to each arterial edge (see :class:`Guide`)."""

    def __init__(self) -> None:
        self.fractions: dict[tuple[str, int, int], list[float]] = {}

    def snap(self, guide: Guide, fraction: float) -> float:
        """Return ``fraction``, or a nearby one already used on the other side of the edge."""
        if guide.key is None:
            return fraction
        used = self.fractions.setdefault(guide.key, [])
        for u in used:
            if abs(u - fraction) < ATTACH_SNAP:
                return u
        used.append(fraction)
        return fraction


def west_to_east(line: LineString) -> LineString:
    """Return ``line`` oriented from west to east."""
    return line if line.coords[0][0] <= line.coords[-1][0] else shapely.reverse(line)


def edge_fraction(edge: Guide, line: LineString) -> float:
    """Return where ``line`` crosses the straight arterial ``edge``, as a fraction of it."""
    p, q = edge.line.coords[0], edge.line.coords[-1]
    far = LineString([lerp(p, q, -1.0), lerp(p, q, 2.0)])
    hit = far.intersection(line)
    return float(
        edge.line.project(hit if hit.geom_type == "Point" else hit.geoms[0], normalized=True)
    )


def part_streets(
    rng: np.random.Generator,
    bottom: Guide,
    top: Guide,
    west: tuple[Guide, float, float],
    east: tuple[Guide, float, float],
    names: NamePool,
    attachments: Attachments,
) -> list[Road]:
    """Lay out local streets and alleys between two guides and two arterial edges.

    A few east-west streets run from the west to the east arterial; the strips between them are
    cut by north-south alleys about 100-150 m apart, some of them dead ends. Tall strips also
    get an east-west dead-end spur (a cul-de-sac).
    """
    west_edge, w_lo, w_hi = west
    east_edge, e_lo, e_hi = east
    height = 0.5 * (west_edge.line.length * (w_hi - w_lo) + east_edge.line.length * (e_hi - e_lo))
    n_streets = max(0, round(height / rng.uniform(120, 170)) - 1)
    guides = [bottom]
    words: list[str | None] = [None]
    w_at, e_at = [w_lo], [e_lo]
    roads: list[Road] = []
    for m in range(1, n_streets + 1):
        t = m / (n_streets + 1)
        t_w = attachments.snap(west_edge, w_lo + (w_hi - w_lo) * (t + rng.normal(0, 0.025)))
        t_e = attachments.snap(east_edge, e_lo + (e_hi - e_lo) * (t + rng.normal(0, 0.025)))
        p, q = west_edge.at(t_w), east_edge.at(t_e)
        length = math.dist(p, q)
        mid = lerp(p, q, 0.5 + rng.uniform(-0.1, 0.1))
        bend = rng.normal(0, 3.0)  # a slight kink, as in real streets
        kink = (mid[0] - (q[1] - p[1]) / length * bend, mid[1] + (q[0] - p[0]) / length * bend)
        line = LineString([p, kink, q])
        word = names.take()
        roads.append(Road(line, f"{word}街", "residential"))
        guides.append(Guide(line))
        words.append(word)
        w_at.append(t_w)
        e_at.append(t_e)
    guides.append(top)
    words.append(None)
    w_at.append(w_hi)
    e_at.append(e_hi)

    alley_counts: dict[str, int] = {}

    def alley_name(word: str) -> str:
        alley_counts[word] = alley_counts.get(word, 0) + 1
        n = alley_counts[word]
        return f"{word}{CN_NUMBERS[n - 1] if n <= 10 else n}巷"

    previous_tops: list[float] = []
    for s in range(n_streets + 1):
        lower, upper = guides[s], guides[s + 1]
        word = words[s] or words[s + 1] or names.take()
        n_alleys = int(rng.integers(2, 4))
        fractions = (np.arange(1, n_alleys + 1) + rng.uniform(-0.2, 0.2, n_alleys)) / (n_alleys + 1)
        tops: list[float] = []
        alleys: list[LineString] = []
        for f in fractions:
            near = [g for g in previous_tops if abs(g - f) < ATTACH_SNAP]
            f_bottom = near[0] if near else float(f)  # continue the alley of the strip below
            f_top = f_bottom + rng.normal(0, 0.015)
            draw = rng.random()
            highway = "footway" if rng.random() < 0.08 else "service"
            if draw < 0.08:  # no alley here
                continue
            if draw < 0.22:  # dead end, entered from the south
                p_bottom = lower.at(attachments.snap(lower, f_bottom))
                p_top = lerp(p_bottom, upper.at(f_top), rng.uniform(0.5, 0.75))
            elif draw < 0.30:  # dead end, entered from the north
                f_top = attachments.snap(upper, f_top)
                p_top = upper.at(f_top)
                p_bottom = lerp(p_top, lower.at(f_bottom), rng.uniform(0.5, 0.75))
                tops.append(f_top)
            else:
                p_bottom = lower.at(attachments.snap(lower, f_bottom))
                f_top = attachments.snap(upper, f_top)
                p_top = upper.at(f_top)
                tops.append(f_top)
            alley = LineString([p_bottom, p_top])
            alleys.append(alley)
            roads.append(Road(alley, alley_name(word), highway))
        previous_tops = tops

        strip_m = west_edge.line.length * (w_at[s + 1] - w_at[s])
        if strip_m > 180 and rng.random() < 0.6:  # east-west cul-de-sac
            v = rng.uniform(0.4, 0.6)
            from_west = rng.random() < 0.5
            edge, lo, hi = (west_edge, w_at[s], w_at[s + 1])
            other, o_lo, o_hi = (east_edge, e_at[s], e_at[s + 1])
            if not from_west:
                edge, lo, hi, other, o_lo, o_hi = other, o_lo, o_hi, edge, lo, hi
            start = edge.at(attachments.snap(edge, lo + (hi - lo) * v))
            full = LineString([start, other.at(o_lo + (o_hi - o_lo) * v)])
            stop = full.length * rng.uniform(0.3, 0.45)
            for alley in alleys:  # end 30 m short of the first alley: a true dead end
                stop = min(stop, *(full.project(Point(xy)) - 30.0 for xy in alley.coords))
            spur = shapely.ops.substring(full, 0.0, stop) if stop > 40 else None
            if spur is not None and all(spur.distance(a) > 20 for a in alleys):
                roads.append(Road(spur, alley_name(word), "service"))
    return roads


def ground_roads(
    rng: np.random.Generator,
    corners: list[list[tuple[float, float]]],
    river: LineString,
) -> list[Road]:
    """Return every at-grade road (arterials, riverside roads, local streets), un-noded."""
    roads: list[Road] = []
    n_cols, n_rows = len(corners), len(corners[0])
    for i in range(n_cols):
        name = ARTERIAL_NAMES_NS[i]
        highway = "primary" if name.endswith("大道") else "secondary"
        roads.append(Road(LineString(corners[i]), name, highway, is_bridge=i in BRIDGE_COLUMNS))
    for j in range(n_rows):
        name = ARTERIAL_NAMES_EW[j]
        highway = "primary" if name.endswith("大道") else "secondary"
        roads.append(Road(LineString([c[j] for c in corners]), name, highway))
    banks = sorted(
        (west_to_east(river.offset_curve(side * BANK_ROAD_OFFSET_M)) for side in (1, -1)),
        key=lambda b: b.centroid.y,
    )
    roads.append(Road(banks[0], "滨河南路", "secondary"))
    roads.append(Road(banks[1], "滨河北路", "secondary"))

    names = NamePool(rng)
    attachments = Attachments()
    for i in range(n_cols - 1):
        for j in range(n_rows - 1):
            if (i, j) == PARK_BLOCK:
                continue
            sw, se = corners[i][j], corners[i + 1][j]
            nw, ne = corners[i][j + 1], corners[i + 1][j + 1]
            bottom = Guide(LineString([sw, se]), ("ew", j, i))
            top = Guide(LineString([nw, ne]), ("ew", j + 1, i))
            west = Guide(LineString([sw, nw]), ("ns", i, j))
            east = Guide(LineString([se, ne]), ("ns", i + 1, j))
            quad = Polygon([sw, se, ne, nw])
            if not quad.intersects(river):
                parts = [(bottom, top, (0.0, 1.0), (0.0, 1.0))]
            else:  # the river cuts the superblock: streets on each bank end at the bank road
                south = Guide(west_to_east(banks[0].intersection(quad)))
                north = Guide(west_to_east(banks[1].intersection(quad)))
                fw = [edge_fraction(west, b) for b in banks]
                fe = [edge_fraction(east, b) for b in banks]
                parts = [
                    (bottom, south, (0.0, fw[0]), (0.0, fe[0])),
                    (north, top, (fw[1], 1.0), (fe[1], 1.0)),
                ]
            for lower, upper, (w_lo, w_hi), (e_lo, e_hi) in parts:
                roads.extend(
                    part_streets(
                        rng,
                        lower,
                        upper,
                        (west, w_lo, w_hi),
                        (east, e_lo, e_hi),
                        names,
                        attachments,
                    )
                )
    return roads


def node_roads(roads: list[Road], district: Polygon, river: LineString) -> list[Road]:
    """Split every road at every junction, then drop the pieces in the river and outside.

    Noding uses a 1 cm snap-rounding grid, so end points that meet are bit-identical.
    """
    sources = [r.geometry for r in roads]
    noded = shapely.union_all(sources, grid_size=GRID_M)
    tree = shapely.STRtree(sources)
    out: list[Road] = []
    for part in shapely.get_parts(noded):
        mid = midpoint(part)
        src = roads[int(tree.nearest(mid))]
        if not district.buffer(0.5).contains(mid):
            continue
        if river.distance(mid) < BANK_ROAD_OFFSET_M - 5 and not src.is_bridge:
            continue
        out.append(Road(part, src.name, src.highway, src.is_bridge))
    return out


def end_nodes(roads: list[Road]) -> dict[tuple[float, float], int]:
    """Return the degree of every end point of ``roads``."""
    degree: dict[tuple[float, float], int] = {}
    for r in roads:
        for xy in (r.geometry.coords[0], r.geometry.coords[-1]):
            degree[xy] = degree.get(xy, 0) + 1
    return degree


def find_overpass(roads: list[Road], river: LineString, park: Polygon) -> LineString:
    """Find a straight link between two arterial junctions that crosses exactly two streets.

    The two junctions lie on two different arterials. The link becomes the elevated road: it
    shares its end points with the network but passes over the two streets in between without
    a junction.
    """
    degree = end_nodes(roads)
    arterials = set(ARTERIAL_NAMES_NS) | set(ARTERIAL_NAMES_EW)
    on_arterial: dict[tuple[float, float], set[str]] = {}
    for r in roads:
        if r.name in arterials:
            for xy in (r.geometry.coords[0], r.geometry.coords[-1]):
                if degree[xy] >= 3:
                    on_arterial.setdefault(xy, set()).add(r.name)
    arterial_nodes = sorted(on_arterial)
    geoms = [r.geometry for r in roads]
    tree = shapely.STRtree(geoms)
    all_nodes = shapely.points(list(degree))
    node_tree = shapely.STRtree(all_nodes)
    best: tuple[float, LineString] | None = None
    for ia, a in enumerate(arterial_nodes):
        for b in arterial_nodes[ia + 1 :]:
            length = math.dist(a, b)
            if not 220 <= length <= 450 or on_arterial[a] & on_arterial[b]:
                continue  # too short or long, or both ends on the same arterial
            link = LineString([a, b])
            if river.distance(link) < 200 or park.distance(link) < 50:
                continue
            near_nodes = node_tree.query(link, predicate="dwithin", distance=20.0)
            if len(near_nodes) != 2:  # only a and b themselves
                continue
            crossings = []
            for k in tree.query(link, predicate="intersects"):
                hit = geoms[k].intersection(link)
                if hit.geom_type != "Point":
                    break
                if hit.distance(Point(a)) < 1 or hit.distance(Point(b)) < 1:
                    continue
                crossings.append(k)
            else:
                if len(crossings) != 2:
                    continue
                score = abs(length - 320)
                if best is None or score < best[0]:
                    best = (score, link)
    if best is None:
        raise RuntimeError("no overpass position found; change SEED")
    return best[1]


def isolated_footpath(corners: list[list[tuple[float, float]]]) -> list[Road]:
    """Return a four-segment footpath in the middle of the park, connected to nothing."""
    i, j = PARK_BLOCK
    sw, se, nw = corners[i][j], corners[i + 1][j], corners[i][j + 1]

    def at(u: float, v: float) -> tuple[float, float]:
        return (
            sw[0] + (se[0] - sw[0]) * u + (nw[0] - sw[0]) * v,
            sw[1] + (se[1] - sw[1]) * u + (nw[1] - sw[1]) * v,
        )

    pts = [at(0.32, 0.36), at(0.43, 0.49), at(0.55, 0.47), at(0.62, 0.6), at(0.7, 0.66)]
    pts = [(round(x, 2), round(y, 2)) for x, y in pts]
    return [Road(LineString([p, q]), "园中步道", "footway") for p, q in pairwise(pts)]


# --------------------------------------------------------------------------------------------
# communities and residents
# --------------------------------------------------------------------------------------------


def community_polygons(
    corners: list[list[tuple[float, float]]], river: LineString, district: Polygon
) -> list[dict]:
    """Return 12 community polygons bounded by arterials, the river and the unassigned strip."""

    def column_strip(x_left: list[tuple[float, float]], x_right: list[tuple[float, float]]):
        return Polygon([*x_left, *reversed(x_right)])

    def extend(p: tuple[float, float], q: tuple[float, float]) -> list[tuple[float, float]]:
        return [lerp(p, q, -2.0), lerp(p, q, 3.0)]

    verticals = [extend(corners[i][0], corners[i][-1]) for i in (0, 2, 4)]
    verticals.append([(UNASSIGNED_FROM_X_M, -5000.0), (UNASSIGNED_FROM_X_M, 7500.0)])
    columns = [column_strip(verticals[c], verticals[c + 1]) for c in range(3)]

    def horizontal(j: int) -> list[tuple[float, float]]:
        return extend(corners[0][j], corners[-1][j])

    below = [
        region_below(horizontal(0)),
        region_below(horizontal(1)),
        region_below(list(river.coords)),
        region_below(horizontal(4)),
        region_below(horizontal(5)),
    ]
    out = []
    for row in range(4):
        band = below[row + 1].difference(below[row])
        for col in range(3):
            poly = largest_polygon(district.intersection(columns[col]).intersection(band))
            sub = "临江街道" if row < 2 else ("新桥街道" if col < 2 else "东城街道")
            out.append(
                {
                    "community": COMMUNITY_NAMES[row][col],
                    "subdistrict": sub,
                    "geometry": poly,
                }
            )
    return out


def compound_polygons(
    roads: list[Road],
    overpass: LineString,
    river: LineString,
    park: Polygon,
    rng: np.random.Generator,
) -> list[Polygon]:
    """Turn the street blocks (faces of the at-grade network) into compound footprints.

    Footprints keep clear of the dead-end alleys inside a block and of the elevated road.
    """
    faces = list(polygonize([r.geometry for r in roads]))
    degree = end_nodes(roads)
    dead_ends = shapely.union_all(
        [
            r.geometry
            for r in roads
            if degree[r.geometry.coords[0]] == 1 or degree[r.geometry.coords[-1]] == 1
        ]
    )
    keep_clear = shapely.union_all([dead_ends.buffer(8.0), overpass.buffer(14.0)])
    out = []
    for face in sorted(faces, key=lambda f: (round(f.centroid.x, 1), round(f.centroid.y, 1))):
        centre = face.representative_point()
        if park.contains(centre) or river.distance(centre) < BANK_ROAD_OFFSET_M:
            continue
        core = face.buffer(-9.0, join_style="mitre").difference(keep_clear)
        core = largest_polygon(core)
        if core is None or core.area < 2500:
            continue
        core = core.simplify(1.0)
        if core.area > 28_000:  # large block: two compounds side by side
            rect = core.minimum_rotated_rectangle
            xy = list(rect.exterior.coords)[:4]
            e0, e1 = math.dist(xy[0], xy[1]), math.dist(xy[1], xy[2])
            a, b, c, d = xy if e0 >= e1 else xy[1:] + xy[:1]
            t = rng.uniform(0.4, 0.6)
            cut_a, cut_b = lerp(a, b, t), lerp(d, c, t)
            half1 = Polygon([a, cut_a, cut_b, d])
            half2 = Polygon([cut_a, b, c, cut_b])
            for half in (half1, half2):
                piece = largest_polygon(core.intersection(half.buffer(-6.0, join_style="mitre")))
                if piece is not None and piece.area >= 2500:
                    out.append(piece)
        else:
            out.append(core)
    return out


def residents_table(
    polygons: list[Polygon], extent: Polygon, rng: np.random.Generator
) -> list[dict]:
    """Pick about 250 compounds, give them names and populations, add the quirky ones."""
    keep = np.sort(rng.choice(len(polygons), size=min(247, len(polygons)), replace=False))
    chosen: list[shapely.Geometry] = [polygons[k] for k in keep]
    as_points = set(rng.choice(len(chosen), size=20, replace=False).tolist())
    missing = set(rng.choice(len(chosen), size=2, replace=False).tolist())
    # three compounds far outside the street network (> 400 m beyond its edge)
    minx, miny, maxx, _ = extent.bounds
    for cx, cy in [(maxx + 560.0, 900.0), (minx - 540.0, 2150.0), (1700.0, miny - 520.0)]:
        chosen.append(affinity.rotate(shapely.box(-45, -35, 45, 35), 17).buffer(0))
        chosen[-1] = affinity.translate(chosen[-1], cx, cy)
    names = [p + s for p in COMPOUND_PREFIXES for s in COMPOUND_SUFFIXES]
    names = list(rng.permutation(names))
    rows = []
    for k, geom in enumerate(chosen):
        area = geom.area if geom.area > 0 else 6000.0
        # people per square metre of compound: mostly older mid-rise, a quarter high-rise
        density = rng.uniform(0.02, 0.05) if rng.random() < 0.75 else rng.uniform(0.08, 0.25)
        population = int(np.clip(round(area * density, -1), 300, 6000))
        households = round(population / rng.uniform(2.5, 3.1))
        if k in as_points:
            geom = geom.representative_point()
        rows.append(
            {
                "id": f"R{k + 1:04d}",
                "name": str(names[k]),
                "population": None if k in missing else population,
                "households": households,  # the audit takes the population from these
                "geometry": geom,
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# facilities
# --------------------------------------------------------------------------------------------


def facility_plan(
    district: Polygon, south: Polygon, north: Polygon, park: Polygon
) -> list[tuple[str, int, shapely.Geometry]]:
    """Return (type, count, region) triples: where each facility type may be placed."""

    def box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
        return shapely.box(x0, y0, x1, y1).intersection(district)

    south_east_gap = box(1850, -100, 3100, 700)  # no small public space here
    centre_south = box(900, 400, 2100, 1100)
    north_centre = box(1500, 1500, 2500, 2050)
    open_space = district.difference(south_east_gap)
    return [
        # 15-minute life circle; the northern bank gets no middle school and no day-care
        ("kindergarten", 9, south),
        ("kindergarten", 5, north),
        ("primary_school", 5, south),
        ("primary_school", 3, north),
        ("middle_school", 1, box(250, 150, 750, 600)),
        ("middle_school", 1, box(1700, 100, 2300, 600)),
        ("elderly_daycare", 6, south),
        ("fresh_market", 6, south),
        ("fresh_market", 4, north),
        ("health_station", 5, south),
        ("health_station", 3, north),
        # 10-minute activity circle (small public spaces); none in the south-east
        ("pocket_park", 14, open_space),
        ("community_park", 1, park),
        ("community_park", 2, open_space),
        ("plaza", 5, open_space),
        ("playground", 8, open_space),
        ("outdoor_fitness", 10, open_space),
        # 12-minute culture-and-sports circle: clustered, so coverage is patchy
        ("library", 1, centre_south),
        ("library", 1, north_centre),
        ("museum", 1, centre_south),
        ("cultural_centre", 2, centre_south),
        ("cultural_centre", 1, box(0, 1500, 1000, 2500)),
        ("art_gallery", 1, centre_south),
        ("theatre", 1, centre_south),
        ("cinema", 1, centre_south),
        ("cinema", 1, north_centre),
        ("stadium", 1, box(2000, 100, 2900, 900)),
        ("gymnasium", 1, box(2000, 100, 2900, 900)),
        ("gymnasium", 1, box(500, 1600, 1500, 2400)),
        ("swimming_pool", 1, box(1000, 300, 2000, 1000)),
        ("swimming_pool", 1, box(2000, 1600, 2900, 2400)),
        ("fitness_centre", 5, district),
        ("sports_ground_m", 1, box(0, 0, 1000, 1000)),
        ("sports_ground_m", 1, box(2000, 1500, 3000, 2500)),
        # types used by no Wuhan walking circle
        ("bus_stop", 16, district),
        ("metro_station", 3, district),
        ("clinic", 5, district),
        ("convenience_retail", 10, district),
        ("community_service_station", 4, district),
        ("health_centre", 1, south),
        ("hospital", 1, south),
        # emergency medical circle and the hub circles (appended last: earlier places unchanged)
        ("ems_station", 1, box(300, 100, 1200, 800)),
        ("ems_station", 1, box(1800, 1600, 2800, 2300)),
        ("rail_station", 1, box(2300, 200, 3000, 900)),
    ]


MIN_SPACING_M = {"bus_stop": 180.0, "convenience_retail": 120.0, "metro_station": 700.0}


def place_facilities(
    rng: np.random.Generator,
    roads: list[Road],
    district: Polygon,
    river: LineString,
    park: Polygon,
    communities: list[dict],
) -> list[dict]:
    """Place every facility of the plan a few metres off its nearest at-grade street.

    ``roads`` must not contain the elevated road or the isolated footpath.
    """
    south = district.intersection(region_below(list(river.coords)))
    north = district.difference(south)
    geoms = [r.geometry for r in roads]
    tree = shapely.STRtree(geoms)
    main_roads = [k for k, r in enumerate(roads) if r.highway in ("primary", "secondary")]
    main_tree = shapely.STRtree([geoms[k] for k in main_roads])
    degree = end_nodes(roads)
    by_node: dict[tuple[float, float], list[str]] = {}
    for r in roads:
        for xy in (r.geometry.coords[0], r.geometry.coords[-1]):
            by_node.setdefault(xy, []).append(r.name)

    placed: list[dict] = []
    used_names: set[str] = set()
    for ftype, count, region in facility_plan(district, south, north, park):
        minx, miny, maxx, maxy = region.bounds
        for _ in range(count):
            for _attempt in range(2000):
                target = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if not region.contains(target):
                    continue
                if ftype in ("bus_stop", "metro_station"):
                    k = main_roads[int(main_tree.nearest(target))]
                    offset = rng.uniform(5, 12) if ftype == "bus_stop" else rng.uniform(10, 25)
                else:
                    k = int(tree.nearest(target))
                    offset = rng.uniform(8, MAX_FACILITY_OFFSET_M)
                road = geoms[k]
                on_road = road.interpolate(road.project(target))
                dx, dy = target.x - on_road.x, target.y - on_road.y
                dist = math.hypot(dx, dy)
                if dist < 1.0:
                    continue
                offset = min(offset, max(dist, 5.0))
                spot = Point(on_road.x + dx / dist * offset, on_road.y + dy / dist * offset)
                if river.distance(spot) < BANK_ROAD_OFFSET_M - 5:
                    continue
                if park.contains(spot) != (region is park):
                    continue
                spacing = MIN_SPACING_M.get(ftype, 250.0)
                if any(
                    f["type"] == ftype and f["geometry"].distance(spot) < spacing for f in placed
                ):
                    continue
                break
            else:
                raise RuntimeError(f"could not place {ftype}; change SEED")
            name = facility_name(ftype, spot, roads[k], communities, by_node, degree)
            base, n = name, 1
            while name in used_names:
                n += 1
                suffix = FACILITY_SUFFIX[ftype]
                name = f"{base.removesuffix(suffix)}第{CN_NUMBERS[n - 1]}{suffix}"
            used_names.add(name)
            placed.append({"type": ftype, "name": name, "geometry": spot})
    return placed


def road_word(name: str) -> str:
    """Return a street name without its generic suffix (路, 大道, 街, 一巷...)."""
    for suffix in ("大道", "路", "街"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    if name.endswith("巷"):
        return name[:-2]
    return name


def facility_name(
    ftype: str,
    spot: Point,
    road: Road,
    communities: list[dict],
    by_node: dict[tuple[float, float], list[str]],
    degree: dict[tuple[float, float], int],
) -> str:
    """Name a facility after its street, the cross street, or its community."""
    suffix = FACILITY_SUFFIX[ftype]
    community = next((c for c in communities if c["geometry"].contains(spot)), None)
    if ftype in NAMED_BY_COMMUNITY and community is not None:
        return f"{community['community']}{suffix}"
    if ftype == "health_centre":
        sub = community["subdistrict"] if community else "临江街道"
        return f"{sub}{suffix}"
    if ftype in ("bus_stop", "metro_station"):
        ends = [road.geometry.coords[0], road.geometry.coords[-1]]
        ends.sort(key=lambda xy: spot.distance(Point(xy)))
        for xy in ends:
            others = sorted({n for n in by_node[xy] if n != road.name})
            if others and degree[xy] >= 3:
                if ftype == "metro_station":
                    return f"{road_word(others[0])}{suffix}"
                return f"{road.name}{others[0]}{suffix}"
        return f"{road.name}{suffix}"
    return f"{road_word(road.name)}{suffix}"


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def to_wgs84(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Project local-frame geometries to WGS 84 and round coordinates to ``DECIMALS``."""
    to_utm = Transformer.from_crs("EPSG:4326", UTM_CRS, always_xy=True)
    east0, north0 = to_utm.transform(CENTRE_LON, CENTRE_LAT)
    shifted = [affinity.translate(g, east0 - WIDTH_M / 2, north0 - HEIGHT_M / 2) for g in geoms]
    projected = gpd.GeoSeries(shifted, crs=UTM_CRS).to_crs("EPSG:4326")
    rounded = shapely.transform(projected.values, lambda xy: np.round(xy, DECIMALS))
    return list(shapely.orient_polygons(rounded))  # RFC 7946: exterior rings anticlockwise


def write_geojson(path: Path, rows: list[dict], name: str) -> None:
    """Write ``rows`` (dicts with a ``geometry`` key) as RFC 7946 GeoJSON, one feature a line."""
    geoms = to_wgs84([r["geometry"] for r in rows])
    features = []
    for row, geom in zip(rows, geoms, strict=True):
        props = {k: v for k, v in row.items() if k != "geometry"}
        feature = {"type": "Feature", "properties": props, "geometry": mapping(geom)}
        features.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    header = '{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n'
    text = header + ",\n".join(features) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


# school places (学位): a base size per type, varied by the facility's number
SEATS = {"kindergarten": (450, 300), "primary_school": (1800, 900), "middle_school": (1500, 900)}


def seats(ftype: str, k: int) -> str:
    """Invented school places of facility ``k``: empty for other types."""
    if ftype not in SEATS:
        return ""
    base, spread = SEATS[ftype]
    return str(base + (k * 37) % spread)


def write_facilities(path: Path, facilities: list[dict]) -> None:
    """Write the facilities as a UTF-8 CSV with WGS 84 ``lon``/``lat`` columns."""
    points = to_wgs84([f["geometry"] for f in facilities])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "name", "type", "lon", "lat", "seats"])
        for k, (f, p) in enumerate(zip(facilities, points, strict=True)):
            row = [f"F{k + 1:03d}", f["name"], f["type"], f"{p.x:.7f}", f"{p.y:.7f}"]
            writer.writerow([*row, seats(f["type"], k)])


# --------------------------------------------------------------------------------------------
# self-check
# --------------------------------------------------------------------------------------------


def check_network(roads: list[Road]) -> dict[str, int]:
    """Check the noded network in the local frame; raise if an invariant is broken."""
    degree = end_nodes(roads)
    index = {xy: k for k, xy in enumerate(degree)}
    ends = np.array([(index[r.geometry.coords[0]], index[r.geometry.coords[-1]]) for r in roads])
    n_nodes = len(index)
    adjacency = coo_array((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), (n_nodes, n_nodes))
    _, labels = connected_components(adjacency, directed=False)
    components = sorted(np.bincount(labels).tolist(), reverse=True)
    geoms = [r.geometry for r in roads]
    tree = shapely.STRtree(geoms)
    crossings = 0
    for k, g in enumerate(geoms):
        for m in tree.query(g, predicate="intersects"):
            if m <= k:
                continue
            hit = g.intersection(geoms[m])
            shared = {g.coords[0], g.coords[-1]} & {geoms[m].coords[0], geoms[m].coords[-1]}
            if not (hit.geom_type == "Point" and hit.coords[0] in shared):
                crossings += 1
    assert crossings == 2, f"expected the overpass's 2 crossings, found {crossings}"
    assert components[0] / n_nodes > 0.95
    assert min(g.length for g in geoms) > 5.0
    return {
        "roads": len(roads),
        "nodes": n_nodes,
        "components": len(components),
        "dead_ends": sum(1 for d in degree.values() if d == 1),
        "crossings": crossings,
    }


# --------------------------------------------------------------------------------------------


def main() -> None:
    """Build the district and write its files next to this script."""
    rng = np.random.default_rng(SEED)
    corners = arterial_corners(rng)
    river = river_centre_line()
    outer = [corners[0][0], corners[-1][0], corners[-1][-1], corners[0][-1]]
    district = Polygon(outer)
    i, j = PARK_BLOCK
    park = Polygon([corners[i][j], corners[i + 1][j], corners[i + 1][j + 1], corners[i][j + 1]])

    roads = node_roads(ground_roads(rng, corners, river), district, river)
    overpass = find_overpass(roads, river, park)
    network = [*roads, Road(overpass, "环城高架路", "primary"), *isolated_footpath(corners)]
    stats = check_network(network)

    communities = community_polygons(corners, river, district)
    compounds = compound_polygons(roads, overpass, river, park, rng)
    residents = residents_table(compounds, district, rng)
    facilities = place_facilities(rng, roads, district, river, park, communities)
    for ftype, names in HUB_NAMES.items():
        hubs = [f for f in facilities if f["type"] == ftype]
        for facility, name in zip(hubs, names, strict=True):
            facility["name"] = name
    south = district.intersection(region_below(list(river.coords)))
    zones = [
        {"name": ZONE_NAMES["north"], "geometry": district.difference(south)},
        {"name": ZONE_NAMES["south"], "geometry": south},
    ]
    too_far = [f for f in facilities if min(r.geometry.distance(f["geometry"]) for r in roads) > 60]
    assert not too_far, "a facility lies more than 60 m from a street"

    write_geojson(
        HERE / "roads.geojson",
        [
            {
                "name": r.name,
                "highway": r.highway,
                "bridge": "yes" if r.geometry is overpass else "no",
                "geometry": r.geometry,
            }
            for r in network
        ],
        "roads",
    )
    write_geojson(HERE / "communities.geojson", communities, "communities")
    write_geojson(HERE / "zones.geojson", zones, "zones")
    write_geojson(HERE / "residents.geojson", residents, "residents")
    write_facilities(HERE / "facilities.csv", facilities)
    print(
        f"wrote {stats['roads']} road segments ({stats['nodes']} nodes, {stats['components']} "
        f"components, {stats['crossings']} crossings without junction), {len(communities)} "
        f"communities, {len(residents)} residents, {len(facilities)} facilities to {HERE}"
    )


if __name__ == "__main__":
    main()
