"""POI files: read an Amap/Baidu export (or any layer) and classify its rows."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from circles.catalogue.classify import classify
from circles.catalogue.load import load_catalogue
from circles.inputs.read import read_layer


def classify_file(path: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The POI rows of ``path`` and their classification.

    See :func:`circles.catalogue.classify.classify`.

    Coordinates are read but not converted: classification needs only names and categories.

    Raises
    ------
    InputDataError
        When the file cannot be read.
    """
    layer = read_layer(path, "facilities", crs="EPSG:4326")
    return layer, classify(layer, load_catalogue())
