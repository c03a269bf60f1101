"""The report model: gaps in one order, communities worst first, effective targets."""

from __future__ import annotations

import math

import pandas as pd

from circles.report.model import build_report_model, effective_target


def _row(community, circle, requirement, total, met, *, gap, scope="community"):
    return {
        "circle_id": circle,
        "requirement_id": requirement,
        "scope": scope,
        "community_id": community,
        "population_total": total,
        "population_met": met,
        "coverage_ratio": met / total if total else math.nan,
        "is_gap": gap,
    }


SUMMARY = {
    "circles": [
        {
            "circle_id": "c15",
            "requirements": [
                {"requirement_id": "school", "target_coverage": 0.8},
                {"requirement_id": "gym", "tier": "quality", "target_coverage": 0.95},
            ],
        },
    ],
    "communities": [{"community_id": "B", "population": 100.0}],
}
COVERAGE = pd.DataFrame(
    [
        _row("A", "c15", "", 200.0, 150.0, gap=True),
        _row("A", "c15", "school", 200.0, 150.0, gap=True),  # 50 not met
        _row("A", "c15", "gym", 200.0, 0.0, gap=True),  # quality: after basic
        _row("B", "c15", "", 100.0, 20.0, gap=True),
        _row("B", "c15", "school", 100.0, 20.0, gap=True),  # 80 not met
        _row("E", "c15", "", 0.0, 0.0, gap=None),  # no population: last
    ]
)


def test_gaps_basic_first_then_largest_population_not_met():
    model = build_report_model(SUMMARY, COVERAGE)
    order = [(g.community_id, g.requirement_id, g.population_not_met) for g in model.gaps]
    assert order == [("B", "school", 80.0), ("A", "school", 50.0), ("A", "gym", 200.0)]
    assert model.largest_gap()["A"].requirement_id == "school"
    assert model.gap_circles == {("A", "c15"), ("B", "c15")}


def test_communities_worst_first_those_without_population_last():
    model = build_report_model(SUMMARY, COVERAGE)
    assert [c.community_id for c in model.communities] == ["B", "A", "E"]
    assert model.communities[0].population == 100.0  # the summary's
    assert model.communities[1].population == 200.0  # the largest of its coverage rows
    assert model.community_ids == ["B", "A", "E"]  # summary order, then the coverage table's


def test_effective_target_is_the_highest_basic_one_without_a_circle_target():
    model = build_report_model(SUMMARY, COVERAGE)
    assert model.effective_targets == {"c15": 0.8}
    assert effective_target({"target_coverage": 0.9, "requirements": []}) == 0.9
    assert effective_target(None) is None


def test_circle_rows_whole_circle_first_with_gap_from_coverage_and_target():
    summary = {
        "circles": [
            {
                "circle_id": "c15",
                "overall": {"coverage_ratio": 0.5},
                "target_coverage": 0.6,
                "requirements": [
                    {"requirement_id": "school", "overall": {"is_gap": False}},
                    {"requirement_id": "gym", "tier": "quality", "overall": {}},
                ],
            }
        ]
    }
    rows = build_report_model(summary, COVERAGE.iloc[0:0]).circle_rows["c15"]
    assert [(r.requirement_id, r.tier, r.gap) for r in rows] == [
        ("", None, True),  # 50 % below the circle's 60 %
        ("school", "basic", False),  # the flag as given
        ("gym", "quality", None),  # no target, no coverage
    ]
