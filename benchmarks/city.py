"""City-scale benchmark: a full `circles audit` of all seven Wuhan circles on a real network.

Not part of the test suite. From a fixed seed it places residents and facilities (the facility
types the Wuhan preset uses, hubs named as in its line-haul tables) on the Porto network
(303,643 walking nodes), writes them to files, and runs `circles audit` in a subprocess, the
way a user runs it: first the bundled example (on the first run after installation numba
compiles the search kernels; that one-off cost is printed apart), then Porto with an empty
network cache (cold) and three times again (warm; the median counts). It prints each stage's
time, the wall time and the peak memory, with issue 17's targets beside them. In the same run:

- the pandana pipeline a user would write for the walking queries (pyrosm reads the extract,
  pandana builds its contraction hierarchy, ``nearest_pois`` for every walking facility type,
  each resident's nearest node), in a subprocess too, and circles' ratio to it, cold and warm;
- the engines alone on the same nearest-facility queries (circles' builtin vs ``nearest_pois``);
- unless ``--quick``: 1,000,000 residents on Porto, ``--excel-residents`` at 300,000 rows,
  ``--planned`` against the plain audit (and with ``--scaling`` a scaling table over residents
  and networks), and Porto tiled 3 × 3 (2.7 M walking nodes, 2.7 M residents, 180,000
  facilities; written by benchmarks/tiled.py, needs pyosmium) cold and warm.

    python benchmarks/city.py                  # all the targets (about 15 minutes)
    python benchmarks/city.py --quick          # Porto, pandana and the engines only
    python benchmarks/city.py --tiled 0        # without the tiled city
    python benchmarks/city.py --scaling        # and a scaling table over residents and networks

Needs ../shared/data (the Porto, Liechtenstein and Andorra extracts).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "osm_engine_testdata"
NETWORKS = {
    "Liechtenstein": DATA / "liechtenstein_valhalla.osm.pbf",
    "Andorra": DATA / "andorra_valhalla_bench.osm.pbf",
    "Porto": DATA / "porto_portugal_r5.osm.pbf",
}
WALK_TYPES = [
    "kindergarten",
    "primary_school",
    "middle_school",
    "elderly_daycare",
    "fresh_market",
    "health_station",
    "health_centre",
    "pocket_park",
    "community_park",
    "plaza",
    "playground",
    "outdoor_fitness",
    "library",
    "museum",
    "cultural_centre",
    "art_gallery",
    "theatre",
    "cinema",
    "stadium",
    "gymnasium",
    "swimming_pool",
    "fitness_centre",
    "sports_ground_m",
]
HUBS = {
    "metro_station": [
        "江汉路",
        "中山公园",
        "循礼门",
        "汉口火车站",
        "钟家村",
        "王家湾",
        "武昌火车站",
        "街道口",
        "光谷广场",
        "徐家棚",
        "洪山广场",
    ],
    "rail_station": ["武汉站", "汉口站", "武昌站"],
    "airport": ["天河机场"],
}
STAGES = ["rules", "read", "network", "snap", "travel", "evaluate", "areas", "write"]
WARM_RUNS = 3  # the warm figure is their median


def walk_nodes(pbf: Path) -> pd.DataFrame:
    """Longitude and latitude of the walking network's nodes (where people and places go)."""
    import pyrosm

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        nodes, _ = pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)
    return nodes[["lon", "lat"]]


def make_inputs(nodes: pd.DataFrame, n_res: int, n_fac: int, folder: Path, seed: int) -> None:
    """Residents and facilities scattered around random network nodes (about 40 m off)."""
    rng = np.random.default_rng(seed)
    xy = nodes.to_numpy()
    res = xy[rng.integers(0, len(xy), n_res)] + rng.normal(0, 0.0004, (n_res, 2))
    fac = xy[rng.integers(0, len(xy), n_fac)] + rng.normal(0, 0.0004, (n_fac, 2))
    types = np.array(WALK_TYPES + ["ems_station"] * 3 + ["metro_station"] * 2)
    ftype = rng.choice(types, n_fac).astype(object)
    names = np.full(n_fac, "", dtype=object)
    start = 0
    for hub_type, hub_names in HUBS.items():
        rows = np.arange(start, start + len(hub_names))
        ftype[rows], names[rows] = hub_type, hub_names
        start += len(hub_names)
    pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n_res)],
            "population": rng.integers(10, 500, n_res),
            "lon": res[:, 0],
            "lat": res[:, 1],
        }
    ).to_csv(folder / "residents.csv", index=False)
    pd.DataFrame(
        {
            "id": [f"f{i}" for i in range(n_fac)],
            "type": ftype,
            "name": names,
            "lon": fac[:, 0],
            "lat": fac[:, 1],
        }
    ).to_csv(folder / "facilities.csv", index=False)


