"""The residents' GeoPackage layer written by a child process while the audit goes on.

GDAL holds Python's lock for the whole write of a layer (1.3 s for 300,000 residents of 58
columns), so no other thread of the audit moves meanwhile. As soon as the residents table is
final, :class:`PendingLayer` hands its rows to a child process as an Arrow stream (a file in a
scratch folder beside the report) and the child writes the GeoPackage with the same pyogrio call
``GeoDataFrame.to_file(..., engine="pyogrio", use_arrow=True)`` makes, while the parent traces
the service areas and writes the other files. The report writer then moves the finished file
into the report.

No process outlives the audit: the child watches its standard input, a pipe only the parent
holds, and ends at once when the parent is gone; the parent waits for it, or stops it, before
the report is written or the audit fails. The child is a fresh interpreter (``subprocess``:
fork and exec at once, no Python code between them), never a fork of the threaded parent.
When the child cannot start or fails, the layer is written in the parent as before (the same
file).

Run as ``python -m circles.report.layer_process ARGS.json`` by :class:`PendingLayer` only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from pyproj import CRS

BATCH_ROWS = 16_384  # rows converted to Arrow at a time: no second copy of a city's table
GEOMETRY = "geometry"


class PendingLayer:
    """A point layer (``table`` with points at ``xy`` in ``crs``) to be written in ``crs_out``.

    Written by a child process once :meth:`start` is called, else by :meth:`move_to` itself.
    ``scratch`` is a folder of the caller's (beside the report, so the file moves in with one
    rename); it is removed by :meth:`close`.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        xy: np.ndarray,
        crs: object,
        crs_out: object,
        *,
        layer: str,
        scratch: Path,
    ):
        self.layer = layer
        self._inputs: tuple | None = (table, xy, crs, crs_out)
        self._scratch = scratch
        self._path = scratch / f"{layer}.gpkg"
        self._process: subprocess.Popen | None = None
        self._started = False

    def start(self) -> None:
        """Hand the rows to a child process and start it (once; nothing when it cannot).

        Started when the audit's peak has passed (see :func:`circles.scenario.run_scenario`),
        so that the child's memory is not added to it.
        """
        if self._started or self._inputs is None:
            return
        self._started = True
        table, xy, crs, crs_out = self._inputs
        if any(not _plain(table[c]) for c in table.columns):
            return  # pyogrio converts such columns itself: written in the parent instead
        stream = self._scratch / f"{self.layer}.arrows"
        args_path = self._scratch / "args.json"
        try:  # a full disk, say: the parent writes the layer later, or says what went wrong
            args = _write_stream(table, *_projected(xy, crs, crs_out), stream)
            args |= {"stream": str(stream), "path": str(self._path), "layer": self.layer}
            args_path.write_text(json.dumps(args), encoding="utf-8")
            with open(self._scratch / "stderr.txt", "wb") as err:
                self._process = subprocess.Popen(
                    # our own interpreter and module; -P: not a circles/ of the working folder
                    [sys.executable, "-P", "-m", __name__, str(args_path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    close_fds=True,
                )
        except OSError:
            self._process = None

    @property
    def in_child(self) -> bool:
        """True while a child process writes (or wrote) the layer, not yet reaped."""
        return self._process is not None

    def move_to(self, path: Path) -> None:
        """Put the finished layer at ``path``; written here when no child did.

        Writing it here raises what :func:`circles.report.gis.write_frame` raises.
        """
        done = False
        if self._process is not None:
            done = self._wait() == 0 and self._path.exists()
        if done:
            shutil.move(self._path, path)
        elif self._inputs is not None:
            table, xy, crs, crs_out = self._inputs
            write_points_layer(table, *_projected(xy, crs, crs_out), path, self.layer)
        self.close()

    def close(self) -> None:
        """Stop the child if it still runs and remove the scratch folder."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._wait()
            self._process = None
        self._inputs = None
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _wait(self) -> int:
        assert self._process is not None
        code = self._process.wait()
        if self._process.stdin is not None:
            self._process.stdin.close()  # the child's watch ends with it
        return code


def _plain(column: pd.Series) -> bool:
    """True for a column Arrow takes as pyogrio would give it (numbers, booleans, strings)."""
    import pandas as pd

    kind = column.dtype
    if isinstance(kind, pd.StringDtype):
        return True
    if pd.api.types.is_object_dtype(kind):
        return pd.api.types.infer_dtype(column, skipna=True) == "string"
    return kind.kind in "biuf"


def _projected(xy: np.ndarray, crs: object, crs_out: object) -> tuple[np.ndarray, CRS]:
    """The points ``xy`` (NaN: none) in ``crs_out``, as ``GeoDataFrame.to_crs`` projects them.

    The same transformer (always x/y) on the same coordinates: the same numbers, without a
    Point object per resident.
    """
    import numpy as np
    from pyproj import CRS, Transformer

    target = CRS.from_user_input(crs_out)
    out = np.array(xy, dtype=float)
    if crs is not None:
        present = np.isfinite(out).all(axis=1)
        transformer = Transformer.from_crs(CRS.from_user_input(crs), target, always_xy=True)
        x, y = transformer.transform(out[present, 0], out[present, 1])
        out[present, 0], out[present, 1] = x, y
    return out, target


def write_points_layer(table: pd.DataFrame, xy: np.ndarray, crs: CRS, path: Path, layer: str):
    """``table`` with points at ``xy`` (in ``crs``) as a GeoPackage layer, in this process."""
    import geopandas as gpd

    from circles.projection import xy_points
    from circles.report.gis import write_frame

    frame = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=xy_points(xy), crs=crs)
    write_frame(frame, path, layer)


def _wkb_points(xy: np.ndarray):
    """Points as an Arrow binary array of WKB, as shapely writes them (null where NaN)."""
    import numpy as np
    import pyarrow as pa

    n = len(xy)
    present = np.isfinite(xy).all(axis=1)
    count = int(present.sum())
    body = np.empty((count, 21), dtype=np.uint8)  # little-endian 2D Point: 1, 1, x, y
    body[:, 0] = 1
    body[:, 1:5] = np.frombuffer(np.uint32(1).astype("<u4").tobytes(), dtype=np.uint8)
    body[:, 5:] = np.ascontiguousarray(xy[present], dtype="<f8").view(np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(present * 21)
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.Array.from_buffers(
        pa.binary(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(body)], n - count
    )


def _write_stream(table: pd.DataFrame, xy: np.ndarray, crs: CRS, stream: Path) -> dict[str, Any]:
    """Write ``table`` with its points as an Arrow stream; return pyogrio's layer arguments.

    The columns, the WKB geometry, the geometry type and the CRS are those pyogrio's
    ``write_dataframe`` gives GDAL for the same GeoDataFrame (tests/report compares the files).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame(table.reset_index(drop=True), copy=False)
    geometry_type = "Point" if np.isfinite(xy).all(axis=1).any() else "Unknown"
    epsg = crs.to_epsg()
    # every batch in the whole table's types (no all-null column gets here: see _plain)
    columns = pa.Schema.from_pandas(frame, preserve_index=False)
    schema = columns.append(pa.field(GEOMETRY, pa.binary()))
    with pa.OSFile(str(stream), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        for start in range(0, max(len(frame), 1), BATCH_ROWS):
            stop = start + BATCH_ROWS
            part = pa.Table.from_pandas(
                frame.iloc[start:stop], schema=columns, preserve_index=False
            )
            writer.write_table(
                part.append_column(schema.field(GEOMETRY), _wkb_points(xy[start:stop]))
            )
    return {
        "geometry_type": geometry_type,
        "crs": f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL"),
    }


def _main(args_path: str) -> int:
    """The child: write the layer the parent described, unless the parent goes first."""

    def watch() -> None:  # the parent holds our standard input; its end is the parent's
        sys.stdin.buffer.read()
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()
    args = json.loads(Path(args_path).read_text(encoding="utf-8"))
    import pyarrow as pa
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})  # see report.gis
    with pa.OSFile(args["stream"]) as source:  # a batch at a time: little memory held
        reader = pa.ipc.open_stream(source)
        pyogrio.write_arrow(
            reader,
            args["path"],
            layer=args["layer"],
            driver="GPKG",
            geometry_name=GEOMETRY,
            geometry_type=args["geometry_type"],
            crs=args["crs"],
        )
    return 0


if __name__ == "__main__":
    code = _main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # at once: the watching thread still waits on standard input
