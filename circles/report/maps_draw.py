"""One coverage map drawn from its :class:`~circles.report.maps.MapSpec` and the shared layers."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from circles.inputs.validate import STATUS_OFF_NETWORK
from circles.report.maps_fonts import MapLabels, display_width, wrap_label
from circles.report.maps_frame import (
    DPI,
    FILL_ALPHA,
    HEIGHT_PX,
    PANEL_GAP,
    WIDTH_PX,
    colour_bar,
    map_box,
    north_angle,
    north_arrow,
    scale_bar,
    view_limits,
)
from circles.report.maps_labels import (
    LabelCandidates,
    label_candidates,
    place_labels,
    text_half_m,
)
from circles.report.maps_layers import MapLayers, polygon_paths

if TYPE_CHECKING:
    from circles.report.maps import MapSpec

_UNMET, _OFF, _NETWORK, _EDGE = "#6b0016", "#4d4d4d", "#8c8c8c", "#4a4a4a"
_BOUNDARY, _ZONE, _AREA = "#1a1a1a", "#54278f", "#08519c"
_NO_RESIDENTS = (0.85, 0.85, 0.85, 0.6)
# facility colours that stand out from the red-yellow-green shading and the red residents
_FACILITY_COLOURS = (
    "#1f4e9c",
    "#6a3d9a",
    "#000000",
    "#0aa1c4",
    "#d4379b",
    "#7b4a1e",
    "#3b8bd9",
    "#9e77d1",
    "#505050",
    "#08306b",
    "#b15928",
)
_FACILITY_MARKERS = ("^", "s", "D", "P", "X", "v", "p", "h", "<", ">", "d", "H", "8", "*")
_HALO = 2.2  # white outline of labels, points
_ZONE_PT = 11.0


@functools.cache
def type_names(type_id: str) -> dict[str, str]:
    """Display names of a facility type from the bundled catalogue (the id when unknown)."""
    try:
        from circles.catalogue.load import load_catalogue

        catalogue = load_catalogue()
        return {lang: catalogue.label(type_id, lang) for lang in ("zh", "en")}
    except Exception:  # an unreadable catalogue must not cost the map its legend
        return {"zh": type_id, "en": type_id}


def _type_label(type_id: str, labels: MapLabels) -> str:
    names = type_names(type_id)
    return labels.pick(names[labels.lang], names["en"], type_id)


def _marker(marker: str, label: str, **style: Any):
    """A legend entry for points."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker=marker, label=wrap_label(label), **style)


def _line(colour: str, label: str, **style: Any):
    """A legend entry for lines."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, label=wrap_label(label), **style)


def _candidates(layers: MapLayers, labels: MapLabels, m_per_px: float) -> LabelCandidates:
    """Where the community names fit, once per call of write_maps (the scale is shared)."""
    key = ("labels", labels.lang, m_per_px)
    if key not in layers.cache:
        layers.cache[key] = label_candidates(
            layers.community_ids, layers.community_geoms, m_per_px, labels
        )
    return layers.cache[key]


def draw_map(spec: MapSpec, layers: MapLayers, labels: MapLabels, *, n_communities: int):
    """One map as a matplotlib Figure on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    box = map_box(layers.extent)
    ax = fig.add_axes(box)
    ax.set_axis_off()
    x0, y0, x1, y1 = view_limits(layers.extent, box[2] * WIDTH_PX, box[3] * HEIGHT_PX)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, lw=0.8, ec="#333333")
    ax.add_patch(frame).set_zorder(20)
    m_per_px = (x1 - x0) / (box[2] * WIDTH_PX)

    handles = _communities(ax, spec, layers, labels)
    handles += _network(ax, spec, layers, labels)
    handles += _outlines(ax, spec, layers, labels)
    handles += _residents(ax, spec, layers, labels)
    handles += _facilities(ax, spec, layers, labels)
    taken = _zone_names(ax, spec, layers, labels, m_per_px) if spec.zoned else None
    if layers.community_paths:
        chosen = _candidates(layers, labels, round(m_per_px, 9))
        _names(ax, chosen, place_labels(chosen, n_communities, spec.not_met, taken))

    # a long circle and requirement name still fits the width: 17 pt holds ~95 Latin widths
    title_pt = min(17.0, 17.0 * 95 / max(display_width(spec.title), 1))
    fig.text(0.015, 0.975, spec.title, fontsize=title_pt, fontweight="bold", va="top")
    subtitle_pt = min(11.0, 11.0 * 160 / max(display_width(spec.subtitle), 1))
    fig.text(0.015, 0.935, spec.subtitle, fontsize=subtitle_pt, color="#333333", va="top")
    _legend(fig, handles, spec, labels, left=box[0] + box[2] + PANEL_GAP / 2)
    panel = box[0] + box[2] + PANEL_GAP
    if layers.community_paths:
        from matplotlib import colormaps
        from matplotlib.colors import Normalize

        colour_bar(fig, colormaps["RdYlGn"], Normalize(0.0, 1.0), labels.say("coverage"), panel)
    scale_bar(fig, ax, x1 - x0, panel)
    north_arrow(fig, north_angle(layers.crs, (x0 + x1) / 2, (y0 + y1) / 2), panel)
    if layers.osm:
        ax.text(
            0.995,
            0.006,
            "© OpenStreetMap contributors",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            color="#222222",
            zorder=21,
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 2},
        )
    return fig


