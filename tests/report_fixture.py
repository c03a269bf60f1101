"""A hand-checkable audit summary and coverage table for the report-writer tests."""

from __future__ import annotations

import math

import pandas as pd

JIANGHAN = "民族街道江汉社区"  # eight wide characters: sixteen cells
RIVERSIDE = "Riverside"
UNASSIGNED = "unassigned"


# --- fixture: one hand-checkable audit ---------------------------------------------------------
#
# Residents (population):  JIANGHAN   A 400, B 300, C 250, D 50    = 1000
#                          RIVERSIDE  E 300, F 150, G 50           =  500
#                          unassigned H 0                          =    0
# life_15min (no circle target), walk 60 m/min [default]
#   kindergarten    15 min [verified], target 90% [default]: met by A B C | F
#   primary_school  15 min [recalled], target 90% [default]: met by A B   | E F
#   whole circle: A B | F
# activity_10min, circle target 80% [verified]
#   micro_public_space  600 m [default], target 80% [verified]: met by A B C | E
#   whole circle: A B C | E
#
# Gaps (community rows below target): RIVERSIDE kindergarten 350 not met (30%),
# JIANGHAN primary_school 300 not met (70%), RIVERSIDE micro_public_space 200 not met (60%).
# Worst first: RIVERSIDE (lowest whole-circle coverage 30%), JIANGHAN (70%), unassigned (no people).

# (community, residents_total, residents_met, population_total, population_met) per row
MET = {
    ("life_15min", "kindergarten"): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 1, 500, 150)],
    ("life_15min", "primary_school"): [(JIANGHAN, 4, 2, 1000, 700), (RIVERSIDE, 3, 2, 500, 450)],
    ("life_15min", ""): [(JIANGHAN, 4, 2, 1000, 700), (RIVERSIDE, 3, 1, 500, 150)],
    ("activity_10min", "micro_public_space"): [
        (JIANGHAN, 4, 3, 1000, 950),
        (RIVERSIDE, 3, 1, 500, 300),
    ],
    ("activity_10min", ""): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 1, 500, 300)],
}
TARGETS = {
    ("life_15min", "kindergarten"): 0.9,
    ("life_15min", "primary_school"): 0.9,
    ("life_15min", ""): math.nan,
    ("activity_10min", "micro_public_space"): 0.8,
    ("activity_10min", ""): 0.8,
}


def _coverage_row(circle_id, requirement_id, scope, community_id, counts, target):
    residents_total, residents_met, population_total, population_met = counts
    ratio = population_met / population_total if population_total else math.nan
    is_gap = None if math.isnan(ratio) or math.isnan(target) else bool(ratio < target)
    return {
        "circle_id": circle_id,
        "requirement_id": requirement_id,
        "scope": scope,
        "community_id": community_id,
        "residents_total": residents_total,
        "residents_met": residents_met,
        "population_total": float(population_total),
        "population_met": float(population_met),
        "coverage_ratio": ratio,
        "target_coverage": target,
        "is_gap": is_gap,
    }


def _make_coverage() -> pd.DataFrame:
    rows = []
    for (circle_id, requirement_id), per_community in MET.items():
        target = TARGETS[(circle_id, requirement_id)]
        totals = [sum(values) for values in zip(*(c[1:] for c in per_community), strict=True)]
        totals[0] += 1  # resident H (unassigned, population 0)
        rows.append(_coverage_row(circle_id, requirement_id, "overall", "", totals, target))
        for community_id, *counts in per_community:
            rows.append(
                _coverage_row(circle_id, requirement_id, "community", community_id, counts, target)
            )
        rows.append(
            _coverage_row(circle_id, requirement_id, "community", UNASSIGNED, (1, 0, 0, 0), target)
        )
    return pd.DataFrame(rows)


def _stats(coverage, circle_id, requirement_id, *, with_gap):
    keys = ["residents_total", "residents_met", "population_total", "population_met"]
    keys += ["coverage_ratio"]
    selected = coverage[
        (coverage["circle_id"] == circle_id) & (coverage["requirement_id"] == requirement_id)
    ]
    overall = selected[selected["scope"] == "overall"].iloc[0]
    communities = selected[selected["scope"] == "community"]

    def entry(row, community_id=None):
        out = {key: getattr(row[key], "item", lambda v=row[key]: v)() for key in keys}
        if community_id is not None:
            out["community_id"] = community_id
        if with_gap:
            out["is_gap"] = row["is_gap"]
        return out

    return entry(overall), [entry(row, row["community_id"]) for _, row in communities.iterrows()]


