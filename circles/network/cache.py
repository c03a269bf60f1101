"""The network cache: built networks kept as plain arrays (never pickles) in the user cache.

An unchanged extract is not parsed again: the cache key is the SHA-256 of the input file and
every build parameter; a damaged entry is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from circles.inputs.read import sha256
from circles.network.build import Network, build_network, is_pbf
from circles.network.issues import empty_issues
from circles.network.order import in_hilbert_order


def cache_dir() -> Path:
    """``$CIRCLES_CACHE_DIR``, else ``$XDG_CACHE_HOME/circles``, else ``~/.cache/circles``."""
    given = os.environ.get("CIRCLES_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "circles"


CACHE_VERSION = 4  # 2: chains merged; 3: parallel and closed lines kept; 4: Hilbert node order


def _cache_file(path: Path, params: dict) -> Path:
    """The cache file of a network: keyed by the input's bytes and every build parameter."""
    digest = hashlib.sha256()
    digest.update(sha256(path).encode())
    digest.update(json.dumps({"v": CACHE_VERSION, **params}, sort_keys=True).encode())
    return cache_dir() / "networks" / f"{digest.hexdigest()[:32]}.npz"


def _save(network: Network, file: Path) -> None:
    """Write a network as plain arrays (npz: no pickles); atomic, so readers never see half."""
    coords, index = network.coordinates()
    counts = np.bincount(index, minlength=network.n_edges)
    arrays = {
        "node_x": network.node_x,
        "node_y": network.node_y,
        "u": network.u,
        "v": network.v,
        "length_m": network.length_m,
        "fragment": network.fragment,
        "coords": coords,
        "offsets": np.concatenate([[0], np.cumsum(counts)]),
        "crs_wkt": np.array(network.crs.to_wkt()),
        "stats": np.array(json.dumps(network.stats)),
        "mode": np.array(network.mode),
        "issues": np.array(network.issues.to_json(orient="split")),
    }
    if network.built_number is not None:
        arrays["built_number"] = network.built_number
    if network.backward is not None and network.speed_m_s is not None:
        arrays["backward"] = network.backward
        arrays["speed_m_s"] = network.speed_m_s
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, allow_pickle=False, **arrays)
    os.replace(tmp, file)


def _load(file: Path) -> Network:
    # the file is opened here: numpy leaves it open when the archive is damaged
    with open(file, "rb") as handle, np.load(handle, allow_pickle=False) as data:
        offsets = data["offsets"]
        coords = data["coords"]
        index = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        issues = pd.read_json(io.StringIO(str(data["issues"])), orient="split", dtype=False)
        if len(issues) == 0:
            issues = empty_issues()
        return Network(
            node_x=data["node_x"],
            node_y=data["node_y"],
            u=data["u"],
            v=data["v"],
            length_m=data["length_m"],
            geometry=None,
            _coords=(coords, index),
            crs=CRS.from_wkt(str(data["crs_wkt"])),
            fragment=data["fragment"],
            stats=json.loads(str(data["stats"])),
            issues=issues,
            mode=str(data["mode"]),
            backward=data.get("backward"),
            speed_m_s=data.get("speed_m_s"),
            built_number=data.get("built_number"),
        )


def _cache_key(params: dict) -> dict:
    return {
        k: (v.model_dump(mode="json", exclude={"sources"}) if hasattr(v, "model_dump") else v)
        for k, v in params.items()
    }


def is_cached(path: Path, **params: object) -> bool:
    """Whether :func:`load_network` would find this network in the cache."""
    return is_pbf(path) and path.exists() and _cache_file(path, _cache_key(params)).exists()


def load_network(path: Path, *, use_cache: bool = True, **params: object) -> Network:
    """:func:`build_network` through the user cache: an unchanged extract is not read again.

    The nodes are numbered along a Hilbert curve (:func:`circles.network.order.in_hilbert_order`):
    searches run faster, and give the same results.

    The cache key is the SHA-256 of the input file and every build parameter; entries are
    numpy ``.npz`` archives of plain arrays (never pickles). Only OSM extracts are cached:
    centre-line layers are quick to read, and a shapefile's parts could change unseen.
    """
    if not use_cache or not is_pbf(path) or not path.exists():
        network = in_hilbert_order(build_network(path, **params))  # type: ignore[arg-type]
        network.stats["cache"] = "off"
        return network
    file = _cache_file(path, _cache_key(params))
    damaged = False
    if file.exists():
        try:
            network = _load(file)
            network.stats["cache"] = "hit"
            network.cache_file = file
            return network
        except Exception:  # a truncated or damaged entry (any error of the reader): rebuilt
            damaged = True
            with contextlib.suppress(OSError):
                file.unlink()
    network = in_hilbert_order(build_network(path, **params))  # type: ignore[arg-type]
    try:
        _save(network, file)
        network.stats["cache"] = "rebuilt" if damaged else "miss"
        network.cache_file = file
    except OSError:
        network.stats["cache"] = "unwritable"
    if damaged:
        network.stats["cache_damaged"] = str(file)
    return network


DERIVED_VERSION = 1


def derived(
    network: Network, name: str, params: dict, make: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Arrays ``make()`` derives from ``network``, kept beside its cache entry for next time.

    The snapping grid and the service-area raster take longer to make than to load; they
    depend only on the network and ``params`` (JSON-able), which key the file. A network built
    without the cache (centre-lines, ``--no-cache``) makes them each time; a damaged file is
    made again; an unwritable cache is not an error.
    """
    base = network.cache_file
    if base is None:
        return make()
    key = json.dumps({"name": name, "v": DERIVED_VERSION, **params}, sort_keys=True)
    tag = hashlib.sha256(key.encode()).hexdigest()[:16]
    file = base.with_name(f"{base.stem}.{name}-{tag}.npz")
    if file.exists():
        try:
            with open(file, "rb") as handle, np.load(handle, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except Exception:  # a truncated or damaged file (any error of the reader): made again
            with contextlib.suppress(OSError):
                file.unlink()
    arrays = make()
    tmp = file.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, allow_pickle=False, **arrays)
        os.replace(tmp, file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return arrays
