"""Floating catchments: by hand, against PySAL access, and the rule and input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.errors import InputDataError
from circles.evaluate.capacity import capacities, supply_per_person, weights


def test_e2sfca_by_hand() -> None:
    """Two schools, three residents, threshold 900 m: every number worked out on paper.

    School A (100 seats) reaches r0 at 200 m (share 0.22: band 1, w 1) and r1 at 500 m (0.56:
    band 2, w 0.68); school B (60 seats) reaches r1 at 850 m (0.94: w 0.22) and r2 at 100 m (w 1).
    Populations 100, 200, 50.
      demand A = 1·100 + 0.68·200 = 236      → R_A = 100/236
      demand B = 0.22·200 + 1·50 = 94        → R_B = 60/94
      A_r0 = R_A = 0.423729; A_r1 = 0.68·R_A + 0.22·R_B = 0.428565; A_r2 = R_B = 0.638298
    """
    facility = np.array([0, 0, 1, 1])
    resident = np.array([0, 1, 1, 2])
    share = np.array([200, 500, 850, 100]) / 900.0
    got = supply_per_person(
        facility, resident, share, np.array([100.0, 60.0]), np.array([100.0, 200.0, 50.0]), "e2sfca"
    )
    r_a, r_b = 100 / 236, 60 / 94
    np.testing.assert_allclose(got, [r_a, 0.68 * r_a + 0.22 * r_b, r_b], rtol=1e-12)


def test_weights_at_the_band_edges() -> None:
    share = np.array([0.0, 1 / 3, 0.34, 2 / 3, 0.67, 1.0])
    assert weights(share, "e2sfca").tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22]
    assert weights(share, "2sfca").tolist() == [1.0] * 6
    gaussian = weights(np.array([0.0, 1.0]), "gaussian")
    assert gaussian[0] == pytest.approx(1.0) and gaussian[1] == pytest.approx(0.0)


def test_2sfca_equals_pysal_access_on_a_shared_cost_matrix() -> None:
    access = pytest.importorskip("access")
    rng = np.random.default_rng(3)
    n_res, n_fac = 120, 15
    cost = rng.uniform(0, 2000, (n_res, n_fac))
    pop = rng.integers(1, 500, n_res).astype(float)
    seats = rng.integers(0, 800, n_fac).astype(float)
    limit = 900.0
    demand = pd.DataFrame({"pop": pop}, index=pd.Index(range(n_res), name="origin"))
    supply = pd.DataFrame({"seats": seats}, index=pd.Index(range(n_fac), name="dest"))
    pairs = pd.DataFrame(
        [(i, j, cost[i, j]) for i in range(n_res) for j in range(n_fac)],
        columns=["origin", "dest", "cost"],
    )
    model = access.Access(
        demand_df=demand,
        demand_value="pop",
        supply_df=supply,
        supply_value="seats",
        cost_df=pairs,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    want = model.two_stage_fca(max_cost=limit, normalize=False).iloc[:, 0]
    within = np.argwhere(cost <= limit)
    got = supply_per_person(
        within[:, 1], within[:, 0], cost[within[:, 0], within[:, 1]] / limit, seats, pop, "2sfca"
    )
    np.testing.assert_allclose(got, want.reindex(range(n_res)).fillna(0).to_numpy(), rtol=1e-9)


def test_capacities_refuse_text_and_negatives_and_count_blanks() -> None:
    values = np.array(["120", "", None, "1,200", "x"], dtype=object)
    mine = np.array([True, True, True, True, False])
    got, empty = capacities(values, mine, "seats", "facilities file f.csv")
    assert got.tolist() == [120.0, 0.0, 0.0, 1200.0, 0.0] and empty == 2
    with pytest.raises(InputDataError, match=r"row 5: seats = 'x' is not a number"):
        capacities(values, np.ones(5, dtype=bool), "seats", "facilities file f.csv")
    with pytest.raises(InputDataError, match=r"row 1: seats = -3 is not a capacity"):
        capacities(np.array(["-3"], dtype=object), np.array([True]), "seats", "f")


CAPACITY_RULE = """\
id: toy
name: {zh: 玩具圈, en: toy circle}
mode: walk
speed_m_per_min: 60
sources:
  speed_m_per_min: {ref: test, tag: default}
requirements:
  - id: kindergarten
    facility_type: kindergarten
    max_time_min: 3
    target_coverage: 0.5
    capacity:
      field: seats
      demand_per_1000: 40
    sources:
      max_time_min: {ref: test, tag: default}
      target_coverage: {ref: test, tag: default}
      demand_per_1000: {ref: test, tag: recalled}