def _legend(fig, handles: list, spec: MapSpec, labels: MapLabels, left: float) -> None:
    """The legend right of the map; a grey note last names the types without facilities."""
    from matplotlib.lines import Line2D

    note = None
    if spec.missing_types:
        types = "、" if labels.lang == "zh" else ", "
        text = labels.say(
            "no_facilities", types=types.join(_type_label(t, labels) for t in spec.missing_types)
        )
        note = Line2D([], [], ls="none", label=wrap_label(text, 44))
        handles = [*handles, note]
    lines = sum(h.get_label().count("\n") + 1 for h in handles)
    legend = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(left, 0.9),
        frameon=False,
        fontsize=10 if lines <= 18 else 8,
        handlelength=1.6,
        borderaxespad=0.0,
        labelspacing=0.8 if lines <= 18 else 0.4,
    )
    if note is not None:
        text = legend.get_texts()[-1]
        text.set_color("#555555")
        text.set_fontstyle("italic")


def _communities(ax, spec: MapSpec, layers: MapLayers, labels: MapLabels) -> list:
    """The communities shaded by the map's coverage (grey without residents)."""
    from matplotlib import colormaps
    from matplotlib.collections import PathCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    if not layers.community_paths:
        return []
    known = np.isfinite(spec.ratio)
    faces = colormaps["RdYlGn"](Normalize(0.0, 1.0)(np.where(known, spec.ratio, 0.0)))
    faces[:, 3] = FILL_ALPHA
    faces[~known] = _NO_RESIDENTS
    shading = PathCollection(
        layers.community_paths, facecolors=faces, edgecolors=_EDGE, linewidths=0.6, zorder=1
    )
    ax.add_collection(shading, autolim=False)
    if known.all():
        return []
    return [Patch(fc=_NO_RESIDENTS, ec=_EDGE, label=wrap_label(labels.say("empty")))]


def _network(ax, spec: MapSpec, layers: MapLayers, labels: MapLabels) -> list:
    """The network the circle travels on, labelled by its own mode."""
    from matplotlib.collections import PathCollection

    paths, n_edges, mode = layers.network(spec.mode)
    if not paths:
        return []
    width = 0.6 if n_edges < 5_000 else 0.35 if n_edges < 50_000 else 0.2
    lines = PathCollection(paths, facecolors="none", edgecolors=_NETWORK, linewidths=width)
    ax.add_collection(lines, autolim=False).set_zorder(2)
    return [_line(_NETWORK, labels.say(mode), lw=1.2)]


def _outlines(ax, spec: MapSpec, layers: MapLayers, labels: MapLabels) -> list:
    """The district boundary, the zones of a zoned circle and the requirement's service area."""
    from matplotlib.collections import PathCollection

    handles = []
    if layers.boundary:
        edge = PathCollection(layers.boundary, facecolors="none", edgecolors=_BOUNDARY, lw=1.8)
        ax.add_collection(edge, autolim=False).set_zorder(3)
        handles.append(_line(_BOUNDARY, labels.say("boundary"), lw=1.8))
    zone_paths = layers.zones[0] if spec.zoned else []
    if zone_paths:
        zones = PathCollection(
            zone_paths, facecolors="none", edgecolors=_ZONE, lw=1.6, linestyles=(0, (5, 3))
        )
        ax.add_collection(zones, autolim=False).set_zorder(4)
        handles.append(_line(_ZONE, labels.say("zones"), lw=1.6, ls=(0, (5, 3))))
    if spec.service_area is not None:
        _, paths = polygon_paths(np.arange(len(spec.service_area)), spec.service_area)
        if paths:
            area = PathCollection(paths, facecolors=(*_rgb(_AREA), 0.06), edgecolors=_AREA, lw=1.3)
            ax.add_collection(area, autolim=False).set_zorder(4)
            minutes = "/".join(f"{m:g}" for m in spec.minutes) or "–"
            handles.append(_line(_AREA, labels.say("service_area", x=minutes), lw=1.3))
    return handles


