"""Choosing sites: greedy with lazy evaluation, a coverage target, the exact integer program.

Pure numpy/scipy on sparse reach sets. A resident counts once ``need`` new sites reach it (its
requirement's ``min_count`` minus the existing facilities already within its threshold). For
``min_count`` 1 the population newly met is a submodular function of the chosen sites, so the
lazy greedy (a gain only ever falls; re-evaluate the top of the heap until it stays on top) picks
what the plain greedy picks, with a (1 − 1/e) guarantee. For ``min_count`` ≥ 2 it is not: every
gain is recomputed at each step and, while no single site completes anyone, the site that brings
the most population closest to its count (population ÷ sites still needed) is taken.
``exact`` solves the maximal-covering integer program with HiGHS (``scipy.optimize.milp``).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from circles.traveltime.reach import ReachSets


@dataclass
class Selection:
    """The sites chosen, in order, with the population each newly brings to the requirement.

    ``newly_met[j]`` are the residents site ``order[j]`` completes (they meet the requirement
    from that step on); ``stopped`` says why the selection ended.
    """

    order: list[int] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)
    newly_met: list[np.ndarray] = field(default_factory=list)
    stopped: str = ""


def greedy(
    reach: ReachSets,
    need: np.ndarray,
    population: np.ndarray,
    *,
    add: int | None = None,
    target_gain: float | None = None,
) -> Selection:
    """Add sites one by one, each the one with the largest population newly met.

    Stops after ``add`` sites, once the population newly met reaches ``target_gain``, or when
    no site brings anyone any closer (``stopped`` says which).
    """
    need = need.astype(np.int64).copy()
    limit = add if add is not None else len(reach.indptr) - 1
    if need.max(initial=0) <= 1:
        return lazy_greedy(reach, need, population, limit, target_gain)
    return plain_greedy(reach, need, population, limit, target_gain)


def _done(selection: Selection, limit: int, target_gain: float | None) -> bool:
    if target_gain is not None and sum(selection.gains) >= target_gain - 1e-9:
        selection.stopped = "target"
        return True
    if len(selection.order) >= limit:
        selection.stopped = "count"
        return True
    return False


def lazy_greedy(
    reach: ReachSets, need: np.ndarray, population: np.ndarray, limit: int, target: float | None
) -> Selection:
    """The greedy for residents needing one site: stale gains re-evaluated only at the top."""
    selection = Selection()
    weight = np.where(need > 0, population, 0.0)
    heap = [(-float(weight[reach.of(s)].sum()), s) for s in range(len(reach.indptr) - 1)]
    heapq.heapify(heap)
    while not _done(selection, limit, target):
        best = None
        while heap:
            _, s = heapq.heappop(heap)
            gain = float(weight[reach.of(s)].sum())
            if not heap or gain >= -heap[0][0] - 1e-9:
                best = (gain, s)
                break
            heapq.heappush(heap, (-gain, s))
        if best is None or best[0] <= 0:
            selection.stopped = "no_gain"
            break
        gain, s = best
        residents = reach.of(s)
        met = residents[weight[residents] > 0]
        weight[met] = 0.0
        selection.order.append(s)
        selection.gains.append(gain)
        selection.newly_met.append(met)
    return selection


def plain_greedy(
    reach: ReachSets, need: np.ndarray, population: np.ndarray, limit: int, target: float | None
) -> Selection:
    """The greedy with every gain recomputed at each step (any ``need``)."""
    selection = Selection()
    n_sites = len(reach.indptr) - 1
    owner = np.repeat(np.arange(n_sites), reach.sizes)
    taken = np.zeros(n_sites, dtype=bool)
    while not _done(selection, limit, target):
        res = reach.residents
        completes = np.where(need[res] == 1, population[res], 0.0)
        gain = np.bincount(owner, weights=completes, minlength=n_sites)
        progress = np.bincount(
            owner,
            weights=np.where(need[res] > 0, population[res] / np.maximum(need[res], 1), 0.0),
            minlength=n_sites,
        )
        gain[taken], progress[taken] = -1.0, -1.0
        s = int(np.argmax(gain)) if gain.max(initial=-1) > 0 else int(np.argmax(progress))
        if progress[s] <= 0:
            selection.stopped = "no_gain"
            break
        residents = reach.of(s)
        residents = residents[need[residents] > 0]
        need[residents] -= 1
        met = residents[need[residents] == 0]
        taken[s] = True
        selection.order.append(s)
        selection.gains.append(float(population[met].sum()))
        selection.newly_met.append(met)
    return selection


@dataclass
class Exact:
    """The maximal-covering integer program's answer for ``p`` sites."""

    sites: list[int]
    population: float
    status: str
    mip_gap: float | None
    seconds: float
    bound: float | None = None  # the solver's upper bound on the population (a time limit)


