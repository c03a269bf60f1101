"""Chinese renderings of the bundled rules' source references (data only).

A ``ref`` in a rule file is written once, mostly in English with the Chinese titles of the
documents it cites. The Chinese workbook shows the rendering below for each bundled ``ref``;
any other ``ref`` with English words (a user's own rule file) is shown as written, marked
(``ref_untranslated`` of the text table). Keys must match the rule files exactly: a test
checks that every bundled ``ref`` with English words has a rendering here.
"""

from __future__ import annotations

_WUHAN = "武汉市“七个服务圈” (2020)"
_PRESS = "2020年12月“浴火重生英雄城 感恩奋进新征程”系列新闻发布会公布；发布会原文未检索到"
_WALK = "circles 默认值：60 米/分钟（3.6 公里/小时），国内15分钟生活圈研究常用的规划步行速度"
_GB = "GB 50180-2018 城市居住区规划设计标准"

#: English ref of a bundled rule -> its Chinese rendering.
REFS_ZH: dict[str, str] = {
    "CJJ 37 城市道路工程设计规范 design-speed ranges (快速路 60-100, 主干路 40-60, 次干路 30-50, "
    "支路 20-40 km/h); values within them chosen by circles": (
        "CJJ 37 城市道路工程设计规范 设计速度范围（快速路 60-100、主干路 40-60、次干路 30-50、"
        "支路 20-40 公里/小时）；具体取值由 circles 在范围内选定"
    ),
    "both core cities of the 长江中游城市群 besides Wuhan (长沙, 南昌; the core list is recalled, "
    "not retrieved)": (
        "长江中游城市群除武汉外的两个核心城市（长沙、南昌；核心城市名单凭记忆，未检索到原文）"
    ),
    "circles default, after Wuhan's 城市公园绿地5分钟服务圈 programme (park service radius to "
    "cover >= 90 % of residential land; 长江日报 2021-06, "
    "https://news.cjn.cn/sywh/202106/t3836703.htm)": (
        "circles 默认值，参照武汉城市公园绿地5分钟服务圈建设（公园服务半径覆盖 ≥ 90% 的居住用地；"
        "长江日报 2021-06，https://news.cjn.cn/sywh/202106/t3836703.htm）"
    ),
    "circles default: 60 m/min (3.6 km/h), the planning walking speed used in Chinese "
    "15-minute life-circle studies": _WALK,
    "circles default: 60 m/min (3.6 km/h), the planning walking speed used in Chinese "
    "15-minute life-circle studies; GB 50180-2018 城市居住区规划设计标准 Table 3.0.4 radii "
    "imply 50-67 m/min": f"{_WALK}；{_GB} 表 3.0.4 的服务半径折合 50-67 米/分钟",
    "circles default: 60 m/min planning walking speed; used only for the minutes columns, the "
    "thresholds are metres": "circles 默认值：规划步行速度 60 米/分钟，仅用于分钟列，阈值以米计",
    "circles default: a 15-minute walk to the station, matching the 15-minute life circle": (
        "circles 默认值：步行 15 分钟到站，与15分钟生活圈一致"
    ),
    "circles default: estimate from typical high-speed rail schedules; replace with a "
    "timetable": "circles 默认值：按常见高铁班次估算；请以时刻表替换",
    "circles default: estimate from typical intercity and high-speed rail schedules; replace "
    "with a timetable": "circles 默认值：按常见城际和高铁班次估算；请以时刻表替换",
    "circles default: every city of the circle (our reading of the text)": (
        "circles 默认值：城市圈内每个城市（本项目对原文的理解）"
    ),
    "circles default: half of the listed cities; no city list or share found in any source": (
        "circles 默认值：所列城市的一半；未找到任何城市名单或比例的出处"
    ),
    "circles default: longest access to a railway station considered": (
        "circles 默认值：考虑的最长到火车站时间"
    ),
    "circles default: longest drive to a station or the airport considered": (
        "circles 默认值：考虑的最长驾车到车站或机场时间"
    ),
    "circles default: no Wuhan coverage target found": "circles 默认值：未找到武汉的覆盖率目标",
    "circles default: placeholder estimate; replace with a timetable or GTFS matrix": (
        "circles 默认值：占位估算值；请以时刻表或 GTFS 矩阵替换"
    ),
    "circles default: residents outside both zones get the new-urban 12 minutes": (
        "circles 默认值：不在两类分区内的居民按新城区 12 分钟"
    ),
    "circles default: scheduled flight time estimate plus a 60-minute check-in and boarding "
    "buffer; replace with a timetable": (
        "circles 默认值：航班飞行时间估算加 60 分钟值机和登机时间；请以时刻表替换"
    ),
    "circles default: station entry, security and waiting allowance": (
        "circles 默认值：进站、安检和候车时间"
    ),
    "circles default: station or terminal entry allowance on top of the table times": (
        "circles 默认值：在表中时间之外另加的进站或航站楼时间"
    ),
    "circles default: the level's 1000 m; GB 50180-2018 城市居住区规划设计标准 附录B "
    "(配套设施设置规定) lists it ▲ at 十五分钟生活圈居住区 with no radius": (
        f"circles 默认值：本层级的 1000 米；{_GB} 附录B（配套设施设置规定）"
        "将其列为十五分钟生活圈居住区 ▲ 项，未给服务半径"
    ),
    "circles default: the standard sets provision, not a coverage share": (
        "circles 默认值：标准规定配置要求，未规定覆盖比例"
    ),
    "circles default: wait = headway / 2 with 8-minute off-peak headways": (
        "circles 默认值：候车 = 发车间隔 / 2，平峰发车间隔 8 分钟"
    ),
    "national 15分钟医疗卫生服务圈 target: 80 % of residents within 15 min of the nearest "
    "medical point, as used in ISPRS Int. J. Geo-Inf. 2022, 11(8):436": (
        "全国15分钟医疗卫生服务圈目标：80% 的居民 15 分钟内到达最近的医疗点"
        "（引自 ISPRS Int. J. Geo-Inf. 2022, 11(8):436）"
    ),
    "peak congestion cut ambulance speed by 22.8 % in Dalian (经济地理 EMS accessibility "
    "study, https://www.jjdl.com.cn/EN/abstract/article/1000-8462/72066): 1 - 0.228 = 0.77": (
        "大连高峰拥堵使救护车车速下降 22.8%（经济地理，急救可达性研究，"
        "https://www.jjdl.com.cn/EN/abstract/article/1000-8462/72066）：1 - 0.228 = 0.77"
    ),
    f"{_WUHAN}: 10分钟活动圈, 构建微型公共空间（场所）网络; announced in the Dec-2020 "
    "press-conference series 浴火重生英雄城 感恩奋进新征程; session text not retrieved": (
        f"{_WUHAN}：10分钟活动圈，构建微型公共空间（场所）网络；{_PRESS}"
    ),
    f"{_WUHAN}: 15分钟生活圈, 完善教育、养老、菜场等基本公共服务设施; announced in the "
    "Dec-2020 press-conference series 浴火重生英雄城 感恩奋进新征程; session text not retrieved": (
        f"{_WUHAN}：15分钟生活圈，完善教育、养老、菜场等基本公共服务设施；{_PRESS}"
    ),
    "武汉市文化和旅游局, 2020-12-22 press session (人民网 2020-12-24 武汉将打造12分钟文体圈, "
    "https://hb.cri.cn/2020-12-24/524ae446-5230-ec18-ac04-38d8efca483d.html): "
    "'在12分钟步行路径内'": (
        "武汉市文化和旅游局 2020-12-22 新闻发布会（人民网 2020-12-24《武汉将打造12分钟文体圈》，"
        "https://hb.cri.cn/2020-12-24/524ae446-5230-ec18-ac04-38d8efca483d.html）："
        "“在12分钟步行路径内”"
    ),
    # sources of the run, not of a rule file
    "--walk-speed given on the command line": "命令行给定的 --walk-speed",
    "第七次全国人口普查公报 (2020): 平均每个家庭户的人口为2.62人 (national average)": (
        "第七次全国人口普查公报（2020）：平均每个家庭户的人口为2.62人（全国平均）"
    ),
}
