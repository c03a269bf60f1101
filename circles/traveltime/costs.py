"""The travel stage: every search the circles need, run once, their costs kept per network.

Walking circles share one search per facility group on the walking network (the costs are
metres); each driving circle searches its driving network in its own direction (seconds); each
hub circle gets door-to-door seconds to its destinations. Nothing is judged here: the
requirements are checked against these costs by :mod:`circles.evaluate.requirements`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from circles.network.networks import AuditNetwork, network_key
from circles.rules.load import LoadedCircle
from circles.traveltime.plan import drive_groups, hub_circle, search, walk_groups

Groups = dict[tuple[str, ...], tuple[int, float]]


@dataclass
class GroupCosts:
    """Costs to the ``k`` nearest facilities of each facility group on one network.

    ``costs[group]`` is ``n_residents × k`` (best first; NaN where fewer lie within the
    group's horizon); ``groups[group]`` is ``(k, horizon)``. Walking costs are metres, driving
    costs seconds.
    """

    costs: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    groups: Groups = field(default_factory=dict)

    def of(self, facility_types: tuple[str, ...]) -> np.ndarray:
        """The ``n × k`` costs of a group."""
        return self.costs[facility_types]


@dataclass
class TravelCosts:
    """Everything the searches found, for the checks and the report columns.

    ``walk`` holds the walking groups; ``drive`` one :class:`GroupCosts` per driving circle;
    ``hubs`` per hub circle its door-to-door seconds (``times_s``, ``n × destinations``) and
    what the report says of its hubs and destinations; ``speeds_m_s`` the walking speed of each
    circle that walks (the scenario's speed when one was given).
    """

    walk: GroupCosts
    drive: dict[str, GroupCosts]
    hubs: dict[str, dict]
    speeds_m_s: dict[str, float]


def walking_speeds(loaded: list[LoadedCircle], walk_speed_m_s: float | None) -> dict[str, float]:
    """Walking speed (m/s) of each circle that has one: the scenario's, else the circle's."""
    return {
        lc.circle.id: walk_speed_m_s or lc.circle.speed_m_per_min / 60.0
        for lc in loaded
        if lc.circle.speed_m_per_min is not None
    }


def travel_costs(
    loaded: list[LoadedCircle],
    nets: dict[str, AuditNetwork],
    facilities: pd.DataFrame,
    speeds_m_s: dict[str, float],
    engine: str,
    *,
    known: TravelCosts | None = None,
    changed_types: frozenset[str] = frozenset(),
) -> TravelCosts:
    """Run every search of the audit (networks already snapped, see circles.network.attach).

    ``known`` are the costs of an earlier audit of the same rules, residents and networks
    whose facilities differ from these only by facilities of ``changed_types`` (the status
    quo's, see :mod:`circles.reuse`): every group and hub circle using none of these types
    keeps its costs there, unsearched.
    """
    circles = [lc.circle for lc in loaded]
    walking = [c for c in circles if c.mode == "walk"]
    walk = GroupCosts(groups=walk_groups(walking, speeds_m_s))
    if walk.groups:
        given = unchanged_costs(known.walk if known else None, walk.groups, changed_types)
        walk.costs = search(nets["walk"], facilities, walk.groups, "to_facility", engine, given)
    drive: dict[str, GroupCosts] = {}
    hubs: dict[str, dict] = {}
    for lc in loaded:
        c = lc.circle
        net = nets[network_key(c)]
        if c.mode == "drive":
            groups = drive_groups(c)
            given = unchanged_costs(known.drive.get(c.id) if known else None, groups, changed_types)
            found = search(net, facilities, groups, c.direction, engine, given)
            drive[c.id] = GroupCosts(found, groups)
        elif c.mode == "hub":
            assert c.hub is not None
            if (
                known is not None
                and c.id in known.hubs
                and not changed_types & set(c.hub.hub_types)
            ):
                hubs[c.id] = known.hubs[c.id]
            else:
                hubs[c.id] = hub_circle(lc, net, facilities, speeds_m_s, engine)
    return TravelCosts(walk=walk, drive=drive, hubs=hubs, speeds_m_s=speeds_m_s)


def unchanged_costs(
    known: GroupCosts | None, groups: Groups, changed_types: frozenset[str]
) -> dict[tuple[str, ...], np.ndarray]:
    """The known costs of the groups (same k and horizon) that use none of ``changed_types``."""
    if known is None:
        return {}
    return {
        key: cost
        for key, cost in known.costs.items()
        if known.groups.get(key) == groups.get(key) and not changed_types & set(key)
    }
