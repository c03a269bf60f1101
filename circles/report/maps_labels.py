"""Community names on a coverage map: where each fits, in what size, and which are left out.

Each community's name is tried at the polygon's pole of inaccessibility, on one line and on
two, from :data:`SIZES_PT` down; it is a candidate in the largest size whose text box lies
inside the polygon. The candidates are then placed in priority order (the largest communities,
or the communities with the most population not met when there are many), skipping any whose
box would overlap one already placed. When there are many communities, the names of the
:data:`WORST` most wanting are placed first even where they do not fit inside (small
communities in a city map), at :data:`SIZES_PT`'s smallest size but one. The fit is worked
out once per audit; the placement, which follows each map's priorities, is a short loop over
the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from circles.report.maps_fonts import MapLabels, display_width
from circles.report.maps_frame import DPI
from circles.report.maps_layers import label_points, largest_polygons

SIZES_PT = (11.0, 10.0, 9.0, 8.0, 7.0, 6.0)
MANY = 150  # above this many communities, only the MANY most wanting are labelled
WORST = 40  # above MANY communities, these most wanting are named even where the name overflows
_EM_PER_WIDTH = 0.55  # text width per display-width unit (a Chinese character counts two), in em
_LINE_EM = 1.25


@dataclass(frozen=True)
class LabelCandidates:
    """The community names that fit inside their polygons.

    Attributes
    ----------
    index : numpy.ndarray
        Position of each candidate among the map layers' communities.
    text : list of str
        The name as drawn (one line, or two split in the middle).
    xy : numpy.ndarray
        Where each name is centred (metric CRS), ``n × 2``.
    size_pt : numpy.ndarray
        Font size of each name.
    half : numpy.ndarray
        Half width and half height of each name's box, metres, ``n × 2``.
    area : numpy.ndarray
        The community's area, square metres.
    fits : numpy.ndarray
        Whether the name lies inside the polygon (else it overflows it, and is drawn only
        for the most wanting of many communities).
    """

    index: np.ndarray
    text: list[str]
    xy: np.ndarray
    size_pt: np.ndarray
    half: np.ndarray
    area: np.ndarray
    fits: np.ndarray


def _none() -> LabelCandidates:
    empty = np.zeros((0, 2))
    return LabelCandidates(
        np.zeros(0, int), [], empty, np.zeros(0), empty, np.zeros(0), np.zeros(0, bool)
    )


def _layouts(name: str) -> list[str]:
    """The name on one line, and split in the middle when it is long enough for two."""
    if display_width(name) < 8:
        return [name]
    if " " in name.strip():
        words = name.split()
        cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(name) / 2))
        return [name, " ".join(words[:cut]) + "\n" + " ".join(words[cut:])]
    middle = (len(name) + 1) // 2
    return [name, name[:middle] + "\n" + name[middle:]]


def text_half_m(text: str, size_pt: float, m_per_px: float) -> tuple[float, float]:
    """Half the width and height of a text's box, in metres at the map's scale."""
    lines = text.split("\n")
    width_pt = max(display_width(line) for line in lines) * _EM_PER_WIDTH * size_pt
    height_pt = len(lines) * _LINE_EM * size_pt
    to_m = DPI / 72.0 * m_per_px
    return width_pt * to_m / 2 + 2 * m_per_px, height_pt * to_m / 2 + m_per_px


def label_candidates(
    ids: list[str], geoms: np.ndarray, m_per_px: float, labels: MapLabels
) -> LabelCandidates:
    """The communities whose name fits inside the polygon, each in the largest size that fits.

    Names the fonts cannot draw are left out (a missing glyph would draw an empty box).
    """
    geoms = largest_polygons(geoms)
    where = label_points(geoms)
    tries: list[tuple[int, str, float, float, float]] = []  # (community, text, size, hw, hh)
    for i, name in enumerate(ids):
        if not name.strip() or not labels.ok(name) or not np.isfinite(where[i]).all():
            continue
        for size in SIZES_PT:
            for text in _layouts(name):
                tries.append((i, text, size, *text_half_m(text, size, m_per_px)))
    if not tries:
        return _none()
    which = np.array([t[0] for t in tries])
    half = np.array([(t[3], t[4]) for t in tries])
    centre = where[which]
    boxes = shapely.box(*(centre - half).T, *(centre + half).T)
    fits = shapely.contains(geoms[which], boxes)
    first: dict[int, int] = {}  # the first try that fits: largest size, one line before two
    for k in np.flatnonzero(fits):
        first.setdefault(int(which[k]), int(k))
    # a name that fits nowhere: the most compact layout at the smallest size but one
    overflow = np.flatnonzero(np.array([t[2] for t in tries]) == SIZES_PT[-2])
    for k in overflow[np.argsort(half[overflow].prod(axis=1), kind="stable")]:
        first.setdefault(int(which[k]), int(k))
    chosen = np.array(sorted(first.values()), dtype=int)
    if not len(chosen):
        return _none()
    return LabelCandidates(
        index=which[chosen],
        text=[tries[k][1] for k in chosen],
        xy=centre[chosen],
        size_pt=np.array([tries[k][2] for k in chosen]),
        half=half[chosen],
        area=shapely.area(geoms[which[chosen]]),
        fits=fits[chosen],
    )


def place_labels(
    candidates: LabelCandidates,
    n_communities: int,
    not_met: np.ndarray | None = None,
    taken: np.ndarray | None = None,
) -> np.ndarray:
    """Which candidates to draw (positions into ``candidates``), none overlapping another.

    Up to :data:`MANY` communities every name that fits is drawn, the largest community first
    where two would overlap; above it, at most :data:`MANY` names, the communities with the
    most population not meeting the map's circle or requirement (``not_met``, by community
    position) first, then the largest: the :data:`WORST` first even where the name overflows
    the polygon, then those that fit. None overlaps a box of ``taken`` (``x0, y0, x1, y1``
    rows, metres: the zones' names).
    """
    n = len(candidates.index)
    if not n:
        return np.zeros(0, dtype=int)
    area = candidates.area
    fits = candidates.fits
    if n_communities > MANY and not_met is not None:
        wanting = np.nan_to_num(np.asarray(not_met, dtype=float)[candidates.index], nan=-1.0)
        order = np.lexsort((-area, -wanting))
        worst = np.zeros(n, dtype=bool)
        worst[order[wanting[order] > 0][:WORST]] = True
        order = order[(worst | fits)[order]]
        order = np.r_[order[worst[order]], order[~worst[order]]]
    else:
        order = np.argsort(-area, kind="stable")
        order = order[fits[order]]
    limit = MANY if n_communities > MANY else n
    lo = candidates.xy - candidates.half
    hi = candidates.xy + candidates.half
    taken = np.zeros((0, 4)) if taken is None else np.asarray(taken, dtype=float).reshape(-1, 4)
    placed: list[int] = []
    for k in order:
        if len(taken):
            clear = (lo[k] >= taken[:, 2:]).any(axis=1) | (hi[k] <= taken[:, :2]).any(axis=1)
            if not clear.all():
                continue
        if placed:
            p = np.array(placed)
            apart = (lo[k] >= hi[p]).any(axis=1) | (hi[k] <= lo[p]).any(axis=1)
            if not apart.all():
                continue
        placed.append(int(k))
        if len(placed) >= limit:
            break
    return np.array(placed, dtype=int)