def _in_view(ax, x: float, y: float, margin: float = 0.08) -> bool:
    """Whether (x, y) lies in the map's view, away from its edges (a label there is whole)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    return x0 + dx <= x <= x1 - dx and y0 + dy <= y <= y1 - dy


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def _halo():
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=_HALO, foreground="white")]


def _zone_names(
    ax, spec: MapSpec, layers: MapLayers, labels: MapLabels, m_per_px: float
) -> np.ndarray:
    """Each zone's value (and threshold) inside it, where the fonts draw it, none overlapping.

    Returns the boxes taken (``x0, y0, x1, y1`` rows, metres), for the community names to
    keep clear of.
    """
    boxes: list[tuple[float, float, float, float]] = []
    names = layers.zones[1]
    for x, y, zone in names if len(names) <= 30 else []:
        if not zone.strip() or not labels.ok(zone) or not _in_view(ax, x, y):
            continue
        text = zone
        if zone in spec.zone_minutes:
            text = labels.say("zone_minutes", zone=zone, x=f"{spec.zone_minutes[zone]:g}")
        half_w, half_h = text_half_m(text, _ZONE_PT, m_per_px)
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        boxes.append(box)
        ax.text(
            x, y, text, ha="center", va="center", fontsize=_ZONE_PT, color=_ZONE, alpha=0.85,
            fontweight="bold", zorder=8, path_effects=_halo(), clip_on=True,
        )  # fmt: skip
    return np.array(boxes, dtype=float).reshape(-1, 4)


def _names(ax, candidates: LabelCandidates, chosen: np.ndarray) -> None:
    """The community names chosen, centred where they fit."""
    halo = _halo()
    for k in chosen:
        x, y = candidates.xy[k]
        ax.text(
            x, y, candidates.text[k], ha="center", va="center", fontsize=candidates.size_pt[k],
            color="#1a1a1a", zorder=9, path_effects=halo, clip_on=True, linespacing=1.0,
        )  # fmt: skip


def _residents(ax, spec: MapSpec, layers: MapLayers, labels: MapLabels) -> list:
    """Residents not meeting the map's circle or requirement (dots), off the network (crosses)."""
    evaluated, off_network = layers.status(spec.status_column)
    column = spec.met_column
    met = layers.residents[column].to_numpy() if column in layers.residents else None
    unmet = evaluated & (met != 1) if met is not None else np.zeros(0, dtype=bool)
    n_evaluated = int(evaluated.sum())
    size = 14.0 if n_evaluated < 2_000 else 5.0 if n_evaluated < 50_000 else 2.0
    if unmet.any():
        xy = layers.resident_xy[unmet]
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c=_UNMET, linewidths=0, zorder=6)
    key = "unmet_requirement" if spec.requirement_id else "unmet"
    handles = [
        _marker("o", labels.say(key, n=f"{int(unmet.sum()):,}"), ms=5, mfc=_UNMET, mec="none")
    ]
    if off_network.any():
        xy = layers.resident_xy[off_network]
        many = len(xy) > 2_000  # thousands of crosses would hide the shading: finer ones
        cross = {"s": size * (1.5 if many else 2.5), "lw": 0.5 if many else 0.8}
        ax.scatter(xy[:, 0], xy[:, 1], c=_OFF, marker="x", zorder=6, **cross)
        off_label = labels.say("off", n=f"{int(off_network.sum()):,}")
        handles.append(_marker("x", off_label, ms=6, mec=_OFF))
    return handles


def _facilities(ax, spec: MapSpec, layers: MapLayers, labels: MapLabels) -> list:
    """The map's facilities, one marker per type with data (hollow when off the network).

    Returns the legend entries; a type without any facility has none.
    """
    handles: list = []
    fac = layers.facilities
    fac_type = layers.facility_type
    fac_off = fac["status"].astype(str).to_numpy() == STATUS_OFF_NETWORK
    fac_size = 70.0 if len(fac) < 2_000 else 30.0
    shown = [t for t in spec.facility_types if t not in spec.missing_types]
    for i, type_id in enumerate(shown):
        colour = _FACILITY_COLOURS[i % len(_FACILITY_COLOURS)]
        marker = _FACILITY_MARKERS[i % len(_FACILITY_MARKERS)]
        here = fac_type == type_id
        for off, style in (
            (False, {"c": colour, "edgecolors": "white", "lw": 0.7}),
            (True, {"facecolors": "none", "edgecolors": colour, "lw": 1.2}),
        ):
            xy = layers.facility_xy[here & (fac_off == off)]
            if len(xy):
                ax.scatter(xy[:, 0], xy[:, 1], s=fac_size, marker=marker, zorder=5, **style)
        count = layers.facility_counts.get(type_id, 0)
        label = labels.say("count", what=_type_label(type_id, labels), n=f"{count:,}")
        handles.append(_marker(marker, label, ms=8, mfc=colour, mec="white"))
        if spec.hubs and 0 < here.sum() <= 40 and "facility_name" in fac:
            _label_points(
                ax, layers.facility_xy[here], fac["facility_name"].to_numpy()[here], labels
            )
    if any(fac_off & np.isin(fac_type, shown)):
        handles.append(_marker("o", labels.say("facility_off"), ms=7, mfc="none", mec="#333333"))
    return handles


def _label_points(ax, xy: np.ndarray, names: np.ndarray, labels: MapLabels) -> None:
    """Name labels beside a few points (hubs), where the fonts draw the name."""
    box = {"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.8}
    for (x, y), raw in zip(xy, names, strict=True):
        text = str(raw) if isinstance(raw, str) else ""
        if text.strip() and labels.ok(text):
            ax.annotate(
                text,
                (x, y),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=8,
                color="#1a1a1a",
                zorder=7,
                bbox=box,
                annotation_clip=True,
            )