def run_audit(
    pbf: Path, folder: Path, cache: Path, extra: list[str] | None = None, tag: str = ""
) -> dict:
    """`circles audit` in a subprocess: stage times, wall time and peak memory."""
    args = [
        "--network",
        str(pbf),
        "--facilities",
        str(folder / f"facilities{tag}.csv"),
        "--residents",
        str(folder / f"residents{tag}.csv"),
        *(extra or []),
    ]
    return _circles_audit(args, folder / "report", cache)


def run_example(folder: Path) -> dict:
    """The bundled example district, as the README's quick start runs it."""
    project = HERE.parent / "examples" / "synthetic_district" / "circles.yaml"
    return _circles_audit([str(project)], folder / "example", folder / "example-cache")


def _circles_audit(args: list[str], out: Path, cache: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, CIRCLES_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "circles", "audit", *args, "--out", str(out), "-q", "--timings"]
    start = time.perf_counter()
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as audit:
        sampled = _sampled_peak(audit)
        stdout, stderr = audit.communicate()
        peak_all = sampled()
    wall = time.perf_counter() - start
    if audit.returncode != 0:
        raise SystemExit(f"circles audit failed:\n{stderr}{stdout[-2000:]}")
    times = {k: float(v) for k, v in re.findall(r"timing: (\w+) ([\d.]+)", stderr)}
    # the audit's own peak (exact) or, when higher, the audit and the child process writing
    # the residents' layer together (sampled every 20 ms)
    return {"wall_s": wall, **times, "peak_all": max(times.get("peak_rss", 0.0), peak_all)}


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _sampled_peak(process: subprocess.Popen) -> Callable[[], float]:
    """Sample the RSS of ``process`` and its children every 20 ms on a thread; return a
    function giving the largest sum once the process has ended (Linux; 0 elsewhere).

    A child counts once it runs its own program: between fork and exec it shares its
    parent's pages.
    """
    peak = [0.0]

    def sample() -> None:
        own = Path(f"/proc/{process.pid}/cmdline")
        while process.poll() is None:
            try:
                mine = own.read_bytes()
                kids = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
            except OSError:
                break
            total = _rss_mib(process.pid)
            for kid in kids.split():
                try:
                    if Path(f"/proc/{kid}/cmdline").read_bytes() != mine:
                        total += _rss_mib(int(kid))
                except OSError:
                    continue
            peak[0] = max(peak[0], total)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/status").exists():
        thread.start()

    def result() -> float:
        if thread.ident is not None:
            thread.join()
        return peak[0]

    return result


#: the pandana pipeline as a user writes it: pyrosm, pandana's network, nearest_pois per type
PANDANA_PIPELINE = """
import sys
import pandas as pd
import pyrosm

pbf, facilities, residents, maxdist = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
osm = pyrosm.OSM(pbf)
nodes, edges = osm.get_network(network_type="walking", nodes=True)
net = osm.to_graph(nodes, edges, graph_type="pandana")
fac = pd.read_csv(facilities)
res = pd.read_csv(residents)
res_node = net.get_node_ids(res["lon"], res["lat"]).to_numpy()
nearest = {}
for t in sys.argv[5].split(","):
    f = fac[fac["type"] == t]
    net.set_pois(t, maxdist, 1, f["lon"], f["lat"])
    nearest[t] = net.nearest_pois(maxdist, t, num_pois=1)[1].reindex(res_node).to_numpy()
print(sum(int((v < maxdist).sum()) for v in nearest.values()))
"""
PANDANA_MAXDIST_M = 900.0  # the 15-minute walk at 60 m/min, the longest walking threshold


def forget_pyrosm(pbf: Path) -> None:
    """Empty pyrosm's own result cache of ``pbf`` (pyrosm ≥ 0.25 keeps one under the temp dir).

    A cold run parses the extract: pyrosm's cache would spare it that (and circles before issue
    17 read extracts with pyrosm).
    """
    import pyrosm

    clear = getattr(pyrosm.OSM, "clear_cache", None)
    if clear is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            clear(str(pbf))


