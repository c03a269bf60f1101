"""The frame of a coverage map: figure size, map box, view limits, colour bar, scale bar, north."""

from __future__ import annotations

import math
from typing import Any

WIDTH_PX, HEIGHT_PX, DPI = 2000, 1500, 150
MAP_BOX = (0.015, 0.025, 0.72, 0.875)  # the largest map axes in figure fractions; legend right
FILL_ALPHA = 0.6
PANEL_GAP = 0.03  # between the map's right edge and the legend panel, in figure width
_MARGIN = 1.06  # the view holds the study area and 3 % on each side


def map_box(extent: tuple) -> tuple[float, float, float, float]:
    """The map's axes (figure fractions): :data:`MAP_BOX` cut to the study area's shape.

    A wide area keeps the full width and loses height at the bottom; a tall one keeps the
    full height and loses width on the right, where the legend panel follows it. Either way
    the study area fills the frame.
    """
    left, bottom, width, height = MAP_BOX
    x0, y0, x1, y1 = (float(v) for v in extent)
    w = max(x1 - x0, 1.0) * _MARGIN
    h = (max(y1 - y0, 1.0) + 0.03 * max(y1 - y0, 1.0)) * _MARGIN
    box_w, box_h = width * WIDTH_PX, height * HEIGHT_PX
    if w / h >= box_w / box_h:  # wide: full width, less height, kept under the title
        new_h = box_w * h / w / HEIGHT_PX
        return (left, bottom + height - new_h, width, new_h)
    new_w = box_h * w / h / WIDTH_PX
    return (left, bottom, max(new_w, 0.35), height)


def view_limits(extent: tuple, box_w: float, box_h: float) -> tuple[float, float, float, float]:
    """Limits holding ``extent`` and a margin, in the aspect ratio of the axes box.

    The margin is wider at the bottom, where the attribution goes.
    """
    x0, y0, x1, y1 = (float(v) for v in extent)
    y0 -= 0.03 * max(y1 - y0, 1.0)
    w, h = max(x1 - x0, 1.0) * _MARGIN, max(y1 - y0, 1.0) * _MARGIN
    w, h = max(w, h * box_w / box_h), max(h, w * box_h / box_w)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def colour_bar(fig, cmap, norm, title: str, left: float = 0.765) -> None:
    """The coverage colour bar in the panel right of the map, 0–100 %."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.ticker import PercentFormatter

    cax = fig.add_axes((left, 0.13, 0.022, 0.24))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.solids.set_alpha(FILL_ALPHA)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=9)
    bar.ax.set_title(title, fontsize=11, loc="left", pad=8)


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) of at most a fifth of the span."""
    exponent = math.floor(math.log10(span_m / 5))
    step = next((s for s in (5, 2, 1) if s * 10**exponent <= span_m / 5), 1)
    return float(step * 10**exponent)


def scale_bar(fig, ax, span_m: float, left: float = 0.765) -> None:
    """A scale bar below the colour bar, in the map's scale (metres in the metric CRS)."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    length = nice_length(span_m)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        text,
        loc="lower left",
        bbox_to_anchor=(left, 0.03),
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


def north_angle(crs: object, x: float, y: float) -> float:
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


def north_arrow(fig, angle: float, left: float = 0.765) -> None:
    """A north arrow right of the colour bar, turned by ``angle`` to true north."""
    from matplotlib.text import Annotation

    dx, dy, tip, length = math.sin(angle), math.cos(angle), (left + 0.165, 0.31), 40.0
    arrow = {"arrowstyle": "-|>,head_length=0.8,head_width=0.45", "lw": 2.2, "color": "black"}
    where: dict[str, Any] = {
        "xy": tip,
        "xycoords": "figure fraction",
        "textcoords": "offset points",
    }
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
