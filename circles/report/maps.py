"""Coverage maps: one PNG per circle, communities shaded by coverage, unmet residents in red.

Each map shows, in the audit's metric CRS, the communities shaded by the circle's whole-circle
coverage (red → green, 0–100 %), the street network as thin grey lines, the evaluated residents
that do not meet the circle as small dark-red points (residents off the network as grey
crosses), the circle's facilities (the hubs of a hub circle, the EMS stations of the EMS
circle), a legend, a colour bar, a scale bar, a north arrow and, for OSM networks, the
attribution. Labels are Chinese or English; Chinese needs a CJK font, found at run time.

Drawing is vectorised: the network becomes compound paths of 4,096 edges each, once per call,
drawn as one collection per map; the residents are one ``scatter``. A city of 300,000 edges and
300,000 residents takes about 0.5 s to prepare and 0.7 s a map. Figures render on the Agg
canvas directly: no screen and no ``pyplot`` state.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import shapely

from circles.audit import AuditResult
from circles.errors import OutputError
from circles.inputs.validate import STATUS_OFF_NETWORK, STATUS_OK
from circles.report.model import ReportModel, build_report_model
from circles.report.text import say
from circles.report.values import number

WIDTH_PX, HEIGHT_PX, DPI = 2000, 1500, 150
MAP_BOX = (0.015, 0.025, 0.72, 0.875)  # the map's axes in figure fractions; legend to its right

#: Families of fonts that draw Simplified Chinese, most preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Heiti SC",
    "STHeiti",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "SimSun",
    "AR PL UMing CN",
    "Arial Unicode MS",
)
# font files worth registering when matplotlib's font list predates their installation
_CJK_FILE = re.compile(
    r"notosans.*(cjk|sc)|notoserifcjk|sourcehan|wqy|wenquanyi|simhei|simsun|msyh|pingfang"
    r"|hiragino.*gb|stheiti|uming|ukai",
    re.IGNORECASE,
)
_PROBE = "社区覆盖率居民"
_LATIN = "DejaVu Sans"  # bundled with matplotlib, so always there
NO_CJK_WARNING = "no CJK font found; maps use English labels; install e.g. fonts-noto-cjk"

_UNMET, _OFF, _NETWORK, _EDGE = "#6b0016", "#4d4d4d", "#8c8c8c", "#4a4a4a"
_NO_RESIDENTS = (0.85, 0.85, 0.85, 0.6)
_FILL_ALPHA = 0.6
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
_EDGES_PER_PATH = 4096  # network edges per compound path: few artists, no giant Agg paths
_LEGEND_WIDTH = 40  # legend label width, in Latin characters (a Chinese one counts two)


def find_cjk_font() -> str | None:
    """Family name of an installed font that draws Chinese, or None when there is none.

    Known families (Noto Sans CJK, Source Han Sans, Microsoft YaHei, WenQuanYi, SimHei, …) are
    tried first, then any font whose character map covers a few common Chinese characters.
    Font files installed after matplotlib built its font list are registered on the way.
    """
    return _find_cjk_font()


@functools.cache
def _find_cjk_font() -> str | None:
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _cjk_among(manager.ttflist)
    if found is not None:
        return found
    known = {str(entry.fname) for entry in manager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path not in known and _CJK_FILE.search(Path(path).name):
            try:
                manager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return _cjk_among(manager.ttflist) if added else None


def _cjk_among(entries: list) -> str | None:
    """The preferred family among font-manager entries that draws Chinese."""
    names = sorted({entry.name for entry in entries})
    ranked = [f for f in CJK_FAMILIES if f in names] + [f for f in names if f not in CJK_FAMILIES]
    return next((f for f in ranked if _draws_chinese(f)), None)


def _draws_chinese(family: str) -> bool:
    charmap = _charmap(family)
    return all(ord(ch) in charmap for ch in _PROBE)


@functools.cache
def _charmap(family: str) -> frozenset[int]:
    """Code points of the font matplotlib uses for ``family`` (empty when it has none)."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        return frozenset(font_manager.get_font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Labels:
    """Label text in one language, checked against the fonts so that no glyph is missing."""

    def __init__(self, lang: str, families: list[str]):
        self.lang = lang
        self._charmap = frozenset().union(*(_charmap(f) for f in families))

    def ok(self, text: str) -> bool:
        """True when the fonts draw every visible character of ``text``."""
        return all(ord(ch) in self._charmap for ch in text if not ch.isspace())

    def pick(self, *candidates: str | None) -> str:
        """The first candidate the fonts draw; failing all, the last one with ``?`` for gaps."""
        options = [c for c in candidates if c]
        for text in options:
            if self.ok(text):
                return text
        last = options[-1] if options else ""
        return "".join(ch if self.ok(ch) else "?" for ch in last)

    def say(self, key: str, **values: object) -> str:
        """A fixed phrase in the chosen language (English when the fonts cannot draw it)."""
        return self.pick(say(self.lang, f"map_{key}", **values), say("en", f"map_{key}", **values))


