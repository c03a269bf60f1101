"""Service areas: the land from which each requirement's facilities are reached in time.

Built after the searches, from the same costs the checks use: the network is sampled every
few metres, each sample gets the cost to the ``min_count``-th nearest facility of the
requirement exactly as a resident standing there would (:mod:`circles.areas.samples`), and a
raster of the study area marks the cells whose nearest street is reached with time to spare for
the straight walk from the cell to that street (:mod:`circles.areas.raster`). The cells are
traced into polygons (:mod:`circles.areas.build`). A point is inside a requirement's area when a
resident there would meet it, up to the raster's cell size.
"""

from circles.areas.build import AREA_COLUMNS, Preparation, ServiceAreaOptions, service_areas

__all__ = ["AREA_COLUMNS", "Preparation", "ServiceAreaOptions", "service_areas"]