def pandana_pipeline(pbf: Path, folder: Path) -> dict:
    """The user's pandana pipeline for the walking queries, in a subprocess, timed as a whole."""
    script = folder / "pandana_pipeline.py"
    script.write_text(PANDANA_PIPELINE, encoding="utf-8")
    cmd = [
        sys.executable,
        str(script),
        str(pbf),
        str(folder / "facilities.csv"),
        str(folder / "residents.csv"),
        str(PANDANA_MAXDIST_M),
        ",".join(WALK_TYPES),
    ]
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "peak_kb %M", *cmd], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the pandana pipeline failed:\n{done.stderr}")
    peak = re.search(r"peak_kb (\d+)", done.stderr)
    return {"wall_s": wall, "peak_rss": int(peak.group(1)) / 1024 if peak else float("nan")}


def planned_facilities(nodes: pd.DataFrame, folder: Path, seed: int, n: int = 50) -> Path:
    """``n`` planned facilities of three walking types near random network nodes."""
    rng = np.random.default_rng(seed + 1)
    xy = nodes.to_numpy()[rng.integers(0, len(nodes), n)] + rng.normal(0, 0.0004, (n, 2))
    types = rng.choice(["kindergarten", "elderly_daycare", "fresh_market"], n)
    path = folder / "planned.csv"
    pd.DataFrame(
        {"id": [f"p{i}" for i in range(n)], "type": types, "lon": xy[:, 0], "lat": xy[:, 1]}
    ).to_csv(path, index=False)
    return path


def baseline(pbf: Path, folder: Path) -> dict:
    """pandana vs circles' engine on the same nearest-facility queries (one per type)."""
    from circles.inputs.read import read_layer
    from circles.network.build import build_network
    from circles.network.snap import snap_points
    from circles.traveltime.engine import BuiltinEngine
    from circles.traveltime.engine_pandana import PandanaEngine
    from circles.traveltime.graph import build_search_graph

    net = build_network(pbf)
    fac = read_layer(folder / "facilities.csv", "facilities").to_crs(net.crs)
    snaps = snap_points(net, fac.geometry.to_numpy(dtype=object), 250.0)
    graph = build_search_graph(net, snaps)
    types = fac["type"].to_numpy(dtype=object)
    queries = [np.flatnonzero((types == t) & snaps.on_network) for t in WALK_TYPES]
    horizon = 1800.0  # twice the 15-minute walk at 60 m/min

    engine = BuiltinEngine(graph)
    engine.nearest(graph.facility_node[queries[0][:1]], queries[0][:1], 1, 1.0)  # load kernel
    start = time.perf_counter()
    engine = BuiltinEngine(graph)
    ours = [engine.nearest(graph.facility_node[q], q, 1, horizon) for q in queries]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    engine = BuiltinEngine(graph)
    engine.nearest_many([(graph.facility_node[q], q, 1, horizon) for q in queries])
    threads_s = time.perf_counter() - start

    start = time.perf_counter()
    pandana = PandanaEngine(graph)
    build_s = time.perf_counter() - start
    theirs = [pandana.nearest(graph.facility_node[q], q, 1, horizon) for q in queries]
    pandana_s = time.perf_counter() - start

    both = [
        np.isfinite(a[0][:, 0]) & np.isfinite(b[0][:, 0]) for a, b in zip(ours, theirs, strict=True)
    ]
    diff = max(
        float(np.abs(a[0][m, 0] - b[0][m, 0]).max(initial=0.0))
        for a, b, m in zip(ours, theirs, both, strict=True)
    )
    return {
        "queries": len(queries),
        "nodes": graph.n_nodes,
        "circles_s": ours_s,
        "circles_threads_s": threads_s,
        "pandana_s": pandana_s,
        "pandana_build_s": build_s,
        "max_difference_m": diff,
    }


def print_run(label: str, r: dict) -> None:
    stages = " ".join(f"{s} {r.get(s, float('nan')):.2f}" for s in STAGES)
    print(
        f"{label:<30} {stages} | total {r['total']:.2f} s, wall {r['wall_s']:.2f} s, "
        f"peak RSS {r['peak_rss']:.0f} MiB ({r['peak_all']:.0f} with the layer writer)"
    )


def print_baseline(b: dict) -> None:
    """The engines alone on the same queries."""
    print(
        f"\nthe engines alone, same {b['queries']} nearest-facility queries (k = 1, "
        f"1,800 m) on {b['nodes']:,} search nodes:"
    )
    print(f"  circles builtin engine      {b['circles_s']:.2f} s (no preprocessing)")
    print(f"    the same, two at a time   {b['circles_threads_s']:.2f} s (as the audit runs them)")
    print(
        f"  pandana nearest_pois        {b['pandana_s']:.2f} s "
        f"(of which contraction hierarchy {b['pandana_build_s']:.2f} s)"
    )
    print(
        f"  ratio pandana / circles     {b['pandana_s'] / b['circles_s']:.1f}x; largest "
        f"difference {b['max_difference_m']:.3f} m (pandana rounds weights to 1 mm)"
    )


