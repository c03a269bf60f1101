"""``circles suggest``: audit, then rank candidate sites for one requirement.

The audit runs as ``circles audit`` would (its internals kept); the requirement's demand and
the sites' reach sets follow (:mod:`circles.suggest.demand`), then the selection
(:mod:`circles.suggest.select`) and the tables the report writes: the sites in order, the
coverage curve, the change per community and ``planned`` rows in the facilities format, so that
``circles audit --planned`` reproduces the gain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from circles.audit import AuditResult, run_audit
from circles.errors import InputDataError
from circles.evaluate.zones import limits
from circles.rules.schema import Circle, Requirement
from circles.settings import Settings
from circles.suggest.demand import (
    Demand,
    demand_of,
    find_requirement,
    network_of,
    site_graph,
)
from circles.suggest.select import Exact, Selection, exact, greedy, interchange, subset
from circles.suggest.sites import Sites, intersection_sites, read_sites
from circles.traveltime.reach import reach_sets

UNASSIGNED = "(unassigned)"


@dataclass(frozen=True)
class SuggestOptions:
    """What to suggest: the requirement, the candidates, how many sites or which coverage."""

    requirement: str
    candidates: Path | None = None
    add: int | None = None
    target: float | None = None
    exact: bool = False
    communities: tuple[str, ...] = ()
    facility_type: str | None = None
    time_limit_s: float = 120.0


@dataclass
class SuggestResult:
    """The suggestion and the audit it stands on.

    ``sites``: rank, candidate_id, lon, lat, population_newly_met, coverage_after, communities;
    ``curve``: sites added (0 = today) against population met and coverage; ``communities``:
    per community the population met before and after; ``planned``: id, type, lon, lat (the
    facilities format); ``exact``: the integer program's answer when asked.
    """

    audit: AuditResult
    circle: Circle
    requirement: Requirement
    facility_type: str
    sites: pd.DataFrame
    curve: pd.DataFrame
    communities: pd.DataFrame
    planned: pd.DataFrame
    candidates: dict[str, int | str]
    population_total: float
    population_met_before: float
    exact: Exact | None = None
    greedy_population: float = 0.0
    stopped: str = ""
    notes: list[str] = field(default_factory=list)


def check_suggest_options(suggest: SuggestOptions) -> None:
    """Refuse what cannot work before the audit runs."""
    if (suggest.add is None) == (suggest.target is None):
        raise InputDataError("give one of --add N (sites to add) or --target RATIO (coverage)")
    if suggest.add is not None and suggest.add < 1:
        raise InputDataError(f"--add {suggest.add}: add at least one site")
    if suggest.target is not None and not 0 < suggest.target <= 1:
        raise InputDataError(f"--target {suggest.target:g}: a coverage ratio in (0, 1], e.g. 0.9")
    if "/" not in suggest.requirement:
        raise InputDataError(
            f"--requirement {suggest.requirement!r}: give CIRCLE/REQUIREMENT, e.g. "
            "life_15min/kindergarten"
        )


def run_suggest(
    options: Settings, suggest: SuggestOptions, progress: Callable[[str], None] = lambda _: None
) -> SuggestResult:
    """Audit with ``options``, then choose sites for ``suggest.requirement``.

    Raises
    ------
    CirclesError
        Any problem the user can fix (options, rules, inputs, network, candidates).
    """
    check_suggest_options(suggest)
    audit = run_audit(
        options.model_copy(
            update={"service_areas": "none", "planned": None, "facility_impact": False}
        ),
        progress=progress,
        keep_internals=True,
    )
    internals = audit.internals
    assert internals is not None
    circle, requirement = find_requirement(audit.circles, suggest.requirement)
    ftype = suggest.facility_type or requirement.facility_types[0]
    if ftype not in requirement.facility_types:
        raise InputDataError(
            f"--type {ftype!r}: not a facility type of {suggest.requirement}; use one of "
            f"{', '.join(requirement.facility_types)}"
        )
    progress("suggest")
    residents = audit.residents
    community = residents["community_id"].astype(str).to_numpy(dtype=object)
    in_scope = _scope(community, suggest.communities)
    net = network_of(internals.nets, circle)
    warnings: list[str] = []
    if suggest.candidates is not None:
        sites = read_sites(suggest.candidates, options, net.network.crs, warnings)
    else:
        gaps = _gap_communities(audit.coverage, circle.id, requirement.id, suggest.communities)
        sites = intersection_sites(net.network, internals.placed.communities, gaps)
    if not len(sites.ids):
        raise InputDataError(
            "no candidate site: the gap communities hold no network intersection; give --candidates"
        )
    graph = site_graph(net, circle, sites.xy, options.max_snap_m)
    zones = internals.checks.zone_columns.get(
        f"{circle.id}_zone", np.full(len(residents), "", dtype=object)
    )
    evaluable = internals.evaluable[circle.id]
    limit = limits(circle, requirement, zones, internals.costs.speeds_m_s.get(circle.id), evaluable)
    population = residents["population"].to_numpy(dtype=float)
    fac_types = internals.placed.facilities["facility_type"].to_numpy(dtype=object)
    demand = demand_of(circle, requirement, graph, fac_types, population, evaluable, limit)
    need = np.where(in_scope, demand.need, 0)
    rows = np.flatnonzero(need > 0)
    reach = reach_sets(graph.csr, graph.site_node, graph.anchors, rows, limit)
    total = float(population[in_scope].sum())
    met_before = float(population[in_scope & demand.met].sum())
    target_gain = None
    if suggest.target is not None:
        target_gain = max(suggest.target * total - met_before, 0.0)
    selection = greedy(reach, need, population, add=suggest.add, target_gain=target_gain)
    if suggest.add is not None and len(selection.order) > 1:
        # swaps may beat the greedy set; the better set is ranked again, greedily
        better = interchange(reach, need, population, selection.order)
        if sorted(better) != sorted(selection.order):
            again = greedy(subset(reach, better), need, population, add=len(better))
            again.order = [better[j] for j in again.order]
            if sum(again.gains) > sum(selection.gains) + 1e-9:
                again.stopped = selection.stopped
                selection = again
    result = _tables(audit, demand, sites, selection, community, in_scope, population, ftype)
    result.candidates = {
        "source": sites.source,
        "total": len(sites.ids),
        "on_network": int(graph.site_snaps.on_network.sum()),
        "reaching_someone": int((reach.sizes > 0).sum()),
    }
    result.notes = warnings + _notes(selection, suggest, total, met_before)
    if suggest.exact:
        p = suggest.add if suggest.add is not None else len(selection.order)
        result.exact = exact(reach, need, population, p, time_limit_s=suggest.time_limit_s)
    return result


def _scope(community: np.ndarray, chosen: tuple[str, ...]) -> np.ndarray:
    if not chosen:
        return np.ones(len(community), dtype=bool)
    unknown = sorted(set(chosen) - set(community))
    if unknown:
        raise InputDataError(
            f"--community {unknown[0]!r}: no resident lies in such a community; communities: "
            f"{', '.join(sorted(set(community))[:15])}"
        )
    return np.isin(community, list(chosen))


def _gap_communities(
    coverage: pd.DataFrame, circle_id: str, requirement_id: str, chosen: tuple[str, ...]
) -> list[str]:
    rows = coverage[
        (coverage["circle_id"] == circle_id)
        & (coverage["requirement_id"] == requirement_id)
        & (coverage["scope"] == "community")
    ]
    gaps = rows[rows["is_gap"].apply(lambda g: g is True)]["community_id"].astype(str).tolist()
    return [g for g in gaps if not chosen or g in chosen]


def _notes(selection: Selection, suggest: SuggestOptions, total: float, met: float) -> list[str]:
    notes = []
    if selection.stopped == "no_gain":
        after = met + sum(selection.gains)
        notes.append(
            f"no further candidate brings anyone to the requirement after {len(selection.order)} "
            f"sites (coverage {after / total:.1%})"
            if total
            else "nobody to serve"
        )
    if suggest.target is not None and selection.stopped != "target" and total:
        notes.append(
            f"the target coverage {suggest.target:.0%} cannot be reached with these candidates"
        )
    return notes


def _tables(
    audit: AuditResult,
    demand: Demand,
    sites: Sites,
    selection: Selection,
    community: np.ndarray,
    in_scope: np.ndarray,
    population: np.ndarray,
    ftype: str,
) -> SuggestResult:
    total = float(population[in_scope].sum())
    met_before = float(population[in_scope & demand.met].sum())
    to_wgs = Transformer.from_crs(audit.summary["run"]["crs"], "EPSG:4326", always_xy=True)
    order = np.array(selection.order, dtype=np.int64)
    lon, lat = to_wgs.transform(sites.xy[order, 0], sites.xy[order, 1])
    cumulative = met_before + np.cumsum(selection.gains) if len(order) else np.zeros(0)
    gaining = [_community_gains(community[m], population[m]) for m in selection.newly_met]
    site_ids = sites.ids[order] if len(order) else np.zeros(0, dtype=object)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "candidate_id": site_ids,
            "lon": np.round(lon, 9),
            "lat": np.round(lat, 9),
            "population_newly_met": np.round(selection.gains, 3),
            "coverage_after": np.round(cumulative / total, 6) if total else np.nan,
            "communities": gaining,
        }
    )
    curve = pd.DataFrame(
        {
            "sites_added": np.arange(len(order) + 1),
            "population_met": np.r_[met_before, cumulative],
            "coverage": np.r_[met_before, cumulative] / total if total else np.nan,
        }
    )
    newly = np.concatenate(selection.newly_met) if selection.newly_met else np.zeros(0, np.int64)
    frame = pd.DataFrame({"community_id": community, "population": population})
    frame = frame[in_scope]
    before = frame.assign(met=np.where(demand.met[in_scope], population[in_scope], 0.0))
    gain = pd.Series(population[newly], index=community[newly]).groupby(level=0).sum()
    per = before.groupby("community_id").agg(
        population_total=("population", "sum"), population_met_before=("met", "sum")
    )
    per["population_newly_met"] = gain.reindex(per.index).fillna(0.0)
    per["population_met_after"] = per["population_met_before"] + per["population_newly_met"]
    with np.errstate(invalid="ignore", divide="ignore"):
        per["coverage_before"] = per["population_met_before"] / per["population_total"]
        per["coverage_after"] = per["population_met_after"] / per["population_total"]
    per = per.reset_index().sort_values(
        ["population_newly_met", "community_id"], ascending=[False, True], kind="stable"
    )
    planned = pd.DataFrame(
        {
            "id": [f"suggested_{r}" for r in table["rank"]],
            "type": ftype,
            "name": [
                f"suggested site {r} ({c})" for r, c in zip(table["rank"], site_ids, strict=True)
            ],
            "lon": table["lon"],
            "lat": table["lat"],
        }
    )
    return SuggestResult(
        audit=audit,
        circle=demand.circle,
        requirement=demand.requirement,
        facility_type=ftype,
        sites=table,
        curve=curve,
        communities=per.reset_index(drop=True),
        planned=planned,
        candidates={},
        population_total=total,
        population_met_before=met_before,
        greedy_population=float(sum(selection.gains)),
        stopped=selection.stopped,
    )


def _community_gains(community: np.ndarray, population: np.ndarray, top: int = 3) -> str:
    """The communities a site serves newly, the most population first: "A 1,200; B 300"."""
    if not len(community):
        return ""
    gains = pd.Series(population, index=community).groupby(level=0).sum()
    gains = gains.sort_values(ascending=False, kind="stable")
    parts = [f"{name} {value:,.0f}" for name, value in gains.head(top).items()]
    more = len(gains) - top
    return "; ".join(parts) + (f"; +{more} more" if more > 0 else "")
