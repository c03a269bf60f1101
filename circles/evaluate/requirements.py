"""The checks: does each resident meet each requirement, and each circle, on its own network.

Pure numpy on the costs the searches found (:class:`circles.traveltime.costs.TravelCosts`): a
walking or driving requirement is met when at least ``min_count`` facilities of its type(s) lie
within the threshold (per zone where the rule says so); a hub requirement when enough of its
destinations are reached in time. Residents off a circle's network never meet it. Also builds
the report's time columns (minutes to the nearest facility of each type, destinations reached).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from circles.evaluate.checks import circle_met, facility_met, walk_threshold_m
from circles.evaluate.zones import circle_zone_ids, threshold_minutes
from circles.rules.schema import Circle, Requirement
from circles.traveltime.costs import TravelCosts
from circles.traveltime.hub import destinations_met
from circles.traveltime.plan import report_speeds


@dataclass
class Checks:
    """Per resident: which requirements and circles are met, and the times behind them.

    ``met[(circle_id, requirement_id)]`` (and ``met[(circle_id, "")]`` for the whole circle) is
    a boolean array over residents; ``times_min`` the time to the ``min_count``-th facility of
    each walking or driving requirement (NaN off the network); ``columns`` the report's time
    columns (``<type>_min``, ``<type>_drive_min``, ``<circle>_<requirement>_reached``) with
    ``reach_min`` (how far each was searched) and ``column_speed`` (m/min of each walking one);
    ``zone_columns`` each zoned circle's zone per resident.
    """

    met: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    times_min: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    zone_columns: dict[str, np.ndarray] = field(default_factory=dict)
    reach_min: dict[str, float] = field(default_factory=dict)
    column_speed: dict[str, float] = field(default_factory=dict)


def evaluate_requirements(
    circles: list[Circle],
    costs: TravelCosts,
    evaluable: dict[str, np.ndarray],
    zone_raw: np.ndarray,
    *,
    zones_given: bool,
    warnings: list[str],
) -> Checks:
    """Check every requirement of every circle for every resident.

    ``evaluable[circle_id]`` says which residents stand on the circle's network (the others
    meet nothing); ``zone_raw`` is each resident's zone value ('' outside every zone).
    """
    checks = Checks()
    speeds = costs.speeds_m_s
    walking = [c for c in circles if c.mode == "walk"]
    if costs.walk.groups:
        for ftype, speed in report_speeds(walking, speeds).items():
            column = f"{ftype}_min"
            checks.columns[column] = np.round(costs.walk.of((ftype,))[:, 0] / speed / 60.0, 3)
            checks.reach_min[column] = round(costs.walk.groups[(ftype,)][1] / speed / 60.0, 3)
            checks.column_speed[column] = round(speed * 60.0, 3)
    for c in circles:
        zone_ids, unmatched = circle_zone_ids(zone_raw, c)
        if c.zones:
            checks.zone_columns[f"{c.id}_zone"] = zone_ids
            if not zones_given:
                warnings.append(
                    f"{c.id}: no --zones given; every resident uses the default threshold"
                )
            elif unmatched:
                warnings.append(
                    f"{c.id}: zone values that name none of its zones (residents "
                    f"there use the default): {', '.join(unmatched[:10])}"
                )
        on = evaluable[c.id]
        if c.mode == "walk":
            _walk_checks(c, costs, zone_ids, on, checks)
        elif c.mode == "drive":
            _drive_checks(c, costs, zone_ids, on, checks)
        else:
            _hub_checks(c, costs, zone_ids, checks)
        for r in c.requirements:
            checks.met[(c.id, r.id)] = checks.met[(c.id, r.id)] & on
        checks.met[(c.id, "")] = circle_met(c, checks.met)
    return checks


def _walk_checks(
    c: Circle, costs: TravelCosts, zone_ids: np.ndarray, on: np.ndarray, checks: Checks
) -> None:
    speed = costs.speeds_m_s[c.id]
    for r in c.requirements:
        found = costs.walk.of(r.facility_types)
        limit = walk_threshold_m(r, speed, _minutes(r, zone_ids))
        checks.met[(c.id, r.id)] = facility_met(found, r.min_count, limit)
        kth = found[:, r.min_count - 1]
        checks.times_min[(c.id, r.id)] = np.where(on, kth / speed / 60.0, np.nan)


def _drive_checks(
    c: Circle, costs: TravelCosts, zone_ids: np.ndarray, on: np.ndarray, checks: Checks
) -> None:
    drive = costs.drive[c.id]
    for ftype in sorted({t for r in c.requirements for t in r.facility_types}):
        column = f"{ftype}_drive_min"
        checks.columns[column] = np.round(drive.of((ftype,))[:, 0] / 60.0, 3)
        checks.reach_min[column] = round(drive.groups[(ftype,)][1] / 60.0, 3)
    for r in c.requirements:
        found = drive.of(r.facility_types)
        limit = threshold_minutes(r, zone_ids) * 60.0
        checks.met[(c.id, r.id)] = facility_met(found, r.min_count, limit)
        kth = found[:, r.min_count - 1]
        checks.times_min[(c.id, r.id)] = np.where(on, kth / 60.0, np.nan)


def _hub_checks(c: Circle, costs: TravelCosts, zone_ids: np.ndarray, checks: Checks) -> None:
    result = costs.hubs[c.id]
    times, dests = result["times_s"], result["destinations"]
    for r in c.requirements:
        cols = [dests.index(d) for d in r.destinations or []]
        limit = threshold_minutes(r, zone_ids) * 60.0
        reached, ok = destinations_met(times, cols, limit, r.min_count, r.min_share)
        checks.met[(c.id, r.id)] = ok
        checks.columns[f"{c.id}_{r.id}_reached"] = reached


def _minutes(requirement: Requirement, zone_ids: np.ndarray) -> np.ndarray:
    if requirement.max_time_min is None:
        return np.full(len(zone_ids), np.nan)
    return threshold_minutes(requirement, zone_ids)
