"""Population-weighted medians (circles.evaluate.stats)."""

from __future__ import annotations

import numpy as np
import pytest

from circles.evaluate.stats import group_weighted_medians, weighted_median


def test_weighted_median_is_the_value_where_the_weights_reach_half():
    values = np.array([300.0, 60.0, 120.0])
    assert weighted_median(values, np.array([1.0, 1.0, 1.0])) == 120.0
    assert weighted_median(values, np.array([5.0, 1.0, 1.0])) == 300.0  # 5 of 7 people
    assert weighted_median(np.array([]), np.array([])) is None
    assert weighted_median(values, np.zeros(3)) is None


def test_binned_median_is_the_middle_of_the_median_bin():
    values = np.array([300.0, 60.0, 120.1])
    binned = weighted_median(values, np.ones(3), step=0.6)
    assert binned == pytest.approx(120.3)  # bin [120.0, 120.6)
    assert abs(binned - weighted_median(values, np.ones(3))) <= 0.3


def test_group_medians_leave_out_empty_groups_and_negative_codes():
    codes = np.array([0, 0, 0, 2, -1])
    values = np.array([10.0, 20.0, 30.0, 5.0, 1.0])
    weights = np.array([1.0, 1.0, 3.0, 2.0, 9.0])
    out = group_weighted_medians(codes, values, weights, 3)
    assert out[0] == 30.0 and np.isnan(out[1]) and out[2] == 5.0
    by_value = np.argsort(values)
    assert np.array_equal(
        group_weighted_medians(codes, values, weights, 3, by_value), out, equal_nan=True
    )
