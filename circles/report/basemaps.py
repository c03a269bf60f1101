"""The online basemaps map.html may show (``--basemap``): their tiles, attribution and keys.

No basemap is the default: the map then loads nothing from the internet. ``osm`` shows
OpenStreetMap's standard tiles (their servers want a Referer, which a page opened from a file
does not send: serve the report folder over http to be sure of them); ``amap`` Amap (高德)
road tiles, which are drawn in GCJ-02, so every overlay is shifted to GCJ-02 to sit on them;
``tianditu`` the vector map and its annotation layer of Tianditu (天地图), which needs a key:
``tianditu:KEY`` or the environment variable ``TIANDITU_KEY``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BASEMAPS", "TIANDITU_ENV", "Basemap", "basemap_problem", "parse_basemap"]

#: The basemap names ``--basemap`` accepts.
BASEMAPS = ("none", "osm", "amap", "tianditu")
#: The environment variable holding the Tianditu key.
TIANDITU_ENV = "TIANDITU_KEY"

_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_TIANDITU = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"


@dataclass(frozen=True)
class Basemap:
    """An online basemap: its name, tile layers and whether overlays go to GCJ-02.

    Attributes
    ----------
    name : str
        One of :data:`BASEMAPS`.
    key : str or None
        The Tianditu key (None for the other basemaps).
    """

    name: str = "none"
    key: str | None = None

    @property
    def gcj02(self) -> bool:
        """Whether the tiles are drawn in GCJ-02 (Amap), so overlays must be shifted too."""
        return self.name == "amap"

    def tiles(self) -> list[dict[str, object]]:
        """The tile layers, bottom first: URL template, subdomains, attribution, max zoom."""
        if self.name == "osm":
            # OSM's tile servers require a Referer: sent when the page is served over http(s),
            # never from a file:// page, which they may answer with "blocked" tiles
            attribution = "© OpenStreetMap contributors"
            return [
                {
                    "url": _OSM,
                    "subdomains": "",
                    "attribution": attribution,
                    "max_zoom": 19,
                    "referrer_policy": "strict-origin-when-cross-origin",
                }
            ]
        if self.name == "amap":
            return [{"url": _AMAP, "subdomains": "1234", "attribution": "© 高德地图 AutoNavi"}]
        if self.name == "tianditu":
            return [
                {
                    "url": _TIANDITU.replace("{layer}", layer).replace("{key}", self.key or ""),
                    "subdomains": "01234567",
                    "attribution": "© 天地图 Tianditu" if layer == "vec" else "",
                }
                for layer in ("vec", "cva")
            ]
        return []


def basemap_problem(value: str, environ: Mapping[str, str] | None = None) -> str | None:
    """What is wrong with a ``--basemap`` value (None when it can be used).

    ``tianditu`` needs a key, given as ``tianditu:KEY`` or in ``TIANDITU_KEY``.
    """
    name, _, key = str(value).partition(":")
    if name not in BASEMAPS:
        return f"unknown basemap; use one of {', '.join(BASEMAPS)} (tianditu:KEY for Tianditu)"
    if key and name != "tianditu":
        return f"only tianditu takes a key (tianditu:KEY); give {name} alone"
    environ = os.environ if environ is None else environ
    if name == "tianditu" and not (key or environ.get(TIANDITU_ENV)):
        return (
            f"Tianditu tiles need a key: set the environment variable {TIANDITU_ENV} or pass "
            "--basemap tianditu:KEY (a free key from console.tianditu.gov.cn)"
        )
    return None


def parse_basemap(value: str, environ: Mapping[str, str] | None = None) -> Basemap:
    """The basemap of a ``--basemap`` value (``none``, ``osm``, ``amap``, ``tianditu[:KEY]``).

    Raises
    ------
    OutputError
        When the name is unknown, or Tianditu is asked for without a key.
    """
    from circles.errors import OutputError

    problem = basemap_problem(value, environ)
    if problem is not None:
        raise OutputError(f"--basemap {value!r}: {problem}")
    environ = os.environ if environ is None else environ
    name, _, key = str(value).partition(":")
    if name == "tianditu":
        return Basemap(name, key or environ.get(TIANDITU_ENV))
    return Basemap(name)
