"""A driving circle in the same audit does not change what the walking circles report.

Liechtenstein's footpaths reach far into the mountains, hundreds of metres from any drivable
road: a resident there is on the walking network and off the driving one. Its walking times,
its walking circles and their coverage must be those of an audit without the driving circle.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import shapely

from circles.audit import AuditOptions, run_audit
from tests.conftest import shared
from tests.test_reference_times import WALK_TYPES, walk_rule

N_RESIDENTS = 2000


def _points_near(edges: gpd.GeoDataFrame, n: int, max_m: float, rng: np.random.Generator):
    """``n`` points along random ways (by length), 0-max_m off them, in the ways' CRS."""
    geoms = edges.geometry.to_numpy()
    lengths = shapely.length(geoms)
    picks = rng.choice(len(geoms), n, p=lengths / lengths.sum())
    base = shapely.line_interpolate_point(geoms[picks], rng.uniform(0, 1, n), normalized=True)
    angle, dist = rng.uniform(0, 2 * math.pi, n), rng.uniform(0, max_m, n)
    xy = (
        shapely.get_coordinates(base)
        + np.column_stack([np.cos(angle), np.sin(angle)]) * dist[:, None]
    )
    return shapely.points(xy)


def test_walking_results_do_not_depend_on_a_drive_circle(tmp_path: Path) -> None:
    pbf = shared("osm_engine_testdata/liechtenstein_valhalla.osm.pbf")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        osm = pyrosm.OSM(str(pbf))
        walk = osm.get_network(network_type="walking")
        drive = osm.get_network(network_type="driving")
    crs = "EPSG:32632"
    walk, drive = walk.to_crs(crs), drive.to_crs(crs)
    rng = np.random.default_rng(41)
    residents = _points_near(walk, N_RESIDENTS, 40.0, rng)
    # the test means something only if some residents are far from every drivable road
    far = shapely.STRtree(drive.geometry.to_numpy()).query_nearest(residents, return_distance=True)[
        1
    ]
    assert (far > 250).sum() >= 20, (far > 250).sum()
    gpd.GeoDataFrame(
        {
            "id": [f"r{i}" for i in range(N_RESIDENTS)],
            "population": rng.integers(1, 50, N_RESIDENTS),
        },
        geometry=residents,
        crs=crs,
    ).to_file(tmp_path / "res.gpkg")
    fac_types = [t for t in WALK_TYPES for _ in range(40)]
    fac_points = list(_points_near(walk, len(fac_types), 40.0, rng))
    fac_types += ["ems_station"] * 5
    fac_points += list(_points_near(drive, 5, 20.0, rng))
    gpd.GeoDataFrame(
        {"id": [f"f{i}" for i in range(len(fac_types))], "type": fac_types},
        geometry=fac_points,
        crs=crs,
    ).to_file(tmp_path / "fac.gpkg")
    rule = walk_rule(tmp_path, WALK_TYPES)

    def run(rules: list, circles: list[str]):
        return run_audit(
            AuditOptions(
                network=pbf,
                facilities=tmp_path / "fac.gpkg",
                residents=tmp_path / "res.gpkg",
                rules=rules,
                circle_ids=circles,
                crs=crs,
            )
        )

    alone = run([rule], ["walk_ref"])
    both = run([rule, "wuhan"], ["walk_ref", "ems"])
    walking = [
        "resident_id",
        "snap_m",
        "status",
        *(f"{t}_min" for t in WALK_TYPES),
        "walk_ref",
        *(f"walk_ref/{t}" for t in WALK_TYPES),
    ]
    a, b = alone.residents[walking], both.residents[walking]
    same = (a == b) | (a.isna() & b.isna())
    differ = ~same.all(axis=1)
    by_column = {c: int((~same[c]).sum()) for c in walking if not same[c].all()}
    drive_snap = both.residents["drive_snap_m"].to_numpy()
    beyond = int((differ & (drive_snap > 250)).sum())
    example = pd.concat([a[differ].head(2).T, b[differ].head(2).T], axis=1)
    assert not differ.any(), (
        f"{int(differ.sum())} of {N_RESIDENTS} residents' walking results change when the EMS "
        f"circle is audited too ({beyond} of them over 250 m from a drivable road, the others "
        f"nearest to a fragment of it; residents per column: {by_column}); e.g. without and with "
        f"it:\n{example}"
    )
    cover = {c["circle_id"]: c["overall"] for c in alone.summary["circles"]}
    cover_both = {c["circle_id"]: c["overall"] for c in both.summary["circles"]}
    assert cover["walk_ref"] == cover_both["walk_ref"]
