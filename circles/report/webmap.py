"""The interactive map map.html: one self-contained page of the audit's layers (Leaflet inlined).

The page holds everything it needs: Leaflet 1.9.4 (``assets/``, BSD-2), its own script and
style, and the data (:mod:`circles.report.webmap_data`) as one JSON block; it loads nothing
from the internet unless an online basemap is asked for (``--basemap osm|amap|tianditu``,
:mod:`circles.report.basemaps`). Per circle and per requirement it shows the community
coverage choropleth (red → green as the PNG maps, grey where nobody lives), the residents not
meeting it (red; off the network grey), the service areas when the audit has them, and the
facilities by type; a legend, a scale bar, community names and coverage on hover, and on click
the requirement's rule with the source and tag of each number. Only the first circle's
whole-circle coverage is shown at start. Words come from the report's en/zh text table.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from circles.audit import AuditResult
from circles.errors import OutputError
from circles.report.basemaps import Basemap, parse_basemap
from circles.report.model import ReportModel, build_report_model
from circles.report.text import text_for
from circles.report.webmap_data import MapData, map_data

__all__ = ["WEB_MAP", "asset", "page", "write_web_map"]

#: The file name of the interactive map in a report folder.
WEB_MAP = "map.html"
# words of the text table the page's script reads, besides the web_* ones
_WORDS = (
    "whole_circle",
    "target",
    "population_total",
    "population_met",
    "subdistrict",
    "model",
    "minutes",
    "map_empty",
    "list_join",
)


@functools.cache
def asset(name: str) -> str:
    """The text of a file of the bundled assets (Leaflet, the page's script and style)."""
    return resources.files("circles.report").joinpath("assets", name).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    """Leaflet's style without its image rules (markers, layer icon): the page draws no image."""
    return re.sub(r"url\(images/[^)]*\)", "none", asset("leaflet.css"))


def _area_name(summary: dict[str, Any]) -> str:
    """The study area as the inputs name it: the residents file's folder, else its name."""
    inputs = (summary.get("run") or {}).get("inputs") or {}
    path = (inputs.get("residents") or {}).get("path") or (inputs.get("network") or {}).get("path")
    if not path:
        return ""
    given = Path(str(path))
    parent = given.parent.name or given.resolve().parent.name  # a bare file name: its folder
    return parent if parent and parent not in (".", "..") else given.stem


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def page(data: MapData, *, title: str, lang: str) -> str:
    r"""The HTML text of map.html for ``data``.

    Every ``</`` inside the JSON is written ``<\/`` so that no data ends the script block.
    """
    areas = ",".join(f'"{key}":{text}' for key, text in data.areas.items())
    payload = (
        '{"meta":'
        + _json(data.meta)
        + ',"communities":'
        + (data.communities or "null")
        + ',"areas":{'
        + areas
        + "}}"
    ).replace("</", "<\\/")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{html_lang}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_escape(title)}</title>",
            "<style>",
            _leaflet_css(),
            asset("webmap.css"),
            "</style>",
            "</head>",
            "<body>",
            '<div id="map"></div>',
            "<!-- Leaflet 1.9.4, BSD-2-Clause, (c) Vladimir Agafonkin, (c) CloudMade -->",
            f"<script>{asset('leaflet.js')}</script>",
            f'<script type="application/json" id="circles-data">{payload}</script>',
            f"<script>{asset('webmap.js')}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_web_map(
    path: Path,
    result: AuditResult,
    *,
    lang: str,
    model: ReportModel | None = None,
    basemap: str | Basemap = "none",
    warnings: list[str] | None = None,
) -> Path:
    """Write the interactive map of an audit to ``path`` (one self-contained HTML file).

    Parameters
    ----------
    path : Path
        The file to write (``map.html`` in a report folder).
    result : AuditResult
        An audit with its geometry (``result.geo``); its ``geo.service_areas``, when present,
        are drawn too.
    lang : str
        ``"en"`` or ``"zh"``: the language of every label.
    model : ReportModel, optional
        The report model of ``result`` (built here when not given).
    basemap : str or Basemap
        ``none`` (default: nothing is loaded from the internet), ``osm``, ``amap`` (overlays
        shifted to GCJ-02) or ``tianditu`` (key from ``tianditu:KEY`` or ``TIANDITU_KEY``).
    warnings : list of str, optional
        The list the warnings of this step go to, as for the PNG maps (the map has none
        today: a sample of the residents drawn is said in its legend).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        When the result has no geometry, the basemap is unknown or lacks its key, or the file
        cannot be written.
    """
    if result.geo is None:
        raise OutputError(
            "this audit result carries no geometry, so no map.html can be drawn; "
            "write the map from the result circles.audit.run_audit returns"
        )
    chosen = basemap if isinstance(basemap, Basemap) else parse_basemap(basemap)
    lang = "zh" if lang == "zh" else "en"
    if model is None:
        model = build_report_model(result.summary, result.coverage)
    data = map_data(result, lang=lang, model=model, basemap=chosen)
    words = text_for(lang)
    area = _area_name(result.summary)
    date = str((result.summary.get("run") or {}).get("timestamp") or "")[:10]
    title = words["web_title"].format(area=area) if area else words["web_title_plain"]
    data.meta["title"] = title
    data.meta["subtitle"] = words["web_date"].format(date=date) if date else ""
    data.meta["words"] = {
        key: value for key, value in words.items() if key.startswith("web_") or key in _WORDS
    }
    try:
        path.write_text(page(data, title=title, lang=lang), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc}); check the folder") from exc
    return path
