"""Population-weighted medians: of one set of values, and of many groups at once."""

from __future__ import annotations

import numpy as np

__all__ = ["group_weighted_medians", "weighted_median"]


def weighted_median(
    values: np.ndarray, weights: np.ndarray, *, step: float | None = None
) -> float | None:
    """The weighted median of ``values``: the first value where the weights reach half.

    Parameters
    ----------
    values : numpy.ndarray
        Finite values (times in seconds, say).
    weights : numpy.ndarray
        Non-negative weights (population), one per value.
    step : float, optional
        Count the values into bins of this width instead of sorting them (linear time) and
        return the middle of the median's bin: 0.6 s gives minutes to 0.01. Without it the
        median is exact.

    Returns
    -------
    float or None
        The median; None when there are no values or the weights add up to nothing.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if len(values) == 0 or weights.sum() <= 0:
        return None
    if step is not None:
        bins = np.floor(values / step).astype(np.int64)
        low = bins.min()
        cumulative = np.cumsum(np.bincount(bins - low, weights=weights))
        return float((np.searchsorted(cumulative, cumulative[-1] / 2.0) + low + 0.5) * step)
    median = group_weighted_medians(np.zeros(len(values), dtype=np.int64), values, weights, 1)[0]
    return None if np.isnan(median) else float(median)


def group_weighted_medians(
    codes: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    n: int,
    by_value: np.ndarray | None = None,
) -> np.ndarray:
    """Weighted median of ``values`` per group code ``0 .. n-1`` (NaN for empty groups).

    Parameters
    ----------
    codes : numpy.ndarray
        Group code of each value; negative codes are left out.
    values, weights : numpy.ndarray
        Values and their weights; rows with a non-finite value or no weight are left out.
    n : int
        Number of groups.
    by_value : numpy.ndarray, optional
        Rows in increasing order of value, when the caller has it (several groupings of the
        same values share one sort); it must hold every row that counts, others are skipped.
        Equal values may come in any order: the median is the same.

    Returns
    -------
    numpy.ndarray
        ``n`` medians, each the first value of its group where the weights reach half.
    """
    out = np.full(n, np.nan)
    keep = np.isfinite(values) & (codes >= 0) & (weights > 0)
    if not keep.any():
        return out
    order = np.argsort(values) if by_value is None else by_value
    order = order[keep[order]]
    # then by group, keeping the value order (a radix sort when the codes fit 16 bits)
    group = codes[order].astype(np.int16 if n < 2**15 else np.int64)
    order = order[np.argsort(group, kind="stable")]
    c, v, w = codes[order], values[order], weights[order]
    cum = np.cumsum(w)
    starts = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
    ends = np.r_[starts[1:], len(c)]
    before = np.r_[0.0, cum][starts]
    half = before + (cum[ends - 1] - before) / 2.0
    pick = np.searchsorted(cum, half)
    out[c[starts]] = v[np.minimum(pick, ends - 1)]
    return out
