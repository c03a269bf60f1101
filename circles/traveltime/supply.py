"""The facility–resident pairs a capacity requirement shares its supply over.

One bounded search per facility of the requirement's types (:mod:`circles.traveltime.reach`),
on the circle's own search graph, in its direction of travel, each resident within its own
threshold: sparse pairs, never a residents × facilities matrix.
"""

from __future__ import annotations

import numpy as np

from circles.network.networks import AuditNetwork
from circles.traveltime.engine import BuiltinEngine
from circles.traveltime.plan import anchors_for
from circles.traveltime.reach import ReachSets, reach_sets


def supply_pairs(
    net: AuditNetwork,
    facility_rows: np.ndarray,
    direction: str,
    residents: np.ndarray,
    limit: np.ndarray,
) -> ReachSets:
    """Per facility row (in the order given): the residents within their limit, and the cost."""
    graph = net.search_graph()
    reverse = graph.directed and direction == "from_facility"
    engine = net.engines.get(reverse)
    if not isinstance(engine, BuiltinEngine):  # the pandana engine keeps no arrays of ours
        engine = BuiltinEngine(graph, reverse=reverse)
    csr = (engine.indptr, engine.indices, engine.weights)
    sources = graph.facility_node[facility_rows]
    return reach_sets(csr, sources, anchors_for(net, direction), residents, limit)
