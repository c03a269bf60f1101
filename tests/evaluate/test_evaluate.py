"""Population-weighted medians per group against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from circles.evaluate.stats import group_weighted_medians as group_medians


def _reference(codes, values, weights, n):
    out = np.full(n, np.nan)
    for g in range(n):
        keep = (codes == g) & np.isfinite(values) & (weights > 0)
        if not keep.any():
            continue
        v, w = values[keep], weights[keep]
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order])
        out[g] = v[order][np.searchsorted(cum, cum[-1] / 2.0)]
    return out


@pytest.mark.parametrize("n_groups", [1, 7, 300])
def test_group_medians_match_a_loop(n_groups: int) -> None:
    rng = np.random.default_rng(n_groups)
    size = 5000
    codes = rng.integers(-1, n_groups, size)
    values = np.round(rng.uniform(0, 30, size), 1)  # many ties
    values[rng.random(size) < 0.1] = np.nan
    weights = rng.integers(0, 400, size).astype(float)
    got = group_medians(codes, values, weights, n_groups)
    np.testing.assert_array_equal(got, _reference(codes, values, weights, n_groups))
    shared = group_medians(codes, values, weights, n_groups, np.argsort(values))
    np.testing.assert_array_equal(shared, got)
