"""A partition's tasks: build the network once on a worker, split the layers, write inputs.

The network is built (and cached) by a first task on the cluster, which also reports what the
halos need from it: its metric CRS (the halos are measured in the audit's own CRS) and the
fastest driving speed (edges and access legs). Then the layers are split in this process (see
:mod:`circles.batch.partition`) and each unit's residents and facilities written to
``OUT/units/NAME/inputs/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS

from circles.batch.manifest import Manifest
from circles.batch.partition import refuse_capacity, split, write_unit_inputs
from circles.batch.unit import REPORT_DIR, UnitError, UnitTask, fingerprint
from circles.errors import CirclesError, InputDataError
from circles.inputs.read import sha256, split_layer
from circles.rules.load import LoadedCircle
from circles.rules.schema import Circle
from circles.settings import Settings, merge

UNITS_DIR = "units"


def network_facts(settings: Settings, circles: list[Circle]) -> tuple[str, float]:
    """Build the audit's networks (into the cache); their CRS and fastest driving speed, m/s.

    Runs on a Dask worker; errors become :class:`~circles.batch.unit.UnitError`.
    """
    from circles.network.networks import build_networks

    try:
        nets = build_networks(circles, settings)
    except CirclesError as exc:
        raise UnitError(str(exc).splitlines()[0]) from None
    main = nets.get("walk", next(iter(nets.values())))
    fastest = 0.0
    for key, net in nets.items():
        if key == "walk":
            continue
        speeds = net.network.speed_m_s
        if speeds is not None and len(speeds):
            fastest = max(fastest, float(np.nanmax(speeds)))
        fastest = max(fastest, 1.0 / net.leg_cost_per_m)  # access legs, seconds per metre
    return main.network.crs.to_wkt(), fastest


def shared_settings(manifest: Manifest, out: Path) -> tuple[Settings, list[LoadedCircle]]:
    """A partition's settings and circles, checked (no capacity requirements).

    Raises
    ------
    CirclesError
        Bad shared settings or rules; capacity requirements.
    """
    from circles.rules.load import load_rules

    shared = merge(manifest.shared, {"out": out})
    loaded = load_rules(shared.rules or None, circle_ids=shared.circle_ids or None)
    refuse_capacity(loaded, manifest.path)
    return shared, loaded


@dataclass
class PartitionPlan:
    """A partition's unit tasks, its residents in no unit, its warnings, the input order of ids."""

    tasks: list[UnitTask]
    unassigned: int
    warnings: list[str]
    order: list[Any]
    halo_m: float = 0.0


def partition_tasks(
    manifest: Manifest, shared: Settings, loaded: list[LoadedCircle], out: Path, client: Any
) -> PartitionPlan:
    """The partition's unit tasks, the number of residents in no unit, and the warnings.

    Raises
    ------
    CirclesError
        Inputs or polygons that cannot be read; a network that cannot be built.
    """
    assert manifest.partition is not None
    future = client.submit(network_facts, shared, [lc.circle for lc in loaded], pure=False)
    try:
        crs_wkt, fastest = future.result()
    except UnitError as exc:
        if exc.user:
            raise InputDataError(exc.message) from None
        raise RuntimeError(exc.message) from None
    finally:
        future.release()
    parts = split(shared, manifest.partition, loaded, CRS.from_wkt(crs_wkt), fastest)
    extra = {
        "partition": sha256(split_layer(manifest.partition.by)[0]),
        "field": manifest.partition.field,
        "halos_m": parts.halos_m,
    }
    tasks = []
    warnings = list(parts.warnings)
    for unit in parts.units:
        if len(unit.residents) == 0:
            warnings.append(f"unit {unit.name}: no resident inside its polygon; not audited")
            continue
        if unit.outside_communities:
            warnings.append(
                f"unit {unit.name}: none of its residents lies in a community polygon; audited "
                "without the communities (its residents are unassigned, as in one audit)"
            )
        folder = out / UNITS_DIR / unit.name
        settings = write_unit_inputs(unit, folder / "inputs", shared)
        settings = settings.model_copy(update={"out": folder / REPORT_DIR})
        tasks.append(
            UnitTask(unit.name, settings, folder, fingerprint(shared, extra | {"unit": unit.name}))
        )
    return PartitionPlan(tasks, len(parts.unassigned), warnings, parts.order, parts.halo_m)
