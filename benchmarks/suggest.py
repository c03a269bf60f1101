"""Benchmark of `circles suggest` at city scale (not part of the test suite).

Porto (303,643 walking nodes), the residents and facilities of benchmarks/city.py (300,000 and
20,000, fixed seed), 20,000 candidate sites scattered over the network like the facilities;
`circles suggest --requirement life_15min/elderly_daycare --add 50` in a subprocess, as a user
runs it, with its wall time and peak memory, then the same with --exact (HiGHS, time limit).

    python benchmarks/suggest.py

Needs ../shared/data (the Porto extract).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import city


def main() -> None:
    porto = city.NETWORKS["Porto"]
    if not porto.exists():
        raise SystemExit("missing benchmark data: the Porto extract (needs ../shared/data)")
    work = Path(tempfile.mkdtemp(prefix="circles-suggest-"))
    nodes = city.walk_nodes(porto)
    city.make_inputs(nodes, 300_000, 20_000, work, seed=1)
    rng = np.random.default_rng(2)
    xy = nodes.to_numpy()[rng.integers(0, len(nodes), 20_000)] + rng.normal(0, 0.0004, (20_000, 2))
    pd.DataFrame(
        {"id": [f"c{i}" for i in range(len(xy))], "lon": xy[:, 0], "lat": xy[:, 1]}
    ).to_csv(work / "candidates.csv", index=False)
    env = dict(os.environ, CIRCLES_CACHE_DIR=str(work / "cache"))
    base = [
        sys.executable,
        "-m",
        "circles",
        "suggest",
        "--network",
        str(porto),
        "--facilities",
        str(work / "facilities.csv"),
        "--residents",
        str(work / "residents.csv"),
        "--requirement",
        "life_15min/elderly_daycare",
        "--candidates",
        str(work / "candidates.csv"),
        "--add",
        "50",
    ]
    print(
        f"Porto: {len(nodes):,} walk nodes, 300,000 residents, 20,000 facilities, "
        "20,000 candidates, p = 50"
    )
    for label, extra in (
        ("warm-up (network cache)", []),
        ("greedy + swaps", []),
        ("with --exact (60 s limit)", ["--exact", "--time-limit", "60"]),
    ):
        out = work / "out"
        cmd = ["/usr/bin/time", "-f", "%M", *base, *extra, "-o", str(out), "--overwrite"]
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        lines = [line for line in done.stdout.splitlines() if "sites:" in line or "exact" in line]
        print(f"{label:28s} wall {wall:6.1f} s, peak RSS {peak:,.0f} MiB | " + " | ".join(lines))


if __name__ == "__main__":
    main()
