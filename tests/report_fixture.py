"""A hand-checkable audit summary and coverage table for the report-writer tests."""

from __future__ import annotations

import math

import pandas as pd

JIANGHAN = "民族街道江汉社区"  # eight wide characters: sixteen cells
RIVERSIDE = "Riverside"
UNASSIGNED = "unassigned"
SUBDISTRICT = "民族街道"  # both communities; unassigned residents are in no sub-district


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
# ems (drive, no circle target; zones: JIANGHAN is central, RIVERSIDE new_urban, H in none)
#   ems_station  10 min central / 12 min new_urban [verified], 12 min elsewhere [default],
#                target 90% [default]: met by A B C D | E
#   whole circle: A B C D | E
# metro_area_2h (hub, drive access, no circle target)
#   wuhan_1plus8 (basic)      120 min [verified] to all [default] of 8 cities, target 80%
#                             [default]: met by A B C | E F
#   middle_yangtze (quality)  120 min [verified] to all [recalled] of 2 cities, target 80%
#                             [default]: met by nobody (nobody reaches Nanchang)
#   whole circle (basic requirements only): A B C | E F
#   destinations: A B C E F (1400) reach every city of the 1+8; D (50) reaches all but
#   tianmen and qianjiang; G (50) reaches ezhou only; A (400) alone reaches changsha.
#
# Gaps (community rows below target), basic first, then largest population not met:
# RIVERSIDE kindergarten 350 not met (30%), JIANGHAN primary_school 300 (70%),
# RIVERSIDE ems_station 200 (60%), RIVERSIDE micro_public_space 200 (60%);
# then quality: JIANGHAN middle_yangtze 1000 (0%), RIVERSIDE middle_yangtze 500 (0%).
# Worst first: RIVERSIDE (lowest whole-circle coverage 30%), JIANGHAN (70%), unassigned (no people).
#
# Sub-district 民族街道 holds both communities: its rows are their sums (population 1500).
# Median minutes of those not met (MEDIANS): per requirement, for JIANGHAN, RIVERSIDE, overall
# and the sub-district; NaN where everybody meets it or nobody not met has a route.

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
    ("ems", "ems_station"): [(JIANGHAN, 4, 4, 1000, 1000), (RIVERSIDE, 3, 1, 500, 300)],
    ("ems", ""): [(JIANGHAN, 4, 4, 1000, 1000), (RIVERSIDE, 3, 1, 500, 300)],
    ("metro_area_2h", "wuhan_1plus8"): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 2, 500, 450)],
    ("metro_area_2h", "middle_yangtze"): [(JIANGHAN, 4, 0, 1000, 0), (RIVERSIDE, 3, 0, 500, 0)],
    ("metro_area_2h", ""): [(JIANGHAN, 4, 3, 1000, 950), (RIVERSIDE, 3, 2, 500, 450)],
}
MEDIANS = {
    ("life_15min", "kindergarten"): (18.5, 21.0, 21.0, 21.0),
    ("life_15min", "primary_school"): (16.2, 19.0, 16.2, 16.2),
    ("activity_10min", "micro_public_space"): (12.5, 14.0, 14.0, 14.0),
    ("ems", "ems_station"): (math.nan, 13.1, 13.1, 13.1),
    ("metro_area_2h", "wuhan_1plus8"): (125.0, 131.0, 131.0, 131.0),
    ("metro_area_2h", "middle_yangtze"): (math.nan, math.nan, math.nan, math.nan),
}
TARGETS = {
    ("life_15min", "kindergarten"): 0.9,
    ("life_15min", "primary_school"): 0.9,
    ("life_15min", ""): math.nan,
    ("activity_10min", "micro_public_space"): 0.8,
    ("activity_10min", ""): 0.8,
    ("ems", "ems_station"): 0.9,
    ("ems", ""): math.nan,
    ("metro_area_2h", "wuhan_1plus8"): 0.8,
    ("metro_area_2h", "middle_yangtze"): 0.8,
    ("metro_area_2h", ""): math.nan,
}

# metro_area_2h destinations: (requirement, id, zh, en, population reached, median minutes)
DESTINATIONS = [
    ("wuhan_1plus8", "huangshi", "黄石", "Huangshi", 1450, 78.9),
    ("wuhan_1plus8", "ezhou", "鄂州", "Ezhou", 1500, 58.9),
    ("wuhan_1plus8", "xiaogan", "孝感", "Xiaogan", 1450, 68.9),
    ("wuhan_1plus8", "huanggang", "黄冈", "Huanggang", 1450, 73.9),
    ("wuhan_1plus8", "xianning", "咸宁", "Xianning", 1450, 58.9),
    ("wuhan_1plus8", "xiantao", "仙桃", "Xiantao", 1450, 83.9),
    ("wuhan_1plus8", "tianmen", "天门", "Tianmen", 1400, 93.9),
    ("wuhan_1plus8", "qianjiang", "潜江", "Qianjiang", 1400, 103.9),
    ("middle_yangtze", "changsha", "长沙", "Changsha", 400, 121.3),
    ("middle_yangtze", "nanchang", "南昌", "Nanchang", 0, None),
]
TOTAL_POPULATION = 1500.0

