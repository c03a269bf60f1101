"""``circles facilities``: how a POI file's categories map to facility types."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circles.cli.exits import OneLineErrors, fail
from circles.errors import CirclesError

facilities_app = typer.Typer(
    cls=OneLineErrors,
    help="Look at facility files: how source POI categories map to facility types.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@facilities_app.command("classify")
def facilities_classify(
    path: Annotated[
        Path,
        typer.Argument(
            help="POI file: an Amap/Baidu CSV export, a layer (OSM tags as columns, a `tags` "
            "JSON or `other_tags` column), or an OSM extract (.osm.pbf)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--out",
            help="Also write every row with its facility type to this CSV.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out if it exists.")
    ] = False,
) -> None:
    """Show how a POI file's categories map to facility types, without running an audit.

    Each row gets the type of the first rule that matches, in this order: Amap typecode, full
    type string (大类;中类;小类, Baidu 一级;二级), a label of Amap's newer tree at any level
    (医疗保健;综合医院, 社区卫生服务中心; deepest first), OSM tags (amenity=school,
    isced:level=1…), then name keywords (for every type; not for categories such as 餐饮 or
    公司企业 that hold no facility). `exclude` words in the name veto a type. The tables show,
    per category, which rule matched and the counts; --out keeps `facility_type`, `matched_by`
    and `rule` for every row.
    """
    from circles.catalogue.poi import classify_file
    from circles.report.classify_view import classification_tables

    try:
        frame, result = classify_file(path)
        if out is not None:
            if out.exists() and not overwrite:
                from circles.errors import OutputError

                raise OutputError(f"{out} exists; pass --overwrite to replace it")
            table = frame.drop(columns=[frame.geometry.name]).assign(
                facility_type=result["facility_type"],
                matched_by=result["matched_by"],
                rule=result["rule"],
            )
            try:
                table.to_csv(out, index=False, encoding="utf-8-sig")  # BOM: Chinese Excel
            except OSError as exc:
                from circles.errors import OutputError

                raise OutputError(f"cannot write {out} ({exc}); choose another --out") from exc
    except CirclesError as exc:
        fail(str(exc))
        return
    console = Console(highlight=False)
    for table in classification_tables(result):
        console.print(table)