def exact(
    reach: ReachSets,
    need: np.ndarray,
    population: np.ndarray,
    p: int,
    *,
    time_limit_s: float = 120.0,
) -> Exact:
    """Choose ``p`` sites to maximise the population newly meeting the requirement.

    Variables: ``x_s`` (site s built, binary), ``y_i`` (resident i newly met); constraints
    ``need_i · y_i ≤ Σ_{s reaching i} x_s`` and ``Σ x_s ≤ p``; maximise ``Σ population_i y_i``.
    ``y`` is continuous where one site suffices (an optimum sets it to 0 or 1), binary where
    more are needed. Residents no site reaches, or fewer sites than they need, are left out.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack, vstack

    start = time.perf_counter()
    n_sites = len(reach.indptr) - 1
    owner, res = _wanted_pairs(reach, need)
    reachable = np.bincount(res, minlength=len(need))
    rows = np.flatnonzero((need > 0) & (reachable >= need) & (population > 0))
    if not len(rows) or p <= 0:
        return Exact([], 0.0, "optimal", 0.0, time.perf_counter() - start, 0.0)
    keep = np.isin(res, rows)
    _, weight, group_need, entries = _groups(res[keep], owner[keep], need, population)
    n_g = len(weight)
    a = csr_matrix((-np.ones(len(entries[0])), (entries[0], entries[1])), shape=(n_g, n_sites))
    cover = csr_matrix((group_need.astype(float), (np.arange(n_g), np.arange(n_g))))
    matrix = vstack(
        [
            hstack([a, cover]),
            hstack([csr_matrix(np.ones((1, n_sites))), csr_matrix((1, n_g))]),
        ]
    ).tocsr()
    answer = milp(
        c=np.r_[np.zeros(n_sites), -weight],
        constraints=LinearConstraint(matrix, -np.inf, np.r_[np.zeros(n_g), float(p)]),
        integrality=np.r_[np.ones(n_sites), (group_need > 1).astype(float)],
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit_s, "disp": False},
    )
    seconds = time.perf_counter() - start
    bound = getattr(answer, "mip_dual_bound", None)
    bound = None if bound is None or not np.isfinite(bound) else -float(bound)
    status = "optimal" if answer.status == 0 else "time limit" if answer.status == 1 else "failed"
    if answer.x is None:
        return Exact([], float("nan"), status, None, seconds, bound)
    chosen = np.flatnonzero(answer.x[:n_sites] > 0.5)
    # the population the chosen sites really complete (the y's may sit below 1 at a time limit)
    got = np.bincount(res[np.isin(owner, chosen)], minlength=len(need))
    population_met = float(population[(need > 0) & (got >= need)].sum())
    gap = getattr(answer, "mip_gap", None)
    return Exact([int(s) for s in chosen], population_met, status, gap, seconds, bound)


def _wanted_pairs(reach: ReachSets, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (site, resident) pair of the reach sets whose resident still needs a site."""
    owner = np.repeat(np.arange(len(reach.indptr) - 1), reach.sizes)
    res = reach.residents
    wants = need[res] > 0
    return owner[wants], res[wants]


def _groups(res: np.ndarray, owner: np.ndarray, need: np.ndarray, population: np.ndarray):
    """Residents with the same need and the same sites reaching them, as one row each.

    Returns each resident's group, the groups' population and need, and the (group, site)
    entries of the coverage matrix. A city's residents collapse to far fewer rows.
    """
    order = np.lexsort((owner, res))
    res, owner = res[order], owner[order]
    first = np.r_[True, res[1:] != res[:-1]]
    starts = np.flatnonzero(first)
    people = res[starts]
    keys = [
        need[r].tobytes() + block.tobytes()
        for r, block in zip(people, np.split(owner, starts[1:]), strict=True)
    ]
    group, _ = pd.factorize(pd.Series(keys, dtype=object))
    n_g = int(group.max()) + 1 if len(group) else 0
    weight = np.bincount(group, weights=population[people], minlength=n_g)
    group_need = np.zeros(n_g, dtype=np.int64)
    group_need[group] = need[people]
    # one resident per group carries the group's sites
    lead = np.zeros(n_g, dtype=np.int64)
    lead[group[::-1]] = np.arange(len(people))[::-1]
    is_lead = np.zeros(len(people), dtype=bool)
    is_lead[lead] = True
    entry_person = np.repeat(np.arange(len(people)), np.diff(np.r_[starts, len(res)]))
    take = is_lead[entry_person]
    return group, weight, group_need, (group[entry_person[take]], owner[take])


def subset(reach: ReachSets, sites: list[int]) -> ReachSets:
    """The reach sets of ``sites`` only, in that order."""
    parts = [reach.of(s) for s in sites]
    costs = [reach.cost[reach.indptr[s] : reach.indptr[s + 1]] for s in sites]
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    return ReachSets(
        indptr=np.r_[0, np.cumsum(sizes)].astype(np.int64),
        residents=np.concatenate(parts) if parts else np.zeros(0, np.int64),
        cost=np.concatenate(costs) if costs else np.zeros(0),
    )


def interchange(
    reach: ReachSets,
    need: np.ndarray,
    population: np.ndarray,
    chosen: list[int],
    *,
    budget_s: float = 10.0,
) -> list[int]:
    """Improve a set of sites by swapping one in for one out while the population met grows.

    The vertex substitution of Teitz and Bart: for each chosen site, the unchosen site that
    gains most in its place is swapped in when that gains anything; rounds repeat until none
    does or ``budget_s`` seconds have passed. Each try costs one pass over the reach sets.
    """
    start = time.perf_counter()
    n_sites = len(reach.indptr) - 1
    owner, res = _wanted_pairs(reach, need)
    weight = population[res]
    chosen = list(chosen)
    count = np.bincount(res[np.isin(owner, chosen)], minlength=len(need))
    improved = True
    while improved and time.perf_counter() - start < budget_s:
        improved = False
        for j, s in enumerate(list(chosen)):
            out = reach.of(s)
            out = out[need[out] > 0]
            lost = float(population[out][count[out] == need[out]].sum())
            count[out] -= 1
            completes = np.where(count[res] == need[res] - 1, weight, 0.0)
            gain = np.bincount(owner, weights=completes, minlength=n_sites)
            gain[chosen] = -np.inf
            t = int(np.argmax(gain))
            if gain[t] > lost + 1e-9:
                put = reach.of(t)
                count[put[need[put] > 0]] += 1
                chosen[j] = t
                improved = True
            else:
                count[out] += 1
            if time.perf_counter() - start >= budget_s:
                break
    return chosen
