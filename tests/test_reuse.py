"""The planned audit takes the status quo's networks, snaps, searches and areas: same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles.audit import AuditResult, run_audit
from circles.project import load_project
from circles.reuse import Reuse
from circles.scenario import run_scenario
from circles.settings import Settings, merge

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "synthetic_district"


def _planned(folder: Path, types: list[str]) -> Path:
    """Planned facilities of ``types``, each 150 m east of an example facility of its type."""
    facilities = pd.read_csv(EXAMPLE / "facilities.csv")
    rows = [facilities[facilities["type"] == t].iloc[0] for t in types]
    path = folder / "planned.csv"
    pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(len(rows))],
            "name": [f"planned {t}" for t in types],
            "type": types,
            "lon": [row["lon"] + 0.0016 for row in rows],
            "lat": [row["lat"] for row in rows],
            "seats": [300] * len(rows),
        }
    ).to_csv(path, index=False)
    return path


def _options(planned: Path, **changes: object) -> Settings:
    return merge(load_project(EXAMPLE / "circles.yaml"), {"planned": planned, **changes})


def _same(taken: AuditResult, fresh: AuditResult) -> None:
    """Every table the report writes from, and the summary but for its run stamp."""
    pd.testing.assert_frame_equal(taken.residents, fresh.residents)
    pd.testing.assert_frame_equal(taken.facilities, fresh.facilities)
    pd.testing.assert_frame_equal(taken.coverage, fresh.coverage)
    if fresh.allocation is not None:
        pd.testing.assert_frame_equal(taken.allocation, fresh.allocation)
    a, b = dict(taken.summary), dict(fresh.summary)
    a["run"] = {k: v for k, v in a["run"].items() if k != "timestamp"}
    b["run"] = {k: v for k, v in b["run"].items() if k != "timestamp"}
    assert a == b
    assert taken.geo is not None and fresh.geo is not None
    for name in ("service_areas", "facility_areas"):
        mine, theirs = getattr(taken.geo, name), getattr(fresh.geo, name)
        if theirs is None:
            assert mine is None
            continue
        columns = theirs.columns.drop("geometry")
        pd.testing.assert_frame_equal(mine[columns], theirs[columns])
        assert (mine.geometry.to_wkb() == theirs.geometry.to_wkb()).all()


@pytest.mark.parametrize(
    ("types", "changes"),
    [
        # walking types, a drive type with zoned thresholds and a hub type
        (["kindergarten", "fresh_market", "ems_station", "metro_station"], {}),
        # capacity shares and per-facility areas
        (
            ["kindergarten", "elderly_daycare"],
            {
                "rules": [EXAMPLE / "school_places.yaml"],
                "service_areas": "per-facility",
            },
        ),
    ],
)
def test_the_planned_audit_is_the_one_made_from_scratch(
    tmp_path: Path, types: list[str], changes: dict
) -> None:
    options = _options(_planned(tmp_path, types), **changes)
    scenario = run_scenario(options)
    assert scenario.planned is not None
    _same(scenario.planned, run_audit(options))
    _same(scenario.result, run_audit(options.model_copy(update={"planned": None})))


def test_only_the_searches_of_planned_types_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import circles.traveltime.costs as costs_module

    options = _options(_planned(tmp_path, ["fresh_market"]))
    reuse = Reuse()
    run_audit(options.model_copy(update={"planned": None}), reuse=reuse)
    searched: list[tuple[str, ...]] = []
    plain_search = costs_module.search

    def search(net, facilities, groups, direction, engine, given=None):
        searched.extend(key for key in groups if key not in (given or {}))
        return plain_search(net, facilities, groups, direction, engine, given)

    monkeypatch.setattr(costs_module, "search", search)
    run_audit(options, reuse=reuse)
    assert reuse.changed_types == frozenset({"fresh_market"})
    assert searched and all("fresh_market" in key for key in searched)
    assert reuse.area_memo.rows and reuse.area_memo.prepared


def test_different_inputs_take_nothing_that_depends_on_them(tmp_path: Path) -> None:
    options = _options(_planned(tmp_path, ["fresh_market"]))
    reuse = Reuse()
    run_audit(options.model_copy(update={"planned": None}), reuse=reuse)
    assert reuse.facilities is not None
    reuse.facilities.xy = reuse.facilities.xy + 1.0  # as if a facility had moved
    taken = run_audit(options, reuse=reuse)
    assert reuse.changed_types is None and reuse.areas() is None
    _same(taken, run_audit(options))


def test_groups_without_changed_types_keep_their_costs() -> None:
    from circles.traveltime.costs import GroupCosts, unchanged_costs

    cost = np.zeros((3, 1))
    known = GroupCosts(
        costs={("a",): cost, ("b",): cost, ("a", "c"): cost, ("d",): cost},
        groups={("a",): (1, 10.0), ("b",): (1, 10.0), ("a", "c"): (1, 10.0), ("d",): (1, 5.0)},
    )
    groups = {("a",): (1, 10.0), ("b",): (1, 10.0), ("a", "c"): (1, 10.0), ("d",): (1, 9.0)}
    # ("d",) reaches farther now: searched again too
    assert set(unchanged_costs(known, groups, frozenset({"c"}))) == {("a",), ("b",)}