def _make_summary(coverage: pd.DataFrame) -> dict:
    life_overall, life_communities = _stats(coverage, "life_15min", "", with_gap=False)
    act_overall, act_communities = _stats(coverage, "activity_10min", "", with_gap=False)

    def requirement(circle_id, requirement_id, facility_types, threshold, sources):
        overall, communities = _stats(coverage, circle_id, requirement_id, with_gap=True)
        return {
            "requirement_id": requirement_id,
            "facility_types": facility_types,
            "max_time_min": threshold if threshold < 100 else None,
            "max_distance_m": threshold if threshold >= 100 else None,
            "min_count": 1,
            "target_coverage": TARGETS[(circle_id, requirement_id)],
            "sources": sources,
            "overall": overall,
            "communities": communities,
        }

    gb = "GB 50180-2018 Appendix B"
    return {
        "circles_version": "0.1.0",
        "run": {
            "timestamp": "2026-11-21T03:30:00+00:00",
            "crs": "EPSG:32650",
            "engine": "pandana",
            "parameters": {
                "walk_speed_m_per_min": None,
                "max_snap_m": 250.0,
                "min_component_nodes": 50,
                "population_field": "population",
                "facility_type_field": "type",
                "community_field": "community",
            },
            "inputs": {
                "network": {"path": "data/roads.geojson", "sha256": "ab" * 32},
                "facilities": {"path": "data/facilities.csv", "sha256": "cd" * 32},
                "residents": {"path": "data/residents.geojson", "sha256": "ef" * 32},
                "communities": None,
            },
            "rules": [
                {
                    "path": "rules/wuhan/life_15min.yaml",
                    "sha256": "0f" * 32,
                    "circle_id": "life_15min",
                },
                {
                    "path": "rules/wuhan/activity_10min.yaml",
                    "sha256": "1e" * 32,
                    "circle_id": "activity_10min",
                },
            ],
        },
        "counts": {
            "residents": {"read": 10, "ok": 8, "off_network": 1, "no_geometry": 1, "unassigned": 1},
            "population": {
                "read": 1620.0,
                "ok": 1500.0,
                "off_network": 80.0,
                "no_geometry": 40.0,
                "unassigned": 0.0,
            },
            "facilities": {
                "read": 6,
                "ok": 5,
                "off_network": 1,
                "no_geometry": 0,
                "by_type": {
                    "kindergarten": {"read": 2, "ok": 2},
                    "primary_school": {"read": 2, "ok": 1},
                    "pocket_park": {"read": 2, "ok": 2},
                },
            },
        },
        "network": {
            "source": "lines",
            "nodes": 1234,
            "edges": 2345,
            "length_km": 123.4,
            "fragments": 3,
            "fragment_nodes": 40,
            "crossings": 2,
        },
        "warnings": ["1 resident farther than 250 m from the network (max_snap_m)"],
        "circles": [
            {
                "circle_id": "life_15min",
                "name": {"zh": "15分钟生活圈", "en": "15-minute life circle"},
                "mode": "walk",
                "speed_m_per_min": 60.0,
                "speed_source": {"ref": "planning practice", "tag": "default"},
                "rule_file": "rules/wuhan/life_15min.yaml",
                "target_coverage": None,
                "overall": life_overall,
                "communities": life_communities,
                "requirements": [
                    requirement(
                        "life_15min",
                        "kindergarten",
                        ["kindergarten"],
                        15.0,
                        {
                            "max_time_min": {"ref": "Wuhan 2020", "tag": "verified"},
                            "target_coverage": {"ref": "circles default", "tag": "default"},
                        },
                    ),
                    requirement(
                        "life_15min",
                        "primary_school",
                        ["primary_school"],
                        15.0,
                        {
                            "max_time_min": {"ref": gb, "tag": "recalled"},
                            "target_coverage": {"ref": "circles default", "tag": "default"},
                        },
                    ),
                ],
            },
            {
                "circle_id": "activity_10min",
                "name": {"zh": "10分钟活动圈", "en": "10-minute activity circle"},
                "mode": "walk",
                "speed_m_per_min": None,
                "speed_source": None,
                "rule_file": "rules/wuhan/activity_10min.yaml",
                "target_coverage": 0.8,
                "sources": {"target_coverage": {"ref": "Wuhan 2020", "tag": "verified"}},
                "overall": act_overall,
                "communities": act_communities,
                "requirements": [
                    requirement(
                        "activity_10min",
                        "micro_public_space",
                        ["pocket_park", "community_park", "plaza", "playground", "outdoor_fitness"],
                        600.0,
                        {
                            "max_distance_m": {"ref": "circles default", "tag": "default"},
                            "target_coverage": {"ref": "Wuhan 2020", "tag": "verified"},
                        },
                    )
                ],
            },
        ],
        # "unassigned" is deliberately absent here: the writers must take it from coverage
        "communities": [
            {
                "community_id": JIANGHAN,
                "residents": 4,
                "population": 1000.0,
                "residents_off_network": 1,
                "population_off_network": 80.0,
            },
            {
                "community_id": RIVERSIDE,
                "residents": 3,
                "population": 500.0,
                "residents_off_network": 0,
                "population_off_network": 0.0,
            },
        ],
    }


def make_audit() -> tuple[dict, pd.DataFrame]:
    """The summary and coverage of the hand-checkable audit described above."""
    coverage = _make_coverage()
    return _make_summary(coverage), coverage
