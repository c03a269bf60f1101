"""Capacity (2SFCA, E2SFCA, Gaussian) on real networks against an independent computation.

Residents and schools stand on network vertices (as in tests/test_real_networks.py), so each
cost is a vertex-to-vertex network distance: networkx computes them here from pyrosm's edges,
and the floating catchment is computed here from its textbook definition, sharing no code with
the package. Every resident's supply ratio must agree within 1e-6 relative.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from circles.audit import AuditOptions, run_audit
from tests.conftest import shared
from tests.suggest.test_suggest_real import _instance

SPEED = 60.0  # m/min
SEATS_PER_1000 = 60.0


def _rules(folder: Path, minutes: float, method: str) -> Path:
    path = folder / "school.yaml"
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
                target_coverage: 0.9
                capacity: {{field: seats, demand_per_1000: {SEATS_PER_1000}, method: {method}}}
                sources:
                  max_time_min: {{ref: test, tag: default}}
                  target_coverage: {{ref: test, tag: default}}
                  demand_per_1000: {{ref: test, tag: default}}
            """
        ),
        encoding="utf-8",
    )
    return path


def _weight(share: float, method: str) -> float:
    if method == "2sfca":
        return 1.0
    if method == "e2sfca":
        return 1.0 if share <= 1 / 3 else 0.68 if share <= 2 / 3 else 0.22
    edge = math.exp(-0.5)
    return (math.exp(-0.5 * share * share) - edge) / (1 - edge)


def _independent(graph, res, fac, seats, pop, limit_m, method):
    """Textbook two-step floating catchment from networkx distances."""
    reach = [nx.single_source_dijkstra_path_length(graph, f, cutoff=limit_m + 1e-6) for f in fac]
    supply_per_demand = []
    for j, dist in enumerate(reach):
        demand = sum(
            _weight(dist[r] / limit_m, method) * pop[i] for i, r in enumerate(res) if r in dist
        )
        supply_per_demand.append(seats[j] / demand if demand > 0 else 0.0)
    access = np.zeros(len(res))
    for i, r in enumerate(res):
        for j, dist in enumerate(reach):
            if r in dist:
                access[i] += _weight(dist[r] / limit_m, method) * supply_per_demand[j]
    return access / (SEATS_PER_1000 / 1000.0)


@pytest.mark.parametrize(
    ("relative", "seed", "method"),
    [
        ("osm_engine_testdata/liechtenstein_valhalla.osm.pbf", 4, "2sfca"),
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 5, "2sfca"),
        ("cn_chengdu_center_osm/chengdu.osm.pbf", 6, "e2sfca"),
        ("cn_hongkong_tst_osm/hong-kong_china.osm.pbf", 7, "gaussian"),
    ],
)
def test_supply_ratio_equals_an_independent_floating_catchment(
    relative: str, seed: int, method: str, tmp_path: Path
) -> None:
    import geopandas as gpd

    pbf = shared(relative)
    graph, res, fac, _, pop, files = _instance(pbf, tmp_path, seed, (500, 60, 0))
    rng = np.random.default_rng(seed)
    seats = rng.integers(0, 3000, len(fac)).astype(float)
    layer = gpd.read_file(files["facilities"])
    layer["seats"] = seats
    layer.to_file(files["facilities"])
    minutes = 20.0 if "liechtenstein" in relative else 10.0
    result = run_audit(
        AuditOptions(
            network=pbf,
            facilities=files["facilities"],
            residents=files["residents"],
            rules=[_rules(tmp_path, minutes, method)],
            min_component_nodes=0,
            service_areas="none",
        )
    )
    got = result.residents["walk/school/supply_ratio"].to_numpy(dtype=float)
    want = _independent(graph, res, fac, seats, pop, minutes * SPEED, method)
    assert (want > 0).sum() >= 50, "too few residents reach a school to test anything"
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    met = result.residents["walk/school"].to_numpy() == 1
    assert (met == (want >= 1.0 - 1e-9)).all()
    # the community rows add the units up: need − supply where short
    cov = result.coverage
    overall = cov[(cov["requirement_id"] == "school") & (cov["scope"] == "overall")].iloc[0]
    need = pop * SEATS_PER_1000 / 1000.0
    supply = pop * want * SEATS_PER_1000 / 1000.0
    assert overall["need_units"] == pytest.approx(need.sum(), rel=1e-6)
    assert overall["shortfall_units"] == pytest.approx(np.maximum(need - supply, 0).sum(), rel=1e-6)