"""


def _toy_with_seats(toy: dict[str, Path], seats: list[object]) -> None:
    import geopandas as gpd

    layer = gpd.read_file(toy["facilities"])
    layer["seats"] = pd.Series(seats, dtype=object).astype(str)
    layer.to_file(toy["facilities"])
    toy["rules"].write_text(CAPACITY_RULE, encoding="utf-8")


def test_capacity_on_the_toy_by_hand(toy: dict[str, Path]) -> None:
    """R1 reaches K1 (130 m) and K2 (135 m) within 180 m, R2 reaches K1 (20 m) only.

    (Seats: K1 10, K2 6; the toy's hand-checked distances are in tests/conftest.py.)

    K1 (10 seats) serves R1 (100) and R2 (300): R_K1 = 10/400; K2 (6 seats) serves R1 only:
    R_K2 = 6/100. A_R1 = 0.025 + 0.06 = 0.085 seats per person, A_R2 = 0.025; need 0.04:
    ratios 2.125 and 0.625: R1 meets it, R2 does not.
    """
    from circles.audit import run_audit
    from tests.conftest import toy_options

    _toy_with_seats(toy, [10, 6, ""])
    result = run_audit(toy_options(toy, service_areas="none"))
    table = result.residents.set_index("resident_id")
    ratio = table["toy/kindergarten/supply_ratio"]
    assert ratio["R1"] == pytest.approx(0.085 / 0.04)
    assert ratio["R2"] == pytest.approx(0.025 / 0.04)
    assert np.isnan(ratio["R3"])  # off the network
    assert table.loc["R1", "toy/kindergarten"] == 1 and table.loc["R2", "toy/kindergarten"] == 0
    cov = result.coverage
    west = cov[(cov["requirement_id"] == "kindergarten") & (cov["community_id"] == "west")]
    # R2: 300 people need 12 seats, 7.5 reach them: 4.5 short
    assert west["need_units"].iloc[0] == pytest.approx(12.0)
    assert west["supply_units"].iloc[0] == pytest.approx(7.5)
    assert west["shortfall_units"].iloc[0] == pytest.approx(4.5)
    assert "seats" in result.facilities.columns  # the capacity column travels to facilities.csv
    # nearest first: R2 (12 seats needed) takes K1's 10 at 20 m; R1 (4) finds K1 full at 130 m
    # and takes 4 of K2's 6 at 135 m
    load = result.allocation.set_index("facility_id")
    assert load.loc["K1", "load"] == pytest.approx(10.0) and load.loc["K2", "load"] == 4.0
    assert load.loc["K2", "utilisation"] == pytest.approx(4 / 6, abs=1e-4)
    assert west["unserved_units"].iloc[0] == pytest.approx(2.0)
    east = cov[(cov["requirement_id"] == "kindergarten") & (cov["community_id"] == "east")]
    assert east["unserved_units"].iloc[0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("seats", "says"),
    [
        (["10", "-4", ""], "row 2: seats = -4 is not a capacity"),
        (["10", "many", ""], "row 2: seats = 'many' is not a number"),
    ],
)
def test_bad_capacities_are_user_errors(toy: dict[str, Path], seats, says: str) -> None:
    from typer.testing import CliRunner

    from circles.cli import app
    from tests.conftest import toy_cli_args

    _toy_with_seats(toy, seats)
    result = CliRunner().invoke(app, toy_cli_args(toy, toy["dir"] / "out"))
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split())


def test_a_missing_capacity_column_names_the_rule_line(toy: dict[str, Path]) -> None:
    from typer.testing import CliRunner

    from circles.cli import app
    from tests.conftest import toy_cli_args

    toy["rules"].write_text(CAPACITY_RULE, encoding="utf-8")
    result = CliRunner().invoke(app, toy_cli_args(toy, toy["dir"] / "out"))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{toy['rules']}:13: capacity.field 'seats': no such column" in text


def test_capacity_rules_are_checked(tmp_path: Path) -> None:
    from circles.errors import RuleError
    from circles.rules.load import load_rules

    rule = tmp_path / "r.yaml"
    rule.write_text(
        CAPACITY_RULE.replace(
            "    target_coverage: 0.5\n    capacity:",
            "    min_count: 2\n    target_coverage: 0.5\n    capacity:",
        ).replace(
            "      demand_per_1000: {ref: test, tag: recalled}\n",
            "      min_count: {ref: test, tag: default}\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as caught:
        load_rules([rule])
    text = str(caught.value)
    assert "no source for demand_per_1000" in text
    assert "a capacity requirement is met by supply per person" in text
