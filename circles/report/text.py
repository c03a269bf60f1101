"""The one en/zh text table of the report outputs, and how writers look words up in it.

Every fixed word the workbook, the coverage maps and the comparison workbook show lives in
:mod:`circles.report.text_en` and :mod:`circles.report.text_zh` (the same keys in both).
Circle, requirement, zone and destination names are not here: they come from the summary
(``name.en`` / ``name.zh``). Ids (circle, requirement, facility type, zone, community) are data
and are shown as they are.
"""

from __future__ import annotations

from circles.report.text_en import EN
from circles.report.text_zh import ZH

__all__ = ["LANGUAGES", "TEXT", "THRESHOLD_KEYS", "say", "text_for"]

#: The languages a report can be written in.
LANGUAGES = ("en", "zh")

#: Every text of the report outputs, by language; both languages have the same keys.
TEXT: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}

#: The keys of the words a threshold text is made of (see ``values.threshold_parts``).
THRESHOLD_KEYS = (
    "minutes",
    "metres",
    "threshold_and",
    "zone_minutes",
    "zone_join",
    "zones_then_elsewhere",
    "elsewhere_minutes",
    "threshold_then_destinations",
    "destinations",
    "destinations_all",
    "destinations_share",
    "destinations_any",
    "destinations_count",
    "part_time",
    "part_zones",
    "part_elsewhere",
    "part_distance",
    "part_min_share",
)


def text_for(lang: str) -> dict[str, str]:
    """The texts of a language.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"``.

    Returns
    -------
    dict
        Text by key.

    Raises
    ------
    ValueError
        When ``lang`` is not one of :data:`LANGUAGES`.
    """
    try:
        return TEXT[lang]
    except KeyError:
        raise ValueError(f"workbook language {lang!r} is not known; use one of: en, zh") from None


def say(lang: str, key: str, /, **values: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``values`` (English for unknown languages).

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"``; anything else reads as English.
    key : str
        A key of the text table.
    **values
        Values of the text's ``{placeholders}``.

    Returns
    -------
    str
        The formatted text.
    """
    text = TEXT.get(lang, EN)[key]
    return text.format(**values) if values else text