def _wrap(text: str, width: int = _LEGEND_WIDTH) -> str:
    """Break a label into lines of at most ``width`` (Chinese characters count two)."""
    if _display_width(text) <= width:
        return text
    lines, line = [], ""
    for token in re.findall(
        r"[\u2e80-\u9fff\uf900-\uffef]|[^\s\u2e80-\u9fff\uf900-\uffef]+\s*", text
    ):
        if line and _display_width(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    return "\n".join([*lines, line.rstrip()])


def write_maps(
    folder: Path,
    result: AuditResult,
    *,
    lang: str = "en",
    warnings: list[str] | None = None,
) -> list[Path]:
    """Write one coverage map per circle, ``map_<circle_id>.png``, into ``folder``.

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

    Returns
    -------
    list of Path
        The PNG files written (2000 × 1500 pixels, 150 dpi), in the order of the circles.

    Raises
    ------
    OutputError
        When the result carries no geometry or the folder cannot be written.
    """
    from matplotlib import rc_context

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
    families = [_LATIN] if cjk is None else ([cjk, _LATIN] if lang == "zh" else [_LATIN, cjk])
    labels = _Labels(lang, families)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the map folder {folder} ({exc}); choose another --out"
        ) from exc
    layers = _Layers(result)
    model = build_report_model(result.summary, result.coverage)
    paths = []
    rc = {"font.family": families, "text.parse_math": False, "axes.unicode_minus": False}
    with rc_context(rc):
        for circle in model.circles.values():
            path = folder / f"map_{circle['circle_id']}.png"
            figure = _draw(dict(circle), result, model, layers, labels)
            try:
                figure.savefig(path, dpi=DPI)
            except OSError as exc:
                raise OutputError(f"cannot write the map {path} ({exc}); check the folder") from exc
            paths.append(path)
    return paths


class _Layers:
    """What every circle's map shares, prepared once: paths, point coordinates, the extent."""

    def __init__(self, result: AuditResult):
        geo = result.geo
        assert geo is not None
        self.crs = geo.crs
        network = result.summary.get("network", {})
        self.network_mode = "drive" if network.get("mode") == "drive" else "walk"
        self.osm = network.get("source") == "osm"
        coords, index = geo.network.coordinates()
        coords = np.asarray(coords)[:, :2]
        self.network_paths = _line_paths(coords, np.asarray(index))
        self.n_edges = int(np.count_nonzero(np.diff(index))) + 1 if len(index) else 0

        residents = geo.residents
        located = ~(residents.geometry.isna() | residents.geometry.is_empty).to_numpy()
        self.resident_xy = np.full((len(residents), 2), np.nan)
        self.resident_xy[located] = shapely.get_coordinates(residents.geometry.to_numpy()[located])[
            :, :2
        ]
        self.residents = residents
        status = residents["status"].to_numpy()
        self.evaluated = (status == STATUS_OK) & located
        self.off_network = (status == STATUS_OFF_NETWORK) & located

        facilities = geo.facilities
        located = ~(facilities.geometry.isna() | facilities.geometry.is_empty).to_numpy()
        self.facilities = facilities[located]
        self.facility_xy = shapely.get_coordinates(self.facilities.geometry.to_numpy())[:, :2]

        self.community_ids: list[str] = []
        self.community_paths: list = []
        if geo.communities is not None and len(geo.communities):
            self.community_ids, self.community_paths = _polygon_paths(
                geo.communities["community_id"].astype(str).to_numpy(),
                geo.communities.geometry.to_numpy(),
            )
        parts = [self.resident_xy[~np.isnan(self.resident_xy[:, 0])], self.facility_xy]
        parts += [p.vertices for p in self.community_paths]
        points = np.vstack([p for p in parts if len(p)] or [coords.reshape(-1, 2)])
        self.extent = (
            (*points.min(axis=0), *points.max(axis=0)) if len(points) else (0.0, 0.0, 1e3, 1e3)
        )