# ems zones: (zone, residents, population)
ZONES = [("central", 4, 1000.0), ("new_urban", 3, 500.0), ("(default)", 1, 0.0)]
ZONE_NAMES = {
    "central": {"zh": "中心城区", "en": "central districts"},
    "new_urban": {"zh": "新城区", "en": "new urban districts"},
}
# line-haul tags of the destinations' table rows, per requirement
LINE_HAUL_TAGS = {"wuhan_1plus8": ["default"], "middle_yangtze": ["verified", "recalled"]}

DRIVE = {
    "road_class_km_per_h": {
        "motorway": 80.0,
        "motorway_link": 40.0,
        "trunk": 60.0,
        "trunk_link": 40.0,
        "primary": 50.0,
        "primary_link": 30.0,
        "secondary": 40.0,
        "secondary_link": 30.0,
        "tertiary": 30.0,
        "tertiary_link": 25.0,
        "unclassified": 25.0,
        "residential": 20.0,
        "living_street": 10.0,
        "service": 15.0,
        "default": 20.0,
    },
    "congestion_factor": 0.77,
    "use_maxspeed": True,
    "sources": {
        "road_class_km_per_h": {
            "ref": "CJJ 37 城市道路工程设计规范 design-speed ranges; values chosen by circles",
            "tag": "recalled",
        },
        "congestion_factor": {
            "ref": "peak congestion cut speeds by 22.8 % in Dalian (经济地理 EMS study)",
            "tag": "verified",
        },
    },
}

WALK_NETWORK = {
    "source": "lines",
    "mode": "walk",
    "nodes": 1234,
    "edges": 2345,
    "length_km": 123.4,
    "edges_read": 2345,
    "closed_lines": 0,
    "parallel_lines": 0,
    "components": 4,
    "fragments": 3,
    "fragment_nodes": 40,
    "crossings": 2,
}
DRIVE_NETWORK = {
    **WALK_NETWORK,
    "mode": "drive",
    "nodes": 1100,
    "edges": 2050,
    "length_km": 110.25,
    "edges_read": 2050,
    "components": 1,
    "fragments": 0,
    "fragment_nodes": 0,
}


def _coverage_row(circle_id, requirement_id, scope, community_id, counts, target, median):
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
        "median_min_not_met": median,
    }


