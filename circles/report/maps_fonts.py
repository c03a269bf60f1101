"""Fonts and label text of the coverage maps: a CJK font found at run time, labels that fit."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from circles.report.text import say

#: Families of fonts that draw Simplified Chinese, most preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Heiti SC",
    "STHeiti",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "SimSun",
    "AR PL UMing CN",
    "Arial Unicode MS",
)
# font files worth registering when matplotlib's font list predates their installation
_CJK_FILE = re.compile(
    r"notosans.*(cjk|sc)|notoserifcjk|sourcehan|wqy|wenquanyi|simhei|simsun|msyh|pingfang"
    r"|hiragino.*gb|stheiti|uming|ukai",
    re.IGNORECASE,
)
_PROBE = "社区覆盖率居民"
LATIN = "DejaVu Sans"  # bundled with matplotlib, so always there
NO_CJK_WARNING = "no CJK font found; maps use English labels; install e.g. fonts-noto-cjk"
LEGEND_WIDTH = 40  # legend label width, in Latin characters (a Chinese one counts two)


def find_cjk_font() -> str | None:
    """Family name of an installed font that draws Chinese, or None when there is none.

    Known families (Noto Sans CJK, Source Han Sans, Microsoft YaHei, WenQuanYi, SimHei, …) are
    tried first, then any font whose character map covers a few common Chinese characters.
    Font files installed after matplotlib built its font list are registered on the way.
    """
    return _find_cjk_font()


@contextlib.contextmanager
def quiet_font_log() -> Iterator[None]:
    """Silence matplotlib's font-matching log while drawing.

    matplotlib logs every family it cannot match at a weight ("findfont: Failed to find font
    weight bold ..."; many CJK fonts have no bold and draw at the regular weight): the search
    and the bold titles ask on purpose, and the library must not print.
    """
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.cache
def _find_cjk_font() -> str | None:
    with quiet_font_log():
        return _search_cjk_font()


def _search_cjk_font() -> str | None:
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _cjk_among(manager.ttflist)
    if found is not None:
        return found
    known = {str(entry.fname) for entry in manager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path not in known and _CJK_FILE.search(Path(path).name):
            try:
                manager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return _cjk_among(manager.ttflist) if added else None


def _cjk_among(entries: list) -> str | None:
    """The preferred family among font-manager entries that draws Chinese."""
    names = sorted({entry.name for entry in entries})
    ranked = [f for f in CJK_FAMILIES if f in names] + [f for f in names if f not in CJK_FAMILIES]
    return next((f for f in ranked if _draws_chinese(f)), None)


def _draws_chinese(family: str) -> bool:
    charmap = _charmap(family)
    return all(ord(ch) in charmap for ch in _PROBE)


@functools.cache
def _charmap(family: str) -> frozenset[int]:
    """Code points of the font matplotlib uses for ``family`` (empty when it has none)."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        return frozenset(font_manager.get_font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def display_width(text: str) -> int:
    """Width of a text in Latin characters (a wide CJK character counts two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class MapLabels:
    """Label text in one language, checked against the fonts so that no glyph is missing."""

    def __init__(self, lang: str, families: list[str]):
        self.lang = lang
        self._charmap = frozenset().union(*(_charmap(f) for f in families))

    def ok(self, text: str) -> bool:
        """True when the fonts draw every visible character of ``text``."""
        return all(ord(ch) in self._charmap for ch in text if not ch.isspace())

    def pick(self, *candidates: str | None) -> str:
        """The first candidate the fonts draw; failing all, the last one with ``?`` for gaps."""
        options = [c for c in candidates if c]
        for text in options:
            if self.ok(text):
                return text
        last = options[-1] if options else ""
        return "".join(ch if self.ok(ch) else "?" for ch in last)

    def say(self, key: str, /, **values: object) -> str:
        """A fixed phrase in the chosen language (English when the fonts cannot draw it)."""
        return self.pick(say(self.lang, f"map_{key}", **values), say("en", f"map_{key}", **values))


def wrap_label(text: str, width: int = LEGEND_WIDTH) -> str:
    """Break a label into lines of at most ``width`` (Chinese characters count two)."""
    if display_width(text) <= width:
        return text
    lines, line = [], ""
    for token in re.findall(
        r"[\u2e80-\u9fff\uf900-\uffef]|[^\s\u2e80-\u9fff\uf900-\uffef]+\s*", text
    ):
        if line and display_width(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    return "\n".join([*lines, line.rstrip()])
