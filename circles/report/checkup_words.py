"""The 城市体检 (urban health check) indicators circles can compute, by facility type (data only).

Each indicator names the facility types a requirement must include to stand for it, its name
in the MOHURD 城市体检 basic indicator system (and, where that system has none, the 国土空间
规划城市体检评估 list), an English translation, and whether it is a coverage share or a count.
None of the names is verified against the published list of a given year: every indicator is
tagged ``recalled`` (names as recalled for 2023–2024, several seen in public 城市体检 tools);
check them against the year's indicator list before a report is filed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INDICATORS", "SHORTFALL_INDICATORS", "Indicator"]


@dataclass(frozen=True)
class Indicator:
    """One 城市体检 indicator and the facility types that stand for it.

    ``kind`` is ``"share"`` (a coverage share, %) or ``"count"`` (a number of places that
    fail, 个); ``shortfall`` marks an indicator read from a capacity requirement's seat
    shortfall (``shortfall_units`` of the coverage table).
    """

    key: str
    facility_types: frozenset[str]
    zh: str
    en: str
    kind: str
    tag: str = "recalled"
    shortfall: bool = False


def _types(*names: str) -> frozenset[str]:
    return frozenset(names)


#: Coverage indicators, in the order of the sheet: a requirement stands for an indicator when
#: its facility types include one of the indicator's.
INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "childcare",
        _types("nursery"),
        "未达标配建的婴幼儿照护服务设施数量",
        "infant-care facilities not provided to standard",
        "count",
    ),
    Indicator(
        "kindergarten",
        _types("kindergarten"),
        "未达标配建的幼儿园数量",
        "kindergartens not provided to standard",
        "count",
    ),
    Indicator(
        "primary_school",
        _types("primary_school"),
        "小学服务半径覆盖率",
        "primary-school service-radius coverage",
        "share",
    ),
    Indicator(
        "middle_school",
        _types("middle_school"),
        "中学服务半径覆盖率",
        "middle-school service-radius coverage",
        "share",
    ),
    Indicator(
        "elderly",
        _types("elderly_daycare"),
        "未达标配建的养老服务设施数量",
        "elderly-care facilities not provided to standard",
        "count",
    ),
    Indicator(
        "health_centre",
        _types("health_centre", "health_station"),
        "社区卫生服务中心覆盖率",
        "community health centre coverage",
        "share",
    ),
    Indicator(
        "park",
        _types("pocket_park", "community_park", "park"),
        "公园绿化活动场地服务半径覆盖率",
        "park and green activity space service-radius coverage",
        "share",
    ),
    Indicator(
        "fresh_market",
        _types("fresh_market"),
        "菜市场（生鲜超市）覆盖率",
        "fresh market (supermarket) coverage",
        "share",
    ),
    Indicator(
        "culture_centre",
        _types("cultural_centre", "cultural_station"),
        "未达标配建的文化活动中心数量",
        "cultural activity centres not provided to standard",
        "count",
    ),
    Indicator(
        "sports_ground",
        _types("sports_ground_s", "sports_ground_m", "sports_ground_l", "sports_centre"),
        "未达标配建的多功能运动场地数量",
        "multi-purpose sports grounds not provided to standard",
        "count",
    ),
)

#: Seat-shortfall indicators: a requirement with a ``capacity`` block (coverage rows with
#: ``shortfall_units``) whose facility types include one of these stands for them.
SHORTFALL_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "primary_school_seats",
        _types("primary_school"),
        "小学学位缺口数",
        "primary-school seat shortfall",
        "count",
        shortfall=True,
    ),
)
