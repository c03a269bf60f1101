"""Exports in GCJ-02/BD-09 given without --coords: inferred from the export, converted, said."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from circles.audit import AuditOptions, run_audit
from circles.errors import InputDataError
from circles.inputs.coordsys import infer_system
from circles.inputs.tables import read_points_csv
from circles.projection import gcj02_to_bd09, wgs84_to_gcj02
from tests.inputs.test_chinese_data import _amap_csv


def test_amap_export_without_coords_audits_like_wgs84(toy: dict[str, Path]) -> None:
    facilities = gpd.read_file(toy["facilities"])
    csv = _amap_csv(facilities, toy["dir"] / "amap.csv", "gbk", "gcj02")
    base = dict(network=toy["network"], residents=toy["residents"], rules=[toy["rules"]])
    want = run_audit(AuditOptions(facilities=toy["facilities"], **base))
    got = run_audit(AuditOptions(facilities=csv, **base))  # no --coords
    for col in ("kindergarten_min", "fresh_market_min", "toy"):
        np.testing.assert_allclose(got.residents[col], want.residents[col], atol=0.01)
    warnings = " ".join(got.summary["warnings"])
    assert "coordinates read as GCJ-02 (Amap/Tencent) and converted to WGS 84" in warnings
    assert "--coords facilities=wgs84" in warnings
    # said explicitly, the user wins: read as WGS 84 they lie ~500 m off the toy network
    with pytest.raises(InputDataError, match=r"no facility of amap\.csv"):
        run_audit(AuditOptions(facilities=csv, coords={"facilities": "wgs84"}, **base))


def _write(path: Path, columns: dict) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("columns", "system"),
    [
        ({"name": ["a"], "gcj02_lng": [114.3], "gcj02_lat": [30.5]}, "gcj02"),
        ({"name": ["a"], "bd09_lng": [114.3], "bd09_lat": [30.5]}, "bd09"),
        ({"name": ["a"], "wgs84_lng": [114.3], "wgs84_lat": [30.5]}, "wgs84"),
        ({"name": ["a"], "location": ["114.3,30.5"]}, None),  # not enough to say
        ({"name": ["a"], "location": ["114.3,30.5"], "adname": ["江汉区"]}, "gcj02"),
        ({"name": ["a"], "typecode": ["141204"], "lng": [114.3], "lat": [30.5]}, "gcj02"),
        (
            {
                "名称": ["a"],
                "大类": ["医疗保健"],
                "中类": ["综合医院"],
                "经度": [114.3],
                "纬度": [30.5],
            },
            "gcj02",
        ),
        ({"uid": ["x"], "detail_info": ["{}"], "lng": [114.3], "lat": [30.5]}, "bd09"),
        ({"name": ["a"], "lon": [114.3], "lat": [30.5]}, None),  # nothing says: as given
        ({"typecode": ["141204"], "lon": [24.9], "lat": [60.2]}, None),  # outside China
    ],
)
def test_infer_system(tmp_path: Path, columns: dict, system: str | None) -> None:
    layer = read_points_csv(_write(tmp_path / "p.csv", columns), "facilities", crs=None)
    inferred = infer_system(layer)
    assert (inferred[0] if inferred else None) == system


def test_conversion_round_trip_sanity() -> None:
    lon, lat = wgs84_to_gcj02(np.array([114.3]), np.array([30.5]))
    assert 0.003 < abs(lon[0] - 114.3) + abs(lat[0] - 30.5) < 0.02  # a few hundred metres
    blon, _ = gcj02_to_bd09(lon, lat)
    assert blon[0] != lon[0]