def target(label: str, value: float, limit: float, unit: str) -> bool:
    """Print one figure beside its target (at most ``limit``; at least ``-limit`` if negative)."""
    met = value >= -limit if limit < 0 else value <= limit
    sign = ">=" if limit < 0 else "<="
    print(
        f"  {label:<46} {value:9.2f} {unit:<4} target {sign} {abs(limit):g} {unit:<4} "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=300_000)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--quick", action="store_true", help="Porto, pandana and engines only")
    parser.add_argument("--tiled", type=int, default=3, help="Porto tiled N x N (0: none)")
    parser.add_argument("--scaling", action="store_true", help="add the scaling table")
    parser.add_argument(
        "--tiled-folder", type=Path, help="the tiled files already written by benchmarks/tiled.py"
    )
    args = parser.parse_args()
    missing = [str(p) for p in NETWORKS.values() if not p.exists()]
    if missing:
        raise SystemExit(f"missing benchmark data: {', '.join(missing)} (needs ../shared/data)")

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    work = Path(tempfile.mkdtemp(prefix="circles-bench-"))
    met: dict[str, bool] = {}
    try:
        porto = NETWORKS["Porto"]
        nodes = walk_nodes(porto)
        make_inputs(nodes, args.residents, args.facilities, work, args.seed)
        print(
            f"\nPorto: {len(nodes):,} walk nodes, {args.residents:,} residents, "
            f"{args.facilities:,} facilities, all seven Wuhan circles"
        )
        example = run_example(work)
        print(
            f"bundled example first (on the first run after installation numba compiles the "
            f"search kernels, once): {example['wall_s']:.2f} s wall"
        )
        print("stage times in seconds: " + ", ".join(STAGES))
        cache = work / "cache"
        forget_pyrosm(porto)
        cold = run_audit(porto, work, cache)
        warm_runs = [run_audit(porto, work, cache) for _ in range(WARM_RUNS)]
        print_run("cold (empty network cache)", cold)
        for i, run in enumerate(warm_runs, 1):
            print_run(f"warm (cached network) #{i}", run)
        warm = sorted(warm_runs, key=lambda r: r["wall_s"])[len(warm_runs) // 2]
        print(f"warm median: wall {warm['wall_s']:.2f} s")
        forget_pyrosm(porto)
        user = pandana_pipeline(porto, work)  # pyrosm parses the extract
        user_warm = pandana_pipeline(porto, work)  # pyrosm's own cache filled
        print(
            f"pandana pipeline (pyrosm, contraction hierarchy, nearest_pois for the "
            f"{len(WALK_TYPES)} walking types within {PANDANA_MAXDIST_M:g} m, residents' nodes): "
            f"{user['wall_s']:.2f} s wall cold, {user_warm['wall_s']:.2f} s with pyrosm's cache "
            f"filled, peak RSS {user['peak_rss']:.0f} MiB"
        )
        print("\ntargets (issue 17):")
        peak = max(cold["peak_all"], *(r["peak_all"] for r in warm_runs))
        met["cold"] = target("Porto cold, wall", cold["wall_s"], 3.0, "s")
        met["warm"] = target("Porto warm (median), wall", warm["wall_s"], 2.0, "s")
        met["peak"] = target("Porto peak RSS", peak / 1024, 1.0, "GiB")
        ratio_cold = user["wall_s"] / cold["wall_s"]
        ratio_warm = user_warm["wall_s"] / warm["wall_s"]
        met["pandana_cold"] = target("pandana pipeline cold / circles cold", ratio_cold, -5, "x")
        met["pandana_warm"] = target("pandana pipeline warm / circles warm", ratio_warm, -7, "x")

        b = baseline(porto, work)
        print_baseline(b)
        extras: dict = {}
        if not args.quick:
            extras = more_cases(nodes, porto, work, cache, args, met)
        tiled = {}
        if args.tiled and not args.quick:
            tiled = tiled_case(args.tiled, work, met, args.tiled_folder)
        print("\ntargets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))
        print(
            json.dumps(
                {
                    "cold": cold,
                    "warm": warm_runs,
                    "pandana_pipeline": user,
                    "pandana_pipeline_warm": user_warm,
                    "baseline": b,
                    "example": example,
                    "extras": extras,
                    "tiled": tiled,
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def more_cases(
    nodes: pd.DataFrame, porto: Path, work: Path, cache: Path, args: argparse.Namespace, met: dict
) -> dict:
    """1M residents, --excel-residents, --planned and the scaling table (warm cache)."""
    out: dict = {}
    print("\nmore cases on Porto (warm cache):")
    big = work / "million"
    big.mkdir()
    make_inputs(nodes, 1_000_000, args.facilities, big, args.seed)
    out["million"] = run_audit(porto, big, cache)
    print_run("  1,000,000 residents", out["million"])
    out["plain"] = run_audit(porto, work, cache, ["--service-areas", "none"])
    print_run("  300,000 residents, no areas", out["plain"])
    out["excel"] = run_audit(porto, work, cache, ["--service-areas", "none", "--excel-residents"])
    print_run("  the same, --excel-residents", out["excel"])
    planned = planned_facilities(nodes, work, args.seed)
    plain = run_audit(porto, work, cache)
    out["planned"] = run_audit(porto, work, cache, ["--planned", str(planned)])
    print_run("  the plain audit again", plain)
    print_run("  --planned (50 planned facilities)", out["planned"])
    met["million"] = target(
        "1,000,000 residents, peak RSS", out["million"]["peak_all"] / 1024, 2.0, "GiB"
    )
    met["excel"] = target(
        "--excel-residents 300,000 rows: the write stage", out["excel"]["write"], 10.0, "s"
    )
    met["planned"] = target(
        "--planned / plain audit, wall", out["planned"]["wall_s"] / plain["wall_s"], 1.3, "x"
    )

    if args.scaling:
        scaling(nodes, porto, work, cache, args)
    return out


def scaling(
    nodes: pd.DataFrame, porto: Path, work: Path, cache: Path, args: argparse.Namespace
) -> None:
    """Wall time over residents (Porto) and over networks (warm cache)."""
    print("\nscaling with residents (Porto, warm cache):")
    for share in (0.25, 0.5, 1.0):
        sub = work / f"res{share}"
        sub.mkdir()
        make_inputs(nodes, int(args.residents * share), args.facilities, sub, args.seed)
        run_audit(porto, sub, cache)
        print_run(f"  {int(args.residents * share):,} residents", run_audit(porto, sub, cache))
    print("\nscaling with networks (100,000 residents, 10,000 facilities, warm cache):")
    for name, pbf in NETWORKS.items():
        sub = work / name
        sub.mkdir()
        net_nodes = walk_nodes(pbf)
        make_inputs(net_nodes, 100_000, 10_000, sub, args.seed)
        run_audit(pbf, sub, cache)
        print_run(f"  {name} ({len(net_nodes):,} nodes)", run_audit(pbf, sub, cache))


def tiled_case(n: int, work: Path, met: dict, given: Path | None = None) -> dict:
    """Porto tiled n × n (benchmarks/tiled.py, or its files in ``given``), cold and warm."""
    import tiled

    folder = given or work / "tiled"
    pbf = folder / f"porto_tiled_{n}x{n}.osm.pbf"
    if given is None:
        folder.mkdir()
        print(f"\nPorto tiled {n} x {n} (writing the extract, residents and facilities)...")
        shift = tiled.tile_pbf(NETWORKS["Porto"], n, pbf)
        make_inputs(walk_nodes(NETWORKS["Porto"]), 300_000, 20_000, folder, seed=1)
        for name in ("residents", "facilities"):
            tiled.tile_table(folder / f"{name}.csv", n, shift, folder / f"{name}_{n}x{n}.csv")
    else:
        print(f"\nPorto tiled {n} x {n} (files in {folder})")
    cache = work / "tiled-cache"
    forget_pyrosm(pbf)
    cold = run_audit(pbf, folder, cache, tag=f"_{n}x{n}")
    warm = run_audit(pbf, folder, cache, tag=f"_{n}x{n}")
    print(f"{n * n * 300_000:,} residents, {n * n * 20_000:,} facilities; stage times in seconds")
    print_run("  cold", cold)
    print_run("  warm", warm)
    peak = max(cold["peak_all"], warm["peak_all"]) / 1024
    if n == 3:
        met["tiled_cold"] = target("tiled 3 x 3 cold, wall", cold["wall_s"], 30.0, "s")
        met["tiled_warm"] = target("tiled 3 x 3 warm, wall", warm["wall_s"], 15.0, "s")
        met["tiled_peak"] = target("tiled 3 x 3 peak RSS", peak, 3.0, "GiB")
    return {"cold": cold, "warm": warm}


if __name__ == "__main__":
    main()
