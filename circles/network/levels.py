"""Levels of centre-lines (bridges, tunnels, layers): lines that pass over each other stay apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from circles.inputs.tables import find_column

BRIDGE_COLUMNS = ("bridge", "is_bridge", "桥梁", "高架")
TUNNEL_COLUMNS = ("tunnel", "is_tunnel", "隧道")


LAYER_COLUMNS = ("layer",)
NO = {"", "no", "false", "f", "n", "0", "0.0", "nan", "none", "null", "<na>", "否", "无"}


GROUND = {"building_passage"}  # OSM tunnel values at street level


def line_levels(layer: pd.DataFrame) -> np.ndarray:
    """The level of each line, from ``bridge``/``tunnel``/``layer`` columns (any case).

    Lines cross without a junction when their levels differ: different ``layer`` numbers
    (missing or not a number: 0), or one a bridge (``bridge``, ``is_bridge``, ``桥梁`` or
    ``高架``: yes, viaduct, 1, 是...) or tunnel (``tunnel``, ``is_tunnel``, ``隧道``; not
    ``building_passage``) and the other not.

    Returns
    -------
    numpy.ndarray
        One integer per row; equal integers mean the same level.
    """
    columns = [str(c) for c in layer.columns]
    n = len(layer)
    structure = np.zeros(n, dtype=np.int64)
    for code, names in ((1, BRIDGE_COLUMNS), (2, TUNNEL_COLUMNS)):
        for column in (c for c in layer.columns if str(c).lower() in names):
            text = layer[column].astype("string").fillna("").str.strip().str.lower()
            flagged = ~text.isin(NO | GROUND)
            structure[flagged.to_numpy(dtype=bool) & (structure == 0)] = code
    number = np.zeros(n)
    column = find_column(columns, LAYER_COLUMNS)
    if column is not None:
        number = pd.to_numeric(layer[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        number = np.where(np.isfinite(number), np.round(number), 0.0)
    return number.astype(np.int64) * 4 + structure
