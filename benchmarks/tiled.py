"""A city larger than any shared extract: the Porto extract tiled n × n (benchmark data only).

Writes ``porto_tiled_<n>x<n>.osm.pbf``: the Porto extract's nodes and ways copied n × n times,
each copy shifted by the extract's own width and height (so the copies sit side by side and do
not touch: n² disconnected cities, each identical to Porto) with its ids offset. Residents and
facilities of benchmarks/city.py are shifted the same way. Needs pyosmium (`pip install
osmium`: benchmark-only, not a dependency of circles) and ../shared/data.

    python benchmarks/tiled.py 3 /tmp/tiled      # files in /tmp/tiled
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import city  # noqa: E402


def tile_pbf(source: Path, n: int, out: Path) -> tuple[float, float]:
    """Write the n × n tiled extract; return the shift per tile in degrees (lon, lat)."""
    import osmium

    lons, lats, max_node, max_way = [], [], 0, 0
    for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            lons.append(obj.location.lon)
            lats.append(obj.location.lat)
            max_node = max(max_node, obj.id)
        else:
            max_way = max(max_way, obj.id)
    width = (max(lons) - min(lons)) * 1.02
    height = (max(lats) - min(lats)) * 1.02
    node_step, way_step = 10 ** len(str(max_node)), 10 ** len(str(max_way))
    out.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(out))
    try:
        for tile in range(n * n):
            dx, dy = (tile % n) * width, (tile // n) * height
            for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
                if obj.is_node():
                    loc = osmium.osm.Location(obj.location.lon + dx, obj.location.lat + dy)
                    writer.add_node(obj.replace(id=obj.id + tile * node_step, location=loc))
                else:
                    nodes = [nd.ref + tile * node_step for nd in obj.nodes]
                    writer.add_way(obj.replace(id=obj.id + tile * way_step, nodes=nodes))
    finally:
        writer.close()
    return width, height


def tile_table(path: Path, n: int, shift: tuple[float, float], out: Path) -> None:
    """Residents or facilities copied to every tile (ids suffixed by the tile)."""
    table = pd.read_csv(path)
    parts = []
    for tile in range(n * n):
        part = table.copy()
        part["id"] = part["id"].astype(str) + f"_t{tile}"
        part["lon"] += (tile % n) * shift[0]
        part["lat"] += (tile // n) * shift[1]
        parts.append(part)
    pd.concat(parts, ignore_index=True).to_csv(out, index=False)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("tiled")
    folder.mkdir(parents=True, exist_ok=True)
    porto = city.NETWORKS["Porto"]
    pbf = folder / f"porto_tiled_{n}x{n}.osm.pbf"
    shift = tile_pbf(porto, n, pbf)
    nodes = city.walk_nodes(porto)
    city.make_inputs(nodes, 300_000, 20_000, folder, seed=1)
    for name in ("residents", "facilities"):
        tile_table(folder / f"{name}.csv", n, shift, folder / f"{name}_{n}x{n}.csv")
    print(f"{pbf} ({pbf.stat().st_size / 1e6:.0f} MB), residents and facilities × {n * n}")


if __name__ == "__main__":
    main()
