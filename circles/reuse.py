"""What the planned audit takes over from the status quo's: networks, snaps, searches, areas.

The planned audit reads the same rules, residents and networks as the status quo; its
facilities are the status quo's followed by the planned ones. So it takes, instead of making
them again:

- the rules (not read again), the networks (not loaded again) and the residents' snaps;
- the status quo facilities' snaps (a point's snap depends on that point alone): only the
  planned facilities are snapped;
- the costs of every search whose facility types include no planned type (nearest-facility
  groups walking and driving, hub circles), and the service areas of every requirement whose
  types include none, with the samples and raster of the service areas.

A status quo answer was found on the status quo's search graph, without the planned facilities
inserted. Inserting one changes no cost between the other nodes: it splits an edge into pieces
whose costs add up to the edge's (up to a rounding of the last bits, far below every reported
precision) and hangs from the split point by a stub edge that leads nowhere else. Every search
using a planned type, the capacity shares, the checks, coverage and summary are worked out
again on the planned audit's own search graph. Nothing is taken unless the planned audit's
residents and first facility rows are the status quo's, point for point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles.areas.build import AreaMemo
from circles.network.attach import Attachment, Names, attach
from circles.network.build import Network
from circles.network.networks import AuditNetwork, build_networks
from circles.network.snap import Snaps
from circles.projection import point_coordinates
from circles.rules.load import LoadedCircle, load_rules
from circles.rules.schema import Circle
from circles.traveltime.costs import TravelCosts, travel_costs

if TYPE_CHECKING:
    from circles.settings import Settings


@dataclass
class _Facilities:
    """The status quo's facility rows, to know the planned audit's first rows for the same."""

    ids: np.ndarray
    types: np.ndarray
    status: np.ndarray
    xy: np.ndarray

    @classmethod
    def of(cls, facilities: pd.DataFrame) -> _Facilities:
        return cls(
            ids=facilities["facility_id"].to_numpy(dtype=object),
            types=facilities["facility_type"].to_numpy(dtype=object),
            status=facilities["status"].to_numpy(dtype=object),
            xy=point_coordinates(facilities.geometry.to_numpy(dtype=object)),
        )

    def first_rows_of(self, other: _Facilities) -> bool:
        """Whether ``other`` begins with these rows, the same in id, type, status and place."""
        n = len(self.ids)
        return len(other.ids) >= n and (
            np.array_equal(self.ids, other.ids[:n])
            and np.array_equal(self.types, other.types[:n])
            and np.array_equal(self.status, other.status[:n])
            and np.array_equal(self.xy, other.xy[:n], equal_nan=True)
        )


@dataclass
class Reuse:
    """Filled by the status quo's audit, taken from by the planned one (same options).

    Each method is a stage of :func:`circles.audit.run_audit`: the first audit runs the stage
    and keeps what it found; the second takes what still holds and runs the rest.
    """

    rules: tuple[object, list[LoadedCircle]] | None = None
    networks: dict[str, tuple[Network, float]] | None = None
    resident_xy: np.ndarray | None = None
    snaps: dict[str, tuple[Snaps, Snaps]] = field(default_factory=dict)
    facilities: _Facilities | None = None
    costs: TravelCosts | None = None
    area_memo: AreaMemo = field(default_factory=AreaMemo)
    #: the second audit's: the facility types of its rows after the status quo's (None: the
    #: inputs differ, nothing that depends on them is taken)
    changed_types: frozenset[str] | None = None
    taking: bool = False

    def load_rules(
        self,
        rules: Sequence[str | Path] | None,
        *,
        circle_ids: Sequence[str] | None = None,
    ) -> list[LoadedCircle]:
        """:func:`circles.rules.load.load_rules`, or the rules the first audit loaded."""
        key = (None if rules is None else list(rules), circle_ids and list(circle_ids))
        if self.rules is None or self.rules[0] != key:
            self.rules = (key, load_rules(rules, circle_ids=circle_ids))
        return self.rules[1]

    def build_networks(self, circles: list[Circle], options: Settings) -> dict[str, AuditNetwork]:
        """:func:`circles.network.networks.build_networks`, or the kept networks afresh."""
        if self.networks is None:
            nets = build_networks(circles, options)
            self.networks = {k: (n.network, n.leg_cost_per_m) for k, n in nets.items()}
            return nets
        self.taking = True
        return {
            key: AuditNetwork(key, network, leg_cost_per_m=leg)
            for key, (network, leg) in self.networks.items()
        }

    def attach(
        self,
        nets: dict[str, AuditNetwork],
        circles: list[Circle],
        resident_xy: np.ndarray,
        resident_status: np.ndarray,
        facilities: pd.DataFrame,
        names: Names,
    ) -> Attachment:
        """:func:`circles.network.attach.attach`, snapping only the points not snapped before."""
        rows = _Facilities.of(facilities)
        if not self.taking:
            attached = attach(nets, circles, resident_xy, resident_status, facilities, names)
            self.resident_xy, self.facilities = resident_xy, rows
            self.snaps = {key: net.snapped() for key, net in nets.items()}
            return attached
        assert self.resident_xy is not None and self.facilities is not None
        same = np.array_equal(self.resident_xy, resident_xy, equal_nan=True)
        if same and self.facilities.first_rows_of(rows):
            self.changed_types = frozenset(rows.types[len(self.facilities.ids) :])
            known = self.snaps
        else:
            self.changed_types, known = None, None
        return attach(nets, circles, resident_xy, resident_status, facilities, names, known=known)

    def travel_costs(
        self,
        loaded: list[LoadedCircle],
        nets: dict[str, AuditNetwork],
        facilities: pd.DataFrame,
        speeds_m_s: dict[str, float],
        engine: str,
    ) -> TravelCosts:
        """:func:`circles.traveltime.costs.travel_costs`, searching only what changed."""
        if not self.taking:
            self.costs = travel_costs(loaded, nets, facilities, speeds_m_s, engine)
            return self.costs
        if self.changed_types is None or self.costs is None:
            return travel_costs(loaded, nets, facilities, speeds_m_s, engine)
        known, self.costs = self.costs, None  # released once taken
        return travel_costs(
            loaded,
            nets,
            facilities,
            speeds_m_s,
            engine,
            known=known,
            changed_types=self.changed_types,
        )

    def areas(self) -> AreaMemo | None:
        """The memo the service areas keep (first audit) or take from (second)."""
        if not self.taking:
            return self.area_memo
        if self.changed_types is None:
            return None
        self.area_memo.changed_types = self.changed_types
        return self.area_memo
