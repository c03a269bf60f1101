"""The search heap: (cost, label) pairs in one array."""

from __future__ import annotations

import numpy as np

from circles.traveltime.dijkstra import new_heap, pop_label, push_label


def test_heap_pops_in_cost_order_with_labels_intact() -> None:
    """Labels leave in cost order (ties included), each with its own cost; the heap grows."""
    rng = np.random.default_rng(3)
    cost = rng.integers(0, 50, 3000).astype(float)  # many ties
    labels = rng.permutation(3000) * 1_000_003  # large labels survive the float slot
    heap, size = new_heap(4), 0
    for d, n in zip(cost, labels, strict=True):
        heap, size = push_label(heap, size, d, n)
    out = []
    while size:
        d, n, size = pop_label(heap, size)
        out.append((d, n))
    got_cost = np.array([d for d, _ in out])
    assert (np.diff(got_cost) >= 0).all()
    assert dict(zip(labels.tolist(), cost.tolist(), strict=True)) == {n: d for d, n in out}
