"""circles suggest on real networks, against an independent maximal-covering MILP and the audit.

Residents, facilities and candidate sites stand on network vertices, so that every cost is a
vertex-to-vertex network distance: networkx computes them here from pyrosm's edges (its own
graph, no package code), the test builds the coverage matrix and solves the integer program with
scipy's HiGHS itself. The package's exact answer must equal it, and the greedy answer is
reported against it. Then ``circles audit --planned planned.csv`` must give exactly the
population the suggestion predicts.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp

from circles.audit import AuditOptions, run_audit
from circles.suggest.run import SuggestOptions, run_suggest
from tests.conftest import shared
from tests.test_real_networks import main_vertices

SPEED = 60.0  # m/min


def _rules(folder: Path, minutes: float, min_count: int) -> Path:
    path = folder / "school.yaml"
    count = f"min_count: {min_count}" if min_count > 1 else "# one school"
    source = "min_count: {ref: test, tag: default}" if min_count > 1 else "# no min_count"
    path.write_text(
        textwrap.dedent(
            f"""\
            id: walk
            name: {{zh: 步行, en: walking}}
            mode: walk
            speed_m_per_min: {SPEED}
            sources: {{speed_m_per_min: {{ref: test, tag: default}}}}
            requirements:
              - id: school
                facility_type: primary_school
                max_time_min: {minutes}
                {count}
                target_coverage: 0.9
                sources:
                  max_time_min: {{ref: test, tag: default}}
                  {source}
                  target_coverage: {{ref: test, tag: default}}
            """
        ),
        encoding="utf-8",
    )
    return path


def _instance(pbf: Path, tmp_path: Path, seed: int, sizes: tuple[int, int, int]):
    """Residents, facilities and candidates on distinct vertices of the largest component."""
    graph, lonlat, nodes, _ = main_vertices(pbf)  # one place, one vertex
    rng = np.random.default_rng(seed)
    n_res, n_fac, n_cand = sizes
    picks = rng.choice(nodes, size=sum(sizes), replace=False)
    res, fac, cand = np.split(picks, [n_res, n_res + n_fac])
    pop = rng.integers(1, 500, n_res)

    def write(name: str, ids: list[str], ns: np.ndarray, **columns: object) -> Path:
        path = tmp_path / f"{name}.geojson"
        gpd.GeoDataFrame(
            {"id": ids, **columns},
            geometry=[shapely.Point(lonlat[n]) for n in ns],
            crs="EPSG:4326",
        ).to_file(path)
        return path

    files = {
        "residents": write("res", [f"r{i}" for i in range(n_res)], res, population=pop),
        "facilities": write("fac", [f"f{i}" for i in range(n_fac)], fac, type="primary_school"),
        "candidates": write("cand", [f"c{i}" for i in range(n_cand)], cand),
    }
    return graph, res, fac, cand, pop.astype(float), files


def _independent_optimum(graph, res, fac, cand, pop, limit_m: float, k: int, p: int) -> float:
    """The maximal-covering MILP from networkx distances: built and solved here."""

    def within(sources) -> dict:
        out: dict = {}
        for s in sources:
            for node in nx.single_source_dijkstra_path_length(graph, s, cutoff=limit_m + 1e-6):
                out[node] = out.get(node, 0) + 1
        return out

    have = within(fac)
    need = np.array([max(k - have.get(r, 0), 0) for r in res])
    rows = np.flatnonzero(need > 0)
    cover = np.zeros((len(rows), len(cand)))
    for j, c in enumerate(cand):
        reached = nx.single_source_dijkstra_path_length(graph, c, cutoff=limit_m + 1e-6)
        for i, r in enumerate(res[rows]):
            cover[i, j] = r in reached
    n_c, n_r = len(cand), len(rows)
    a = np.hstack([-cover, np.diag(need[rows].astype(float))])
    a = np.vstack([a, np.r_[np.ones(n_c), np.zeros(n_r)]])
    solved = milp(
        c=np.r_[np.zeros(n_c), -pop[rows]],
        constraints=LinearConstraint(a, -np.inf, np.r_[np.zeros(n_r), p]),
        integrality=np.r_[np.ones(n_c), np.ones(n_r)],
        bounds=Bounds(0, 1),
    )
    assert solved.status == 0
    return -float(solved.fun)


@pytest.mark.parametrize(
    ("relative", "seed", "k", "minutes"),
    [
        ("osm_engine_testdata/liechtenstein_valhalla.osm.pbf", 1, 1, 8.0),
        ("cn_hongkong_tst_osm/hong-kong_china.osm.pbf", 2, 1, 4.0),
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 3, 2, 8.0),
    ],
)
def test_exact_equals_an_independent_milp_and_planned_reproduces_the_gain(
    relative: str, seed: int, k: int, minutes: float, tmp_path: Path
) -> None:
    pbf = shared(relative)
    graph, res, fac, cand, pop, files = _instance(pbf, tmp_path, seed, (400, 12, 60))
    p = 6
    options = AuditOptions(
        network=pbf,
        facilities=files["facilities"],
        residents=files["residents"],
        rules=[_rules(tmp_path, minutes, k)],
        min_component_nodes=0,
    )
    result = run_suggest(
        options,
        SuggestOptions(
            requirement="walk/school", candidates=files["candidates"], add=p, exact=True
        ),
    )
    assert result.exact is not None and result.exact.status == "optimal"
    optimum = _independent_optimum(graph, res, fac, cand, pop, minutes * SPEED, k, p)
    assert result.exact.population == pytest.approx(optimum, abs=1e-6)
    share = result.greedy_population / optimum if optimum else 1.0
    print(
        f"{relative}: k={k}, optimum {optimum:,.0f}, greedy {result.greedy_population:,.0f}"
        f" ({share:.1%})"
    )
    assert share >= 0.9
    # applying the suggestion: the planned audit meets exactly the predicted population
    planned = tmp_path / "planned.csv"
    result.planned.to_csv(planned, index=False)
    after = run_audit(options.model_copy(update={"planned": planned, "service_areas": "none"}))
    cov = after.coverage
    overall = cov[(cov["requirement_id"] == "school") & (cov["scope"] == "overall")]
    predicted = result.population_met_before + result.greedy_population
    assert float(overall["population_met"].iloc[0]) == pytest.approx(predicted, abs=1e-6)
