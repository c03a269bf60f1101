"""The rule of each theme of the interactive map: names, thresholds, targets and their sources.

A *theme* is a circle as a whole or one of its requirements. Its rule text is what the
workbook's Rules sheet shows (through :class:`circles.report.excel_book.Book`): the facility
types, the threshold, the minimum count, the target and the walking speed, each number with
the reference and tag of its source, in the report's language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from circles.report.excel_book import Book
from circles.report.model import ReportModel
from circles.report.model_words import model_line
from circles.report.values import number, short_percent
from circles.rules.load import LoadedCircle

__all__ = ["theme_rules", "type_name"]


@functools.cache
def type_name(type_id: str, lang: str) -> str:
    """A facility type's name from the bundled catalogue (the id when unknown)."""
    try:
        from circles.catalogue.load import load_catalogue

        return load_catalogue().label(type_id, lang)
    except Exception:  # an unreadable catalogue must not cost the map its legend
        return type_id


def _percent(ratio: Any) -> str:
    value = number(ratio)
    return "–" if value is None else short_percent(value)


def _source(text: Any) -> dict[str, Any] | None:
    """A SourceText as a JSON object (None when it says nothing)."""
    if text is None or (text.source is None and text.tag is None):
        return None
    return {"ref": text.source, "tag": text.tag, "unverified": text.unverified}


def theme_rules(
    book: Book, model: ReportModel, loaded: Mapping[str, LoadedCircle]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every circle and requirement as a theme, with its rule text, and the circles' groups.

    Returns
    -------
    themes : list of dict
        In report order, a circle's whole-circle theme first: ids, names, the threshold text,
        the overall coverage, gap and target, the circle's description and model line (whole
        circle), and ``lines`` of ``{key, value, source}`` (source: ``ref``, ``tag``,
        ``unverified``) for the popup.
    circles : list of dict
        Per circle: id, name, the indexes of its themes and the facility types it uses.
    """
    themes: list[dict[str, Any]] = []
    circles: list[dict[str, Any]] = []
    for circle_id, rows in model.circle_rows.items():
        circle = model.circles[circle_id]
        name = str(book.circle_name(circle_id))
        group: dict[str, Any] = {"id": circle_id, "name": name, "themes": [], "types": []}
        speed = circle.get("speed_m_per_min")
        for row in rows:
            item = row.item
            whole = row.requirement_id == ""
            lines: list[dict[str, Any]] = []
            if whole:
                label = book.text("whole_circle")
                threshold = None
                if row.target is not None:
                    target_source = (circle.get("sources") or {}).get("target_coverage")
                    lines.append(
                        {
                            "key": book.text("target"),
                            "value": _percent(row.target),
                            "source": _source(book.source(target_source, row.target)),
                        }
                    )
                for r in rows[1:]:
                    text, _ = book.threshold(circle, r.item)
                    lines.append(
                        {
                            "key": str(book.requirement_name(circle_id, r.requirement_id)),
                            "value": text or "",
                        }
                    )
            else:
                label = str(book.requirement_name(circle_id, row.requirement_id))
                threshold, threshold_source = book.threshold(circle, item)
                sources = item.get("sources") or {}
                types = [type_name(t, book.lang) for t in item.get("facility_types") or []]
                if types:
                    lines.append({"key": book.text("facility_types"), "value": book.join(types)})
                if threshold:
                    lines.append(
                        {
                            "key": book.text("threshold"),
                            "value": threshold,
                            "source": _source(threshold_source),
                        }
                    )
                if item.get("min_count") is not None and not item.get("destinations"):
                    lines.append(
                        {
                            "key": book.text("min_count"),
                            "value": f"{item['min_count']:g}",
                            "source": _source(book.source(sources.get("min_count"), 1))
                            if "min_count" in sources
                            else None,
                        }
                    )
                if row.target is not None:
                    lines.append(
                        {
                            "key": book.text("target"),
                            "value": _percent(row.target),
                            "source": _source(
                                book.source(sources.get("target_coverage"), row.target)
                            ),
                        }
                    )
                if item.get("max_time_min") is not None and speed is not None:
                    lines.append(
                        {
                            "key": book.text("speed"),
                            "value": f"{speed:g}",
                            "source": _source(book.source(circle.get("speed_source"), speed)),
                        }
                    )
            themes.append(
                {
                    "circle": circle_id,
                    "req": row.requirement_id,
                    "circle_name": name,
                    "label": label,
                    "threshold": threshold,
                    "coverage": number(row.overall.get("coverage_ratio")),
                    "gap": row.gap,
                    "target": number(row.target),
                    "description": circle.get("description") if whole else None,
                    "model": model_line(circle, book.lang),
                    "lines": lines,
                }
            )
            group["themes"].append(len(themes) - 1)
        lc = loaded.get(circle_id)
        if lc is not None and lc.circle.hub is not None:
            group["types"] = list(dict.fromkeys(lc.circle.hub.hub_types))
        else:
            requirements = circle.get("requirements") or []
            types = [t for r in requirements for t in r.get("facility_types") or []]
            group["types"] = list(dict.fromkeys(str(t) for t in types))
        circles.append(group)
    return themes, circles
