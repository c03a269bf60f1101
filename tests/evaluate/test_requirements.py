"""The checks on the toy rule, from costs written by hand: pure numpy, no file, no network.

Costs (metres; NaN beyond reach) for three residents, as the searches would leave them:
kindergartens (k = 2): R1 130 and 135 m; R2 20 and 205 m; R3 none. Markets (k = 1): R1 270 m,
R2 160 m, R3 none. The toy circle asks for two kindergartens within 3 minutes at 60 m/min
(180 m) and a market within 200 m of network distance; R3 stands off the network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from circles.evaluate.requirements import evaluate_requirements
from circles.rules.load import load_rules
from circles.traveltime.costs import GroupCosts, TravelCosts

NAN = np.nan


def test_checks_from_hand_written_costs(toy: dict[str, Path]) -> None:
    circle = load_rules([toy["rules"]])[0].circle
    walk = GroupCosts(
        costs={
            ("kindergarten",): np.array([[130.0, 135.0], [20.0, 205.0], [NAN, NAN]]),
            ("fresh_market",): np.array([[270.0], [160.0], [NAN]]),
        },
        groups={("kindergarten",): (2, 360.0), ("fresh_market",): (1, 400.0)},
    )
    costs = TravelCosts(walk=walk, drive={}, hubs={}, speeds_m_s={circle.id: 1.0})
    on_network = np.array([True, True, False])
    warnings: list[str] = []
    checks = evaluate_requirements(
        [circle],
        costs,
        {circle.id: on_network},
        np.array(["", "", ""], dtype=object),
        zones_given=False,
        warnings=warnings,
    )
    assert checks.met[("toy", "two_kindergartens")].tolist() == [True, False, False]
    assert checks.met[("toy", "market")].tolist() == [False, True, False]
    assert checks.met[("toy", "")].tolist() == [False, False, False]
    # minutes to the second kindergarten, NaN off the network
    np.testing.assert_allclose(
        checks.times_min[("toy", "two_kindergartens")], [135 / 60, 205 / 60, NAN]
    )
    np.testing.assert_allclose(
        checks.columns["kindergarten_min"], [130 / 60, 20 / 60, NAN], atol=1e-3
    )
    assert checks.reach_min["kindergarten_min"] == 6.0 and warnings == []
