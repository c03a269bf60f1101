"""Batch audits on Dask: many units (cities, or one city split by polygons) as tasks, combined.

:func:`~circles.batch.run.run_batch` reads a manifest (:mod:`.manifest`), runs each unit as a
Dask task (:mod:`.unit`), splits a partitioned dataset with exact halos (:mod:`.partition`,
:mod:`.split`) and writes the combined outputs (:mod:`.combine`).
"""

from circles.batch.manifest import Manifest, load_manifest
from circles.batch.run import BatchResult, run_batch

__all__ = ["BatchResult", "Manifest", "load_manifest", "run_batch"]
