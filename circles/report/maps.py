"""Coverage maps: one PNG per circle and one per requirement, communities shaded by coverage.

Each map shows, in the audit's metric CRS and fitted to the study area, the communities shaded
by coverage (red → green, 0–100 %) with their names where they fit, the district boundary (the
communities dissolved) and, on a zoned circle's maps, the zones of its thresholds; the network
the circle travels on as thin grey lines (walking, or driving for a driving circle), the
evaluated residents that do not meet the circle or the requirement as small dark-red points
(residents off that network as grey crosses), the facilities of the circle or the requirement
(types without any facility are left out of the legend and named in a note), the
requirement's service area where the audit has one, a legend, a colour bar, a scale bar, a
north arrow and, for OSM networks, the attribution. Labels are Chinese or English; Chinese
needs a CJK font, found at run time.

A circle's map is ``map_<circle>.png``, shaded by whole-circle coverage; a requirement's map
is ``map_<circle>_<requirement>.png``, shaded by that requirement's coverage.

Drawing is vectorised: the network becomes compound paths of 4,096 edges each, once per call,
drawn as one collection per map; the residents are one ``scatter``. What every map shares
(paths, points, the boundary, where names fit) is prepared once per call. A city of 300,000
edges and 300,000 residents takes about 0.5 s to prepare and 0.7 s a map. Figures render on
the Agg canvas directly: no screen and no ``pyplot`` state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from circles.audit import AuditResult
from circles.errors import OutputError
from circles.report.maps_fonts import (
    LATIN,
    NO_CJK_WARNING,
    MapLabels,
    find_cjk_font,
    quiet_font_log,
)
from circles.report.maps_frame import DPI, HEIGHT_PX, MAP_BOX, WIDTH_PX
from circles.report.maps_layers import MapLayers
from circles.report.model import ReportModel, build_report_model
from circles.report.values import number

__all__ = [
    "HEIGHT_PX",
    "MAP_BOX",
    "NO_CJK_WARNING",
    "WIDTH_PX",
    "MapSpec",
    "find_cjk_font",
    "write_maps",
]


@dataclass
class MapSpec:
    """What one map shows: its title, shading, residents, network, facilities and areas.

    Attributes
    ----------
    circle_id, requirement_id : str
        The circle, and the requirement (``""`` for the whole circle's map).
    title, subtitle : str
        The two heading lines.
    ratio : numpy.ndarray
        Coverage of each community of the map layers (NaN without residents).
    not_met : numpy.ndarray
        Population not meeting it, by community (NaN where unknown).
    met_column, status_column : str
        The residents' 0/1 column and the status column of the network the circle uses.
    mode : str
        ``"walk"`` or ``"drive"``: the network the circle travels on.
    facility_types : list of str
        The facility types shown; ``hubs`` whether they are a hub circle's hubs.
    missing_types : list of str
        Those of them without any facility in the data.
    zoned : bool
        Whether the circle's thresholds differ by zone (its zones are drawn).
    service_area : Any
        The requirement's service-area geometries (metric CRS), or None.
    minutes : list of float
        The service areas' thresholds.
    zone_minutes : dict
        The threshold of each zone-layer value, minutes (when one requirement says it).
    """

    circle_id: str
    requirement_id: str
    title: str
    subtitle: str
    ratio: np.ndarray
    not_met: np.ndarray
    met_column: str
    status_column: str
    mode: str
    facility_types: list[str]
    hubs: bool = False
    missing_types: list[str] = field(default_factory=list)
    zoned: bool = False
    service_area: Any = None
    minutes: list[float] = field(default_factory=list)
    zone_minutes: dict[str, float] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        """``map_<circle>.png`` or ``map_<circle>_<requirement>.png``."""
        tail = f"_{self.requirement_id}" if self.requirement_id else ""
        return f"map_{self.circle_id}{tail}.png"


def write_maps(
    folder: Path,
    result: AuditResult,
    *,
    lang: str = "en",
    warnings: list[str] | None = None,
    model: ReportModel | None = None,
) -> list[Path]:
    """Write a coverage map per circle and per requirement into ``folder``.

    Parameters
    ----------
    folder
        Where the PNGs go (created when missing).
    result
        An audit with its geometry (``result.geo``), as :func:`circles.audit.run_audit` returns.
    lang
        ``"zh"`` or ``"en"``: the language of titles and legends. Chinese needs a CJK font
        (:func:`find_cjk_font`); without one the maps use English labels, with a warning.
    warnings
        List the warnings of this step are appended to.
    model
        The report model of ``result`` when the caller has built it already; built here
        otherwise.

    Returns
    -------
    list of Path
        The PNG files written (2000 × 1500 pixels, 150 dpi): for each circle in order,
        ``map_<circle>.png`` and then ``map_<circle>_<requirement>.png`` for each of its
        requirements.

    Raises
    ------
    OutputError
        When the result carries no geometry or the folder cannot be written.
    """
    from matplotlib import rc_context

    from circles.report.maps_draw import draw_map

    if result.geo is None:
        raise OutputError(
            "this audit result carries no geometry, so no maps can be drawn; "
            "draw maps from the result circles.audit.run_audit returns"
        )
    cjk = find_cjk_font()
    lang = "zh" if lang == "zh" else "en"
    if lang == "zh" and cjk is None:
        lang = "en"
        if warnings is not None and NO_CJK_WARNING not in warnings:
            warnings.append(NO_CJK_WARNING)
    # matplotlib falls back family by family, glyph by glyph: data in Chinese draws in both
    families = [LATIN] if cjk is None else ([cjk, LATIN] if lang == "zh" else [LATIN, cjk])
    labels = MapLabels(lang, families)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the map folder {folder} ({exc}); choose another --out"
        ) from exc
    layers = MapLayers(result)
    if model is None:
        model = build_report_model(result.summary, result.coverage)
    paths = []
    with (
        rc_context(
            {"font.family": families, "text.parse_math": False, "axes.unicode_minus": False}
        ),
        quiet_font_log(),
    ):
        for spec in map_specs(result, model, layers, labels):
            path = folder / spec.file_name
            figure = draw_map(spec, layers, labels, n_communities=len(layers.community_ids))
            try:
                figure.savefig(path, dpi=DPI)
            except OSError as exc:
                raise OutputError(f"cannot write the map {path} ({exc}); check the folder") from exc
            paths.append(path)
    return paths


def map_specs(
    result: AuditResult, model: ReportModel, layers: MapLayers, labels: MapLabels
) -> list[MapSpec]:
    """What each map shows: every circle's, then each of its requirements', in report order."""
    from circles.network.networks import network_key

    rules = {lc.circle.id: lc.circle for lc in result.circles}
    by_key: dict[tuple[str, str], dict[str, dict]] = {}
    for record in model.records:
        if record["scope"] == "community":
            key = (record["circle_id"], record["requirement_id"])
            by_key.setdefault(key, {})[record["community_id"]] = record
    areas = getattr(result.geo, "service_areas", None)
    columns = set(layers.residents.columns)
    specs = []
    for circle_id, circle in model.circles.items():
        rule = rules.get(circle_id)
        mode = "drive" if rule is not None and network_key(rule) != "walk" else "walk"
        status = "drive_status" if mode == "drive" and "drive_status" in columns else "status"
        hub_types = list(dict.fromkeys(rule.hub.hub_types)) if rule and rule.hub else None
        requirements = list(circle.get("requirements") or [])
        zoned = f"{circle_id}_zone" in columns or any(
            r.get("max_time_min_by_zone") for r in requirements
        )
        name = circle.get("name") or {}
        circle_name = labels.pick(name.get(labels.lang), name.get("en"), circle_id)
        n_evaluated = int(layers.status(status)[0].sum())
        for row in model.circle_rows[str(circle_id)]:
            rid = row.requirement_id
            if rid and f"{circle_id}/{rid}" not in columns:
                continue  # a requirement without its residents' column cannot be drawn
            item = row.item
            if hub_types is not None:
                types = hub_types
            elif rid:
                types = list(dict.fromkeys(item.get("facility_types") or []))
            else:
                types = [t for r in requirements for t in r.get("facility_types") or []]
                types = list(dict.fromkeys(types))
            title, subtitle = _headings(circle_name, item, row.overall, rid, labels, n_evaluated)
            ratio, not_met = _shading(by_key.get((str(circle_id), rid), {}), layers)
            spec = MapSpec(
                circle_id=str(circle_id),
                requirement_id=rid,
                title=title,
                subtitle=subtitle,
                ratio=ratio,
                not_met=not_met,
                met_column=f"{circle_id}/{rid}" if rid else str(circle_id),
                status_column=status,
                mode=mode,
                facility_types=types,
                hubs=hub_types is not None,
                missing_types=[t for t in types if not layers.facility_counts.get(t)],
                zoned=zoned,
            )
            zoned_items = [item] if rid else requirements
            if zoned and rule is not None and len(zoned_items) == 1:
                spec.zone_minutes = _zone_minutes(dict(zoned_items[0]), rule, layers)
            if rid and areas is not None and len(areas):
                here = areas[
                    (areas["circle_id"].astype(str) == str(circle_id))
                    & (areas["requirement_id"].astype(str) == rid)
                ]
                if len(here):
                    spec.service_area = here.geometry.to_numpy()
                    minutes = [number(m) for m in here["minutes"]] if "minutes" in here else []
                    spec.minutes = sorted({m for m in minutes if m is not None})
            specs.append(spec)
    return specs


def _zone_minutes(item: dict, rule: Any, layers: MapLayers) -> dict[str, float]:
    """The requirement's minutes in each zone of the zone layer (by its value)."""
    from circles.evaluate.zones import circle_zone_ids

    names = [name for _, _, name in layers.zones[1]]
    by_zone = item.get("max_time_min_by_zone") or {}
    default = number(item.get("max_time_min"))
    ids, _ = circle_zone_ids(np.array(names, dtype=object), rule)
    out = {}
    for name, zone_id in zip(names, ids, strict=True):
        minutes = number(by_zone.get(zone_id)) if zone_id in by_zone else default
        if minutes is not None:
            out[name] = minutes
    return out


def _shading(records: dict[str, dict], layers: MapLayers) -> tuple[np.ndarray, np.ndarray]:
    """Coverage and population not met of each community of the layers (NaN where unknown)."""
    ratio = np.full(len(layers.community_ids), np.nan)
    not_met = np.full(len(layers.community_ids), np.nan)
    for i, community_id in enumerate(layers.community_ids):
        record = records.get(community_id)
        if record is None:
            continue
        value = number(record.get("coverage_ratio"))
        ratio[i] = math.nan if value is None else value
        total, met = number(record.get("population_total")), number(record.get("population_met"))
        if total is not None and met is not None:
            not_met[i] = total - met
    return ratio, not_met


def _percent(ratio: float | None, lang: str) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "–"
    return f"{100 * ratio:.1f}%" if lang == "zh" else f"{100 * ratio:.1f} %"


def _rule_text(item: dict, labels: MapLabels) -> str:
    """The requirement in a few words: "within 15 min", "at least 2 within 500 m"."""
    by_zone = item.get("max_time_min_by_zone") or {}
    zone_minutes = sorted({m for m in map(number, by_zone.values()) if m is not None})
    minutes, metres = number(item.get("max_time_min")), number(item.get("max_distance_m"))
    if len(zone_minutes) > 1:
        within = labels.say("within_zone_min", x="–".join(f"{m:g}" for m in zone_minutes))
    elif minutes is not None:
        within = labels.say("within_min", x=f"{minutes:g}")
    elif metres is not None:
        within = labels.say("within_m", x=f"{metres:g}")
    else:
        return ""
    count = number(item.get("min_count"))
    if count is not None and count > 1:
        return labels.say("at_least", k=f"{count:g}", within=within)
    return within


def _headings(
    circle_name: str, item: Any, overall: Any, rid: str, labels: MapLabels, n_evaluated: int
) -> tuple[str, str]:
    """The title (circle, requirement, coverage) and the subtitle (population met)."""
    pct = _percent(number(overall.get("coverage_ratio")), labels.lang)
    met = f"{number(overall.get('population_met')) or 0:,.0f}"
    total = f"{number(overall.get('population_total')) or 0:,.0f}"
    n = f"{n_evaluated:,}"
    if not rid:
        title = labels.say("title", name=circle_name, pct=pct)
        return title, labels.say("subtitle", met=met, total=total, n=n)
    name = item.get("name") or {}
    requirement = labels.pick(name.get(labels.lang), name.get("en"), rid)
    title = labels.say("title_requirement", name=circle_name, requirement=requirement, pct=pct)
    rule = _rule_text(dict(item), labels)
    if not rule:
        return title, labels.say("subtitle", met=met, total=total, n=n)
    return title, labels.say("subtitle_requirement", rule=rule, met=met, total=total, n=n)
