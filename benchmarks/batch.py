"""Batch benchmark: `circles batch` over Porto split 2×2, with 1 and 2 Dask workers.

Not part of the test suite. The same Porto residents and facilities as benchmarks/city.py (all
seven Wuhan circles), split by a 2×2 grid of polygons over the residents' extent. It runs, as a
user runs them (subprocesses): one `circles audit` of the whole city, then `circles batch` with
a local cluster of 1 and of 2 workers, all with the network cache already filled. It prints the
wall times, each unit's time and its worker's peak memory, the speed-up of 2 workers over 1, and
checks that the batch's combined residents.csv equals the whole-city audit's, resident by
resident.

    python benchmarks/batch.py                    # 300,000 residents
    python benchmarks/batch.py --residents 50000
    python benchmarks/batch.py --tiled 2          # Porto tiled 2×2 (benchmarks/tiled.py), one
                                                  # unit per tile: 4 × the residents

With ``--tiled N`` the network is the Porto extract copied N × N times side by side and the
units are the N × N tiles (needs pyosmium, as benchmarks/tiled.py does).

Needs ../shared/data (the Porto extract).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from city import NETWORKS, make_inputs, walk_nodes


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{done.stderr}")
    return wall


def _tiles(folder: Path, n: int, shift: tuple[float, float], origin: tuple[float, float]) -> None:
    """One polygon per tile of the tiled extract."""
    boxes, names = [], []
    for tile in range(n * n):
        col, row = tile % n, tile // n
        x0, y0 = origin[0] + col * shift[0], origin[1] + row * shift[1]
        x1, y1 = x0 + shift[0], y0 + shift[1]
        # the outer tiles reach further out: residents scattered past the extract's edge
        x0, y0 = x0 - 0.05 * (col == 0), y0 - 0.05 * (row == 0)
        x1, y1 = x1 + 0.05 * (col == n - 1), y1 + 0.05 * (row == n - 1)
        boxes.append(shapely.box(x0, y0, x1, y1))
        names.append(f"tile{tile}")
    gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=4326).to_file(
        folder / "districts.geojson"
    )


def _grid(folder: Path) -> None:
    res = pd.read_csv(folder / "residents.csv")
    x0, x1 = res["lon"].min() - 0.01, res["lon"].max() + 0.01
    y0, y1 = res["lat"].min() - 0.01, res["lat"].max() + 0.01
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [
        shapely.box(x0, y0, xm, ym),
        shapely.box(xm, y0, x1, ym),
        shapely.box(x0, ym, xm, y1),
        shapely.box(xm, ym, x1, y1),
    ]
    gpd.GeoDataFrame({"name": ["sw", "se", "nw", "ne"]}, geometry=boxes, crs=4326).to_file(
        folder / "districts.geojson"
    )


def _same(whole: Path, batch: Path) -> bool:
    a = pd.read_csv(whole, encoding="utf-8-sig", dtype={"resident_id": str})
    b = pd.read_csv(batch, encoding="utf-8-sig", dtype={"resident_id": str}).drop(columns="unit")
    a = a.sort_values("resident_id").reset_index(drop=True)
    b = b.sort_values("resident_id").reset_index(drop=True)
    return list(a.columns) == list(b.columns) and a.equals(b)


def main() -> None:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=300_000)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--tiled", type=int, default=0, help="Porto tiled N × N, a unit a tile")
    args = parser.parse_args()
    pbf = NETWORKS["Porto"]
    with tempfile.TemporaryDirectory(prefix="circles-batch-bench-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, CIRCLES_CACHE_DIR=str(folder / "cache"))
        nodes = walk_nodes(pbf)
        make_inputs(nodes, args.residents, args.facilities, folder, args.seed)
        if args.tiled:
            from tiled import tile_pbf, tile_table

            n = args.tiled
            tiled = folder / f"porto_tiled_{n}x{n}.osm.pbf"
            shift = tile_pbf(pbf, n, tiled)
            for name in ("residents", "facilities"):
                tile_table(folder / f"{name}.csv", n, shift, folder / f"{name}_t.csv")
                (folder / f"{name}_t.csv").replace(folder / f"{name}.csv")
            origin = (float(nodes["lon"].min()) - 0.001, float(nodes["lat"].min()) - 0.001)
            _tiles(folder, n, shift, origin)
            pbf = tiled
            print(f"Porto tiled {n}×{n}: {n * n} units, {n * n * args.residents:,} residents")
        else:
            _grid(folder)
        (folder / "MANIFEST.yaml").write_text(
            f"network: {pbf}\nfacilities: facilities.csv\nresidents: residents.csv\n"
            "partition: {by: districts.geojson, field: name}\n",
            encoding="utf-8",
        )
        circles = [sys.executable, "-m", "circles"]
        audit = [*circles, "audit", "--network", str(pbf), "--facilities"]
        audit += [str(folder / "facilities.csv"), "--residents", str(folder / "residents.csv")]
        audit += ["-q", "--overwrite", "--out", str(folder / "whole")]
        _run(audit, env)  # fills the network cache (and compiles the kernels if needed)
        whole_s = _run(audit, env)
        print(f"circles audit, whole city (warm cache): {whole_s:.2f} s")
        walls = {}
        for workers in (1, 2):
            out = folder / f"batch{workers}"
            cmd = [*circles, "batch", str(folder / "MANIFEST.yaml"), "--out", str(out)]
            walls[workers] = _run([*cmd, "--workers", str(workers)], env)
            units = pd.read_csv(out / "units.csv", encoding="utf-8-sig")
            same = _same(folder / "whole" / "residents.csv", out / "residents.csv")
            print(
                f"\ncircles batch --workers {workers}: {walls[workers]:.2f} s wall; "
                f"combined residents.csv equals the whole-city audit: {same}"
            )
            print(units[["unit", "seconds", "residents", "peak_rss_mib"]].to_string(index=False))
        print(f"\nspeed-up of 2 workers over 1: {walls[1] / walls[2]:.2f}×")


if __name__ == "__main__":
    main()