def _make_coverage() -> pd.DataFrame:
    rows = []
    for (circle_id, requirement_id), per_community in MET.items():
        target = TARGETS[(circle_id, requirement_id)]
        medians = dict(
            zip(
                (JIANGHAN, RIVERSIDE, "", SUBDISTRICT),
                MEDIANS.get((circle_id, requirement_id), (math.nan,) * 4),
                strict=True,
            )
        )
        sums = [sum(values) for values in zip(*(c[1:] for c in per_community), strict=True)]
        totals = [sums[0] + 1, *sums[1:]]  # resident H (unassigned, population 0)
        key = (circle_id, requirement_id)
        rows.append(_coverage_row(*key, "overall", "", totals, target, medians[""]))
        for community_id, *counts in per_community:
            median = medians[community_id]
            rows.append(_coverage_row(*key, "community", community_id, counts, target, median))
        rows.append(_coverage_row(*key, "community", UNASSIGNED, (1, 0, 0, 0), target, math.nan))
        rows.append(
            _coverage_row(*key, "subdistrict", SUBDISTRICT, sums, target, medians[SUBDISTRICT])
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
    subdistricts = selected[selected["scope"] == "subdistrict"]

    def entry(row, name_key=None):
        out = {key: getattr(row[key], "item", lambda v=row[key]: v)() for key in keys}
        if name_key is not None:
            out = {name_key: row["community_id"], **out}
        if with_gap:
            out["is_gap"] = row["is_gap"]
        return out

    return (
        entry(overall),
        [entry(row, "community_id") for _, row in communities.iterrows()],
        [entry(row, "subdistrict") for _, row in subdistricts.iterrows()],
    )


def _requirement(coverage, circle_id, requirement_id, name, sources, **keys):
    """One requirement of the summary, keys in the order audit summaries have them."""
    overall, communities, subdistricts = _stats(coverage, circle_id, requirement_id, with_gap=True)
    return {
        "requirement_id": requirement_id,
        "name": dict(zip(("zh", "en"), name, strict=True)),
        "tier": keys.get("tier", "basic"),
        "facility_types": keys.get("facility_types", []),
        "destinations": keys.get("destinations"),
        "max_time_min": keys.get("max_time_min"),
        "max_time_min_by_zone": keys.get("max_time_min_by_zone"),
        "max_distance_m": keys.get("max_distance_m"),
        "min_count": 1,
        "min_share": keys.get("min_share"),
        "target_coverage": TARGETS[(circle_id, requirement_id)],
        "sources": sources,
        "overall": overall,
        "communities": communities,
        "subdistricts": subdistricts,
    }


def _circle(coverage, circle_id, name, requirements, **keys):
    """One circle of the summary, keys in the order audit summaries have them."""
    overall, communities, subdistricts = _stats(coverage, circle_id, "", with_gap=False)
    circle = {
        "circle_id": circle_id,
        "name": dict(zip(("zh", "en"), name, strict=True)),
        "description": keys["description"],
        "mode": keys["mode"],
        "tier": "basic",
        "model": keys["model"],
        "speed_m_per_min": keys.get("speed_m_per_min"),
        "speed_source": keys.get("speed_source"),
        "rule_file": f"rules/wuhan/{keys['rule_file']}.yaml",
        "target_coverage": keys.get("target_coverage"),
    }
    if "sources" in keys:
        circle["sources"] = keys["sources"]
    circle |= {
        "overall": overall,
        "communities": communities,
        "subdistricts": subdistricts,
        "requirements": requirements,
    }
    for extra in ("drive", "zones", "destinations"):
        if extra in keys:
            circle[extra] = keys[extra]
    return circle


def _make_circles(coverage: pd.DataFrame) -> list[dict]:
    gb = "GB 50180-2018 Appendix B"
    walk_model = "walk on the street network at 60 m/min; access legs walked"
    default_target = {"ref": "circles default", "tag": "default"}
    planning_target = {"ref": "planning default", "tag": "default"}
    life = _circle(
        coverage,
        "life_15min",
        ("15分钟生活圈", "15-minute life circle"),
        [
            _requirement(
                coverage,
                "life_15min",
                "kindergarten",
                ("幼儿园", "kindergarten"),
                {
                    "max_time_min": {"ref": "Wuhan 2020", "tag": "verified"},
                    "target_coverage": default_target,
                },
                facility_types=["kindergarten"],
                max_time_min=15.0,
            ),
            _requirement(
                coverage,
                "life_15min",
                "primary_school",
                ("小学", "primary school"),
                {
                    "max_time_min": {"ref": gb, "tag": "recalled"},
                    "target_coverage": default_target,
                },
                facility_types=["primary_school"],
                max_time_min=15.0,
            ),
        ],
        description="完善教育、养老、菜场等基本公共服务设施 — everything within a 15-minute walk.",
        mode="walk",
        model=walk_model,
        speed_m_per_min=60.0,
        speed_source={"ref": "planning practice", "tag": "default"},
        rule_file="life_15min",
    )
    activity = _circle(
        coverage,
        "activity_10min",
        ("10分钟活动圈", "10-minute activity circle"),
        [
            _requirement(
                coverage,
                "activity_10min",
                "micro_public_space",
                ("微型公共空间", "micro public space"),
                {
                    "max_distance_m": default_target,
                    "target_coverage": {"ref": "Wuhan 2020", "tag": "verified"},
                },
                facility_types=[
                    "pocket_park",
                    "community_park",
                    "plaza",
                    "playground",
                    "outdoor_fitness",
                ],
                max_distance_m=600.0,
            )
        ],
        description="构建微型公共空间（场所）网络 — a micro public space within 600 m.",
        mode="walk",
        # no walking speed: the only requirement has a distance threshold
        model="walk on the street network; access legs walked",
        rule_file="activity_10min",
        target_coverage=0.8,
        sources={"target_coverage": {"ref": "Wuhan 2020", "tag": "verified"}},
    )
    ems = _circle(
        coverage,
        "ems",
        ("医疗急救圈", "emergency medical circle"),
        [
            _requirement(
                coverage,
                "ems",
                "ems_station",
                ("急救站", "EMS station"),
                {
                    "max_time_min_by_zone": {
                        "ref": "Wuhan 2020: 中心城区10分钟、新城区12分钟医疗急救圈",
                        "tag": "verified",
                    },
                    "max_time_min": {
                        "ref": "residents outside both zones: the new-urban 12 minutes",
                        "tag": "default",
                    },
                    "target_coverage": planning_target,
                },
                facility_types=["ems_centre", "ems_station"],
                max_time_min=12.0,
                max_time_min_by_zone={"central": 10.0, "new_urban": 12.0},
            )
        ],
        description="中心城区10分钟、新城区12分钟医疗急救圈 — drive time from the nearest station.",
        mode="drive",
        model=(
            "drive from ems_centre, ems_station on the directed road network (one-way streets "
            "respected): road-class speeds or tagged maxspeed × congestion 0.77; access legs at "
            "the service-road speed; 10 min central districts / 12 min new urban districts, "
            "12 min elsewhere"
        ),
        rule_file="4_ems",
        drive=DRIVE,
        zones=[
            {
                "zone": zone,
                "name": ZONE_NAMES.get(zone),
                "residents": residents,
                "population": people,
            }
            for zone, residents, people in ZONES
        ],
    )
    metro = _circle(
        coverage,
        "metro_area_2h",
        ("武汉城市圈2小时出行圈", "2-hour metro-area circle"),
        [
            _requirement(
                coverage,
                "metro_area_2h",
                "wuhan_1plus8",
                ("武汉城市圈（1+8）", "Wuhan city circle (1+8)"),
                {
                    "max_time_min": {"ref": "Wuhan 2020 seven service circles", "tag": "verified"},
                    "min_share": {"ref": "every city of the circle", "tag": "default"},
                    "target_coverage": planning_target,
                },
                destinations=[d[1] for d in DESTINATIONS if d[0] == "wuhan_1plus8"],
                max_time_min=120.0,
                min_share=1.0,
            ),
            _requirement(
                coverage,
                "metro_area_2h",
                "middle_yangtze",
                ("长江中游城市群核心城市", "Middle Yangtze core cities"),
                {
                    "max_time_min": {"ref": "武汉都市圈交通运输发展规划 2023", "tag": "verified"},
                    "min_share": {"ref": "both core cities", "tag": "recalled"},
                    "target_coverage": planning_target,
                },
                tier="quality",
                destinations=[d[1] for d in DESTINATIONS if d[0] == "middle_yangtze"],
                max_time_min=120.0,
                min_share=1.0,
            ),
        ],
        description="武汉城市圈2小时出行圈 — drive to a railway station, ride to each city.",
        mode="hub",
        model=(
            "drive on the road network (≤ 60 min) to a rail_station, + 20 min transfer, + "
            "line-haul minutes from tables/metro_area_2h.csv (30 rows, tags: default)"
        ),
        rule_file="6_metro_area_2h",
        drive=DRIVE,
        destinations=[
            {
                "requirement_id": requirement_id,
                "destination_id": destination_id,
                "name": {"zh": zh, "en": en},
                "population_reached": float(reached),
                "share_reached": round(reached / TOTAL_POPULATION, 6),
                "median_min": median_min,
                "tags": LINE_HAUL_TAGS[requirement_id],
            }
            for requirement_id, destination_id, zh, en, reached, median_min in DESTINATIONS
        ],
    )
    return [life, activity, ems, metro]


def _make_summary(coverage: pd.DataFrame) -> dict:
    circles = _make_circles(coverage)
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
                "zone_field": "name",
                "subdistrict_field": "街道",
                "households_field": None,
                "persons_per_household": 2.62,
                "persons_per_household_source": {
                    "ref": "第七次全国人口普查公报 (2020): 平均每个家庭户的人口为2.62人",
                    "tag": "recalled",
                },
                "coords": {"facilities": "gcj02"},
                "coords_converted": ["facilities: gcj02 → wgs84"],
                "reach_min": {"kindergarten_min": 30.0, "primary_school_min": 30.0},
            },
            "inputs": {
                "network": {"path": "data/roads.geojson", "sha256": "ab" * 32},
                "facilities": {"path": "data/facilities.csv", "sha256": "cd" * 32},
                "residents": {"path": "data/residents.geojson", "sha256": "ef" * 32},
                "communities": None,
                "zones": {"path": "data/zones.geojson", "sha256": "9a" * 32},
            },
            "rules": [
                {"path": circle["rule_file"], "sha256": sha256, "circle_id": circle["circle_id"]}
                for circle, sha256 in zip(
                    circles, ("0f" * 32, "1e" * 32, "2d" * 32, "3c" * 32), strict=True
                )
            ],
        },
        "counts": {
            # read = evaluated (A-H; H in no community) + off network + no geometry
            "reconcile": {
                "evaluated": {"residents": 8, "population": 1500.0},
                "off_network": {"residents": 1, "population": 80.0},
                "no_geometry": {"residents": 1, "population": 40.0},
            },
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
        "network": WALK_NETWORK,
        "networks": {"walk": WALK_NETWORK, "drive1": DRIVE_NETWORK},
        "warnings": ["1 resident farther than 250 m from the network (max_snap_m)"],
        "circles": circles,
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