def _line_paths(coords: np.ndarray, index: np.ndarray) -> list:
    """The network's edges as compound paths of ``_EDGES_PER_PATH`` edges each."""
    from matplotlib.path import Path as MplPath

    if not len(coords):
        return []
    starts = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    codes[starts] = MplPath.MOVETO
    cut = starts[_EDGES_PER_PATH::_EDGES_PER_PATH]
    return [MplPath(v, c) for v, c in zip(np.split(coords, cut), np.split(codes, cut), strict=True)]


def _polygon_paths(ids: np.ndarray, geoms: np.ndarray) -> tuple[list[str], list]:
    """One compound path per (multi)polygon, holes cut out; empty geometries left out."""
    from matplotlib.path import Path as MplPath

    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    parts, part_geom = shapely.get_parts(geoms[present], return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    parts, part_geom = parts[polygon], np.flatnonzero(present)[part_geom[polygon]]
    # paths fill by the nonzero rule: exteriors anticlockwise, holes clockwise
    if hasattr(shapely, "orient_polygons"):  # shapely >= 2.1
        parts = shapely.orient_polygons(parts)
    else:
        from shapely.geometry.polygon import orient

        parts = np.array([orient(p) for p in parts], dtype=object)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return [], []
    coord_geom = part_geom[ring_part[coord_ring]]
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    ring_start = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    codes[ring_start] = MplPath.MOVETO
    codes[np.r_[ring_start[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    cut = np.flatnonzero(np.diff(coord_geom)) + 1
    paths = [
        MplPath(v, c) for v, c in zip(np.split(coords, cut), np.split(codes, cut), strict=True)
    ]
    return [str(i) for i in ids[coord_geom[np.r_[0, cut]]]], paths


def _facility_types(circle_id: str, circle: dict, result: AuditResult) -> tuple[list[str], bool]:
    """The facility types a circle's map shows (its hubs, or its requirements' types)."""
    for loaded in result.circles:
        if loaded.circle.id == circle_id and loaded.circle.hub is not None:
            return list(dict.fromkeys(loaded.circle.hub.hub_types)), True
    types = [t for r in circle.get("requirements", []) for t in r.get("facility_types") or []]
    return list(dict.fromkeys(types)), False


@functools.cache
def _type_names(type_id: str) -> dict[str, str]:
    """Display names of a facility type from the bundled catalogue (the id when unknown)."""
    try:
        from circles.catalogue.load import load_catalogue

        catalogue = load_catalogue()
        return {lang: catalogue.label(type_id, lang) for lang in ("zh", "en")}
    except Exception:  # an unreadable catalogue must not cost the map its legend
        return {"zh": type_id, "en": type_id}


def _percent(ratio: float | None, lang: str) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "–"
    return f"{100 * ratio:.1f}%" if lang == "zh" else f"{100 * ratio:.1f} %"


def _view(extent: tuple, box_w: float, box_h: float) -> tuple[float, float, float, float]:
    """Limits holding ``extent`` and a margin, in the aspect ratio of the axes box.

    The margin is wider at the bottom, where the attribution goes.
    """
    x0, y0, x1, y1 = (float(v) for v in extent)
    y0 -= 0.03 * max(y1 - y0, 1.0)
    w, h = max(x1 - x0, 1.0) * 1.06, max(y1 - y0, 1.0) * 1.06
    w, h = max(w, h * box_w / box_h), max(h, w * box_h / box_w)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _marker(marker: str, label: str, **style: object):
    """A legend entry for points."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker=marker, label=_wrap(label), **style)


def _ratio(record: dict | None) -> float:
    """A coverage row's ratio (NaN without one)."""
    ratio = None if record is None else number(record.get("coverage_ratio"))
    return math.nan if ratio is None else ratio


def _draw(circle: dict, result: AuditResult, model: ReportModel, layers: _Layers, labels: _Labels):
    """One circle's map as a matplotlib Figure on an Agg canvas."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    circle_id, lang = circle["circle_id"], labels.lang
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes(MAP_BOX)
    ax.set_axis_off()
    x0, y0, x1, y1 = _view(layers.extent, MAP_BOX[2] * WIDTH_PX, MAP_BOX[3] * HEIGHT_PX)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, lw=0.8, ec="#333333")
    ax.add_patch(frame).set_zorder(20)
    handles: list = []

    # communities shaded by the whole circle's coverage
    cmap, norm = colormaps["RdYlGn"], Normalize(0.0, 1.0)
    if layers.community_paths:
        whole = [model.whole.get((c, circle_id)) for c in layers.community_ids]
        ratio = np.array([_ratio(row) for row in whole], dtype=float)
        known = np.isfinite(ratio)
        faces = cmap(norm(np.where(known, ratio, 0.0)), alpha=_FILL_ALPHA)
        faces[~known] = _NO_RESIDENTS
        shading = PathCollection(
            layers.community_paths, facecolors=faces, edgecolors=_EDGE, linewidths=0.6, zorder=1
        )
        ax.add_collection(shading, autolim=False)
        if not known.all():
            handles.append(Patch(fc=_NO_RESIDENTS, ec=_EDGE, label=_wrap(labels.say("empty"))))

    # the street network
    if layers.network_paths:
        width = 0.6 if layers.n_edges < 5_000 else 0.35 if layers.n_edges < 50_000 else 0.2
        lines = PathCollection(
            layers.network_paths, facecolors="none", edgecolors=_NETWORK, linewidths=width
        )
        ax.add_collection(lines, autolim=False).set_zorder(2)
        handles.append(
            Line2D([], [], color=_NETWORK, lw=1.2, label=labels.say(layers.network_mode))
        )

    # residents not meeting the circle; residents off the network
    met = layers.residents[circle_id].to_numpy() if circle_id in layers.residents else None
    unmet = layers.evaluated & (met != 1) if met is not None else np.zeros(0, dtype=bool)
    n_evaluated = int(layers.evaluated.sum())
    size = 14.0 if n_evaluated < 2_000 else 5.0 if n_evaluated < 50_000 else 2.0
    if unmet.any():
        xy = layers.resident_xy[unmet]
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c=_UNMET, linewidths=0, zorder=6)
    unmet_label = labels.say("unmet", n=f"{int(unmet.sum()):,}")
    handles.append(_marker("o", unmet_label, ms=5, mfc=_UNMET, mec="none"))
    if layers.off_network.any():
        xy = layers.resident_xy[layers.off_network]
        ax.scatter(xy[:, 0], xy[:, 1], s=size * 2.5, c=_OFF, marker="x", lw=0.8, zorder=6)
        off_label = labels.say("off", n=f"{int(layers.off_network.sum()):,}")
        handles.append(_marker("x", off_label, ms=6, mec=_OFF))

    handles += _facilities(ax, circle, result, layers, labels)

    # title, legend, colour bar, scale bar, north arrow, attribution
    name, overall = circle.get("name") or {}, circle.get("overall") or {}
    title = labels.pick(name.get(lang), name.get("en"), circle_id)
    pct = _percent(overall.get("coverage_ratio"), lang)
    fig.text(
        0.015,
        0.975,
        labels.say("title", name=title, pct=pct),
        fontsize=17,
        fontweight="bold",
        va="top",
    )
    met_pop, total_pop = overall.get("population_met", 0), overall.get("population_total", 0)
    subtitle = labels.say(
        "subtitle", met=f"{met_pop:,.0f}", total=f"{total_pop:,.0f}", n=f"{n_evaluated:,}"
    )
    fig.text(0.015, 0.935, subtitle, fontsize=11, color="#333333", va="top")
    lines = sum(h.get_label().count("\n") + 1 for h in handles)
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.75, 0.9),
        frameon=False,
        fontsize=10 if lines <= 18 else 8,
        handlelength=1.6,
        borderaxespad=0.0,
        labelspacing=0.8 if lines <= 18 else 0.4,
    )
    if layers.community_paths:
        _colour_bar(fig, cmap, norm, labels.say("coverage"))
    _scale_bar(fig, ax, x1 - x0)
    _north_arrow(fig, _north_angle(layers.crs, (x0 + x1) / 2, (y0 + y1) / 2))
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


def _facilities(ax, circle: dict, result: AuditResult, layers: _Layers, labels: _Labels) -> list:
    """Draw the circle's facilities, one marker per type (hollow when off the network).

    Returns the legend entries.
    """
    handles: list = []
    lang = labels.lang
    types, hubs = _facility_types(circle["circle_id"], circle, result)
    fac = layers.facilities
    fac_type = fac["facility_type"].astype(str).to_numpy()
    fac_off = fac["status"].astype(str).to_numpy() == STATUS_OFF_NETWORK
    fac_size = 70.0 if len(fac) < 2_000 else 30.0
    for i, type_id in enumerate(types):
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
        names = _type_names(type_id)
        what = labels.pick(names[lang], names["en"], type_id)
        label = labels.say("count", what=what, n=f"{int(here.sum()):,}")
        handles.append(_marker(marker, label, ms=8, mfc=colour, mec="white"))
        if hubs and 0 < here.sum() <= 40 and "facility_name" in fac:
            _label_points(
                ax, layers.facility_xy[here], fac["facility_name"].to_numpy()[here], labels
            )
    if any(fac_off & np.isin(fac_type, types)):
        handles.append(_marker("o", labels.say("facility_off"), ms=7, mfc="none", mec="#333333"))
    return handles


def _label_points(ax, xy: np.ndarray, names: np.ndarray, labels: _Labels) -> None:
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
            )


def _colour_bar(fig, cmap, norm, title: str) -> None:
    """The coverage colour bar in the panel right of the map, 0–100 %."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.ticker import PercentFormatter

    cax = fig.add_axes((0.765, 0.13, 0.022, 0.24))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.solids.set_alpha(_FILL_ALPHA)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=9)
    bar.ax.set_title(title, fontsize=11, loc="left", pad=8)


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) of at most a fifth of the span."""
    exponent = math.floor(math.log10(span_m / 5))
    step = next((s for s in (5, 2, 1) if s * 10**exponent <= span_m / 5), 1)
    return float(step * 10**exponent)


def _scale_bar(fig, ax, span_m: float) -> None:
    """A scale bar below the colour bar, in the map's scale (metres in the metric CRS)."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    length = _nice_length(span_m)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        text,
        loc="lower left",
        bbox_to_anchor=(0.765, 0.03),
        bbox_transform=fig.transFigure,
        pad=0.0,
        borderpad=0.0,
        sep=5,
        frameon=False,
        size_vertical=span_m / 250,
        color="black",
        label_top=True,
        fontproperties=FontProperties(size=10),
    )
    fig.add_artist(bar)


def _north_angle(crs: object, x: float, y: float) -> float:
    """Angle of true north from the map's up at (x, y), radians clockwise (0 without a CRS)."""
    try:
        from pyproj import Transformer

        to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = to_lonlat.transform(x, y)
        nx, ny = to_lonlat.transform(lon, min(lat + 0.01, 89.9), direction="INVERSE")
        angle = math.atan2(nx - x, ny - y)
    except Exception:  # no usable CRS: grid north is the best there is
        return 0.0
    return angle if math.isfinite(angle) else 0.0


def _north_arrow(fig, angle: float) -> None:
    """A north arrow right of the colour bar, turned by ``angle`` to true north."""
    from matplotlib.text import Annotation

    dx, dy, tip, length = math.sin(angle), math.cos(angle), (0.93, 0.31), 40.0
    arrow = {"arrowstyle": "-|>,head_length=0.8,head_width=0.45", "lw": 2.2, "color": "black"}
    where = {"xy": tip, "xycoords": "figure fraction", "textcoords": "offset points"}
    fig.add_artist(Annotation("", xytext=(-dx * length, -dy * length), arrowprops=arrow, **where))
    fig.add_artist(
        Annotation(
            "N",
            xytext=(dx * 12, dy * 12),
            ha="center",
            va="center",
            fontsize=14,
            fontweight="bold",
            **where,
        )
    )
