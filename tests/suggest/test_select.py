"""Site selection on made-up reach sets: greedy against brute force and the integer program."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circles.suggest.select import exact, greedy, interchange, lazy_greedy, plain_greedy
from circles.traveltime.reach import ReachSets


def _reach(sets: list[list[int]]) -> ReachSets:
    sizes = [len(s) for s in sets]
    residents = np.array([r for s in sets for r in sorted(s)], dtype=np.int64)
    return ReachSets(
        indptr=np.r_[0, np.cumsum(sizes)].astype(np.int64),
        residents=residents,
        cost=np.zeros(len(residents)),
    )


def _value(sets, chosen, need, pop) -> float:
    count = np.zeros(len(need), dtype=int)
    for s in chosen:
        count[list(sets[s])] += 1
    return float(pop[(need > 0) & (count >= need)].sum())


instances = st.integers(3, 7).flatmap(
    lambda n_sites: st.tuples(
        st.lists(st.sets(st.integers(0, 11), max_size=6), min_size=n_sites, max_size=n_sites),
        st.lists(st.integers(0, 2), min_size=12, max_size=12),
        st.lists(st.integers(1, 50), min_size=12, max_size=12),
        st.integers(1, 3),
    )
)


@settings(max_examples=60, deadline=None)
@given(instances)
def test_lazy_greedy_picks_what_plain_greedy_picks(case) -> None:
    sets, need, pop, p = case
    need = np.minimum(np.array(need), 1)
    pop = np.array(pop, dtype=float)
    reach = _reach([list(s) for s in sets])
    lazy = lazy_greedy(reach, need.copy(), pop, p, None)
    plain = plain_greedy(reach, need.copy(), pop, p, None)
    assert sum(lazy.gains) == pytest.approx(sum(plain.gains))
    assert sum(lazy.gains) == pytest.approx(_value(sets, lazy.order, need, pop))


@settings(max_examples=60, deadline=None)
@given(instances)
def test_exact_is_the_brute_force_optimum_and_swaps_never_lose(case) -> None:
    sets, need, pop, p = case
    need, pop = np.array(need), np.array(pop, dtype=float)
    reach = _reach([list(s) for s in sets])
    p = min(p, len(sets))
    best = max(
        _value(sets, combo, need, pop) for combo in itertools.combinations(range(len(sets)), p)
    )
    answer = exact(reach, need, pop, p)
    assert answer.status == "optimal"
    assert answer.population == pytest.approx(best)
    chosen = greedy(reach, need, pop, add=p).order
    better = interchange(reach, need, pop, chosen)
    assert _value(sets, better, need, pop) >= _value(sets, chosen, need, pop) - 1e-9
    assert _value(sets, better, need, pop) <= best + 1e-9


def test_a_target_stops_as_soon_as_it_is_reached() -> None:
    reach = _reach([[0, 1, 2], [3], [4, 5]])
    pop = np.array([10, 10, 10, 5, 20, 20], dtype=float)
    need = np.ones(6, dtype=int)
    chosen = greedy(reach, need, pop, target_gain=60.0)
    assert chosen.order == [2, 0] and chosen.stopped == "target"
    everything = greedy(reach, need, pop, target_gain=1000.0)
    assert everything.stopped != "target" and sum(everything.gains) == 75.0


def test_swaps_find_the_pair_of_sites_a_two_facility_requirement_needs() -> None:
    reach = _reach([[0, 1], [0, 1], [2]])
    pop = np.array([40.0, 40.0, 30.0])
    need = np.array([2, 2, 1])
    chosen = greedy(reach, need, pop, add=2)  # myopic: the one site that completes someone
    assert sorted(chosen.order) == [0, 2] and sum(chosen.gains) == 30.0
    assert sorted(interchange(reach, need, pop, chosen.order)) == [0, 1]  # the swap finds 80
