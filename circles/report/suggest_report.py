"""The report of ``circles suggest``: the ranked sites, the coverage curve, the change by community.

Files in the output folder: ``suggested.csv`` and ``suggested.gpkg`` (the sites in order),
``coverage_curve.csv`` and ``coverage_curve.png`` (sites added against coverage),
``communities.csv`` (population met before and after, per community), ``planned.csv`` (the
sites in the facilities format: ``circles audit --planned planned.csv`` reproduces the gain)
and ``suggested.xlsx`` (the same tables as sheets, in English or Chinese).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from circles.report.files import write_csv
from circles.report.staging import staged_output
from circles.report.text import text_for
from circles.suggest.run import SuggestResult

SUGGEST_FILES = [
    "suggested.csv",
    "suggested.gpkg",
    "coverage_curve.csv",
    "coverage_curve.png",
    "communities.csv",
    "planned.csv",
    "suggested.xlsx",
]


def write_suggestion(
    result: SuggestResult, out: Path, *, overwrite: bool, lang: str = "en", bom: bool = True
) -> list[Path]:
    """Write the suggestion's files into ``out`` atomically; return their paths."""
    with staged_output(out, SUGGEST_FILES, overwrite=overwrite, whole=True) as stage:
        write_csv(result.sites, stage / "suggested.csv", bom=bom)
        points = shapely.points(result.sites["lon"].to_numpy(), result.sites["lat"].to_numpy())
        gpd.GeoDataFrame(result.sites, geometry=points, crs="EPSG:4326").to_file(
            stage / "suggested.gpkg", layer="suggested", driver="GPKG", engine="pyogrio"
        )
        write_csv(result.curve, stage / "coverage_curve.csv", bom=bom)
        write_csv(result.communities, stage / "communities.csv", bom=bom)
        write_csv(result.planned, stage / "planned.csv", bom=bom)
        _curve_png(result, stage / "coverage_curve.png", lang)
        _workbook(result, stage / "suggested.xlsx", lang)
    return [out / name for name in SUGGEST_FILES]


def _words(lang: str) -> dict[str, str]:
    return {
        key.removeprefix("suggest_"): text
        for key, text in text_for("zh" if lang == "zh" else "en").items()
        if key.startswith("suggest_")
    }


def requirement_name(result: SuggestResult, lang: str) -> str:
    """``circle · requirement`` in the report's language (ids where a name is missing)."""
    for circle in result.audit.summary.get("circles", []):
        if circle.get("circle_id") != result.circle.id:
            continue
        name = (circle.get("name") or {}).get(lang) or result.circle.id
        for req in circle.get("requirements", []):
            if req.get("requirement_id") == result.requirement.id:
                return f"{name} · {(req.get('name') or {}).get(lang) or result.requirement.id}"
        return f"{name} · {result.requirement.id}"
    return f"{result.circle.id} · {result.requirement.id}"


def _curve_png(result: SuggestResult, path: Path, lang: str) -> None:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from circles.report.maps_fonts import LATIN, find_cjk_font

    words = _words(lang)
    cjk = find_cjk_font()
    if lang == "zh" and cjk is None:
        words = _words("en")
        lang = "en"
    families = [LATIN] if cjk is None else [cjk, LATIN]
    with rc_context({"font.family": families, "axes.unicode_minus": False}):
        fig = Figure(figsize=(8, 5), dpi=120)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        curve = result.curve
        ax.plot(curve["sites_added"], 100 * curve["coverage"], marker="o", color="#1f4e9c")
        target = result.requirement.target_coverage
        if target is not None:
            ax.axhline(100 * target, color="#b22222", ls="--", lw=1)
            ax.text(
                0, 100 * target, f" {words['target']} {target:.0%}", va="bottom", color="#b22222"
            )
        ax.set_xlabel(words["sites_added"])
        ax.set_ylabel(words["coverage_pct"])
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.set_title(requirement_name(result, lang), fontsize=11)
        fig.tight_layout()
        fig.savefig(path)


def _workbook(result: SuggestResult, path: Path, lang: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    words = _words(lang)
    wb = Workbook()
    sheets = [
        (words["sheet_sites"], result.sites),
        (words["sheet_communities"], result.communities),
        (words["sheet_curve"], result.curve),
    ]
    percent = {"coverage_after", "coverage_before", "coverage"}
    for i, (title, frame) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = title
        if i == 0:
            ws.append([requirement_name(result, lang)])
            ws["A1"].font = Font(bold=True, size=12)
        header = [words.get(f"col_{c}", c) for c in frame.columns]
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        first = ws.max_row + 1
        for row in frame.itertuples(index=False):
            ws.append([None if isinstance(v, float) and pd.isna(v) else v for v in row])
        for j, column in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            style = "0.0%" if column in percent else "#,##0" if "population" in column else None
            if style is not None:
                for (cell,) in ws.iter_rows(min_row=first, min_col=j, max_col=j):
                    cell.number_format = style
            wide = max(len(str(header[j - 1])) * (2 if lang == "zh" else 1), 10) + 2
            ws.column_dimensions[letter].width = min(wide if column != "communities" else 50, 60)
    wb.save(path)
