"""A circle's model line in the report's language, from the summary's ``model_parts``.

The summary's ``model`` is the English line (:func:`circles.evaluate.summary.model_text`);
``model_parts`` holds the same facts as plain values, which this module words through the
en/zh text table. Summaries without ``model_parts`` keep their ``model`` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from circles.report.text import say

__all__ = ["model_line"]


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _name(item: Mapping[str, Any], lang: str) -> str:
    names = item.get("name") or {}
    other = "en" if lang == "zh" else "zh"
    return str(names.get(lang) or names.get(other) or item.get("zone"))


def model_line(circle: Mapping[str, Any], lang: str) -> str | None:
    """The circle's model line in ``lang`` (the summary's ``model`` without ``model_parts``).

    Parameters
    ----------
    circle : mapping
        A circle of the summary.
    lang : str
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str or None
        The line; None when the circle has neither parts nor a model text.
    """
    parts = circle.get("model_parts")
    if not isinstance(parts, Mapping) or parts.get("kind") not in ("walk", "drive", "hub"):
        return circle.get("model")
    kind = parts["kind"]
    if kind == "walk":
        return say(lang, "model_walk", speed=_num(parts.get("speed_m_per_min")))
    if kind == "drive":
        groups = []
        for group in parts.get("zones") or []:
            zones = " / ".join(
                say(lang, "model_zone_minutes", minutes=_num(z.get("minutes")), zone=_name(z, lang))
                for z in group.get("zones") or []
            )
            groups.append((zones, _num(group.get("elsewhere_min"))))
        zones_text = "".join(
            say(lang, "model_zones", zones=zones, elsewhere=elsewhere)
            for zones, elsewhere in groups
        )
        direction = "to_facility" if parts.get("direction") == "to_facility" else "from_facility"
        return say(
            lang,
            f"model_drive_{direction}",
            types=say(lang, "model_types_join").join(parts.get("facility_types") or []),
            maxspeed=say(lang, "model_maxspeed") if parts.get("use_maxspeed") else "",
            factor=_num(parts.get("congestion_factor")),
            zones=zones_text,
        )
    access = (
        say(lang, "model_access_walk", speed=_num(parts.get("speed_m_per_min")))
        if parts.get("access") == "walk"
        else say(lang, "model_access_drive")
    )
    tags = [say(lang, f"tag_{tag}") for tag in parts.get("tags") or []]
    return say(
        lang,
        "model_hub",
        access=access,
        access_max=_num(parts.get("access_max_min")),
        hubs=say(lang, "model_hub_or").join(parts.get("hub_types") or []),
        transfer=_num(parts.get("transfer_min")),
        table=parts.get("table"),
        rows=parts.get("table_rows"),
        tags=say(lang, "list_join").join(tags),
    )
