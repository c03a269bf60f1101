"""Classification of Amap/Baidu/OSM POI rows: precedence, newer labels, exports, rule kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from circles.catalogue.classify import MATCH_KINDS, classify, looks_like_poi_table
from circles.catalogue.load import load_catalogue
from circles.catalogue.poi import classify_file
from circles.cli import app

# "The right family" of a row: the facility types a planner accepts for the row's category,
# e.g. a 医疗保健/综合医院 row must become a hospital, a 社区卫生服务中心 or 卫生服务站 row one of
# the two community health types (the name decides which), any park label a park type. A row
# whose category holds no facility the catalogue knows (餐饮美食, 公司企业, 商务住宅, 药店,
# 培训机构...) must stay unmapped, even when its name holds a facility word (公园餐厅).
HOSPITAL = {"hospital"}
COMMUNITY_HEALTH = {"health_centre", "health_station"}
EMS = {"ems_station", "ems_centre"}
PARK = {"park", "pocket_park", "community_park", "sports_park"}
SPORT = {
    "stadium",
    "gymnasium",
    "swimming_pool",
    "fitness_centre",
    "sports_centre",
    "sports_ground_l",
    "sports_ground_m",
    "sports_ground_s",
}
NONE: set[str] = {""}

# 大类, 中类, 小类 ("" when the export has none), typecode ("" when none), name, family
NEWER_LABELS: list[tuple[str, str, str, str, str, set[str]]] = [
    ("医疗保健", "综合医院", "", "", "{d}人民医院", HOSPITAL),
    ("医疗保健", "综合医院", "", "", "武汉市第{n}医院", HOSPITAL),
    ("医疗保健", "综合医院", "三级甲等医院", "", "{d}协和医院", HOSPITAL),
    ("医疗保健", "专科医院", "", "", "{d}妇幼保健院", HOSPITAL),
    ("医疗保健", "专科医院", "", "", "爱尔眼科{d}店", HOSPITAL),
    ("医疗保健", "诊所", "", "", "{d}仁心诊所", {"clinic"}),
    ("医疗保健", "诊所", "", "", "{d}口腔门诊部", {"clinic"}),
    ("医疗保健", "社区卫生服务中心", "", "", "{d}街社区卫生服务中心", COMMUNITY_HEALTH),
    ("医疗保健", "社区卫生服务站", "", "", "{d}社区卫生服务站", COMMUNITY_HEALTH),
    ("医疗保健", "卫生院", "", "", "{d}镇卫生院", COMMUNITY_HEALTH),
    ("医疗保健", "急救中心", "", "", "武汉市急救中心{d}分站", EMS),
    ("医疗保健", "药店", "", "", "{d}大药房", NONE),
    ("科教文化", "学校", "幼儿园", "", "{d}第{n}幼儿园", {"kindergarten"}),
    ("科教文化", "学校", "小学", "", "{d}实验小学", {"primary_school"}),
    ("科教文化", "学校", "中学", "", "{d}第{n}初级中学", {"middle_school"}),
    ("科教文化", "博物馆", "", "", "{d}博物馆", {"museum"}),
    ("科教文化", "图书馆", "", "", "{d}图书馆", {"library"}),
    ("科教文化", "美术馆", "", "", "{d}美术馆", {"art_gallery"}),
    ("科教文化", "科技馆", "", "", "{d}科技馆", {"science_museum"}),
    ("科教文化", "文化馆", "", "", "{d}区文化馆", {"cultural_centre"}),
    ("科教文化", "培训机构", "", "", "{d}英语培训学校", NONE),
    ("购物消费", "百货商场", "", "", "{d}中百百货", {"mall"}),
    ("购物消费", "购物中心", "", "", "{d}万达广场", {"mall"}),
    ("购物消费", "超市", "", "", "{d}中百仓储", {"convenience_retail"}),
    ("购物消费", "便利店", "", "", "罗森({d}店)", {"convenience_retail"}),
    ("购物消费", "菜市场", "", "", "{d}菜场", {"fresh_market"}),
    ("购物消费", "农贸市场", "", "", "{d}农贸市场", {"fresh_market"}),
    ("购物消费", "服装鞋帽", "", "", "{d}服饰", NONE),
    ("生活服务", "邮局", "", "", "中国邮政{d}支局", {"post_office"}),
    ("生活服务", "美容美发", "", "", "{d}造型", NONE),
    ("金融机构", "银行", "", "", "中国银行{d}支行", {"bank"}),
    ("运动健身", "体育场馆", "", "", "{d}体育中心", SPORT),
    ("运动健身", "游泳馆", "", "", "{d}游泳馆", {"swimming_pool"}),
    ("运动健身", "健身中心", "", "", "{d}健身工作室", NONE),
    ("休闲娱乐", "电影院", "", "", "{d}万达影城", {"cinema"}),
    ("休闲娱乐", "剧场", "", "", "{d}大剧院", {"theatre"}),
    ("休闲娱乐", "KTV", "", "", "{d}量贩KTV", NONE),
    ("旅游景点", "公园", "", "", "{d}公园", PARK),
    ("旅游景点", "城市广场", "", "", "{d}文化广场", {"plaza"}),
    ("交通设施", "地铁站", "", "", "{d}(地铁站)", {"metro_station"}),
    ("交通设施", "公交站", "", "", "{d}公交站", {"bus_stop"}),
    ("交通设施", "火车站", "", "", "{d}火车站", {"rail_station"}),
    ("交通设施", "停车场", "", "", "{d}公园停车场", NONE),
    ("商务住宅", "住宅小区", "", "", "{d}花园", NONE),
    ("商务住宅", "楼宇", "", "", "{d}广场写字楼", NONE),
    ("公司企业", "公司", "", "", "武汉{d}幼儿园管理有限公司", NONE),
    ("政府机构", "派出所", "", "", "{d}派出所", {"police_station"}),
    ("政府机构", "街道办事处", "", "", "{d}街道办事处", {"subdistrict_office"}),
    ("政府机构", "社区居委会", "", "", "{d}社区居委会", {"community_service_station"}),
    ("餐饮美食", "中餐厅", "", "", "{d}公园餐厅", NONE),
    # the older tree, with 小类 and typecode, as Amap's web service still returns it
    ("医疗保健服务", "综合医院", "卫生院", "090102", "{d}社区卫生服务站", COMMUNITY_HEALTH),
    ("医疗保健服务", "综合医院", "综合医院", "090100", "{d}中心医院", HOSPITAL),
    ("科教文化服务", "学校", "小学", "141203", "{d}小学", {"primary_school"}),
    ("购物服务", "综合市场", "农副产品市场", "060703", "{d}菜市场", {"fresh_market"}),
    ("风景名胜", "公园广场", "公园", "110101", "{d}江滩公园", PARK),
    # no category at all: the name decides
    ("", "", "", "", "{d}社区卫生服务中心", COMMUNITY_HEALTH),
    ("", "", "", "", "{d}幼儿园", {"kindergarten"}),
    ("", "", "", "", "{d}老年人日间照料中心", {"elderly_daycare"}),
]
DISTRICTS = ("江岸", "江汉", "硚口", "汉阳", "武昌", "青山", "洪山")


def _amap_newer_rows() -> pd.DataFrame:
    """A few hundred rows in Amap's newer labels: each pattern once per district."""
    rows = []
    for i, (big, mid, small, code, name, family) in enumerate(NEWER_LABELS):
        for j, district in enumerate(DISTRICTS):
            rows.append(
                {
                    "名称": name.format(d=district, n=j + 1),
                    "大类": big,
                    "中类": mid,
                    "小类": small,
                    "typecode": code,
                    "地址": f"{district}区某路{i * 7 + j + 1}号",
                    "经度": f"{114.2 + 0.01 * j:.6f}",
                    "纬度": f"{30.5 + 0.001 * i:.6f}",
                    "family": "|".join(sorted(family)),
                }
            )
    return pd.DataFrame(rows)


def _right_family_share(frame: pd.DataFrame, result: pd.DataFrame) -> tuple[float, list]:
    wrong = [
        (name, got, family)
        for name, got, family in zip(
            frame["名称"], result["facility_type"], frame["family"], strict=True
        )
        if got not in family.split("|")
    ]
    return 1 - len(wrong) / len(frame), wrong


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_amap_newer_labels_map_to_the_right_family(tmp_path: Path, encoding: str) -> None:
    table = _amap_newer_rows()
    assert len(table) > 300
    path = tmp_path / f"amap_{encoding}.csv"
    table.to_csv(path, index=False, encoding=encoding)
    frame, result = classify_file(path)
    share, wrong = _right_family_share(frame, result)
    assert share >= 0.95, wrong[:10]
    assert set(result["matched_by"]) <= {*MATCH_KINDS, ""}
    hospital = result[(frame["大类"] == "医疗保健") & (frame["中类"] == "综合医院")]
    assert (hospital["facility_type"] == "hospital").all()
    health = result[frame["中类"] == "社区卫生服务中心"]
    assert (health["facility_type"] == "health_centre").all()
    assert set(health["matched_by"]) == {"label"}


def test_amap_export_without_small_category_or_typecode() -> None:
    frame = _amap_newer_rows().drop(columns=["小类", "typecode"])
    result = classify(frame, load_catalogue())
    share, wrong = _right_family_share(frame, result)
    assert share >= 0.95, wrong[:10]


def test_precedence_typecode_type_string_label_keyword() -> None:
    catalogue = load_catalogue()
    frame = pd.DataFrame(
        {
            "名称": ["甲幼儿园", "乙幼儿园", "丙小学", "丁小学", "戊幼儿园", "某幼儿园早教"],
            "大类": ["科教文化服务", "科教文化服务", "科教文化", "", "", "科教文化服务"],
            "中类": ["学校", "学校", "学校", "", "", "学校"],
            "小类": ["小学", "小学", "幼儿园", "", "", "幼儿园"],
            "typecode": ["141204", "", "", "", "", "141204"],
        }
    )
    result = classify(frame, catalogue)
    assert result["facility_type"].tolist() == [
        "kindergarten",  # the typecode wins over the type string's 小学
        "primary_school",  # the type string wins over the name
        "kindergarten",  # the deepest label wins over the name
        "primary_school",  # the name, when nothing else matched
        "kindergarten",
        "",  # 早教 vetoes the kindergarten whatever matched
    ]
    assert result["matched_by"].tolist() == [
        "typecode",
        "type_string",
        "label",
        "name_keyword",
        "name_keyword",
        "",
    ]
    assert result["rule"].tolist()[:4] == ["141204", "科教文化服务;学校;小学", "幼儿园", "小学"]


def test_shared_category_is_settled_by_the_name() -> None:
    frame = pd.DataFrame(
        {
            "name": [
                "东城社区卫生服务站",
                "城厢街道社区卫生服务中心",
                "某某村卫生所",
                "某某社区卫生服务中心",
                "爱尔眼科",
                "某某急救分站",
                "某某120",
            ],
            "type": [
                *["医疗保健服务;综合医院;卫生院"] * 3,
                "医疗保健;综合医院",
                "医疗保健;综合医院",
                "医疗保健服务;急救中心;急救中心",
                "医疗保健服务;急救中心;急救中心",
            ],
        }
    )
    result = classify(frame, load_catalogue())
    assert result["facility_type"].tolist() == [
        "health_station",
        "health_centre",
        "health_station",  # the name says neither: the type listed first
        "health_centre",  # a community health centre under 综合医院: its name decides
        "hospital",  # 综合医院 and no name keyword: hospital lists the label first
        "ems_station",
        "ems_station",
    ]


def test_non_facility_categories_veto_a_name_match() -> None:
    frame = pd.DataFrame(
        {
            "名称": ["武汉某某幼儿园管理有限公司", "某某幼儿园", "公园里餐厅"],
            "大类": ["公司企业", "培训机构", "餐饮美食"],
            "中类": ["公司", "", "中餐厅"],
        }
    )
    result = classify(frame, load_catalogue())
    assert result["facility_type"].tolist() == ["", "kindergarten", ""]


def test_baidu_export_with_tag_and_type() -> None:
    """Baidu's place search: ``tag`` holds 一级;二级, ``type`` an English industry word."""
    frame = pd.DataFrame(
        {
            "name": ["武汉市中心医院", "某某诊所", "某某小学", "某某幼儿园", "某某快捷酒店"],
            "tag": ["医疗;综合医院", "医疗;诊所", "教育培训;小学", "教育培训;幼儿园", "酒店;快捷"],
            "type": ["hospital", "hospital", "education", "education", "hotel"],
            "uid": ["a1", "a2", "a3", "a4", "a5"],
            "lng": [114.3] * 5,
            "lat": [30.6] * 5,
        }
    )
    catalogue = load_catalogue()
    assert looks_like_poi_table(frame, catalogue)
    result = classify(frame, catalogue)
    assert result["facility_type"].tolist() == [
        "hospital",
        "clinic",
        "primary_school",
        "kindergarten",
        "",
    ]
    assert set(result["matched_by"]) == {"type_string", ""}


def test_an_export_with_unknown_labels_is_still_an_export() -> None:
    catalogue = load_catalogue()
    two_levels = pd.DataFrame({"名称": ["甲"], "大类": ["未知大类"], "中类": ["未知中类"]})
    address_only = pd.DataFrame({"名称": ["甲"], "地址": ["某路1号"], "经度": [114.0]})
    ids = pd.DataFrame({"name": ["甲"], "type": ["kindergarten"]})
    assert looks_like_poi_table(two_levels, catalogue)
    assert looks_like_poi_table(address_only, catalogue)
    assert not looks_like_poi_table(ids, catalogue)


def test_osm_tags_as_columns_json_and_hstore() -> None:
    frame = pd.DataFrame(
        {
            "name": ["某某学校", "某某中学", "某某社区卫生服务中心", "Stadion", "某某学校", "x"],
            "amenity": ["school", "school", "hospital", None, None, None],
            "leisure": [None, None, None, "pitch", None, None],
            "tags": [
                json.dumps({"isced:level": "2"}),
                None,
                None,
                json.dumps({"sport": "soccer"}),
                None,
                None,
            ],
            "other_tags": [None, None, None, None, '"amenity"=>"kindergarten"', '"shop"=>"bakery"'],
        }
    )
    result = classify(frame, load_catalogue())
    assert result["facility_type"].tolist() == [
        "middle_school",  # isced:level=2 (the most tags)
        "middle_school",  # a plain amenity=school, and 中学 in its name
        "health_centre",  # amenity=hospital shared with the community type: the name decides
        "sports_ground_l",  # leisure=pitch & sport=soccer
        "kindergarten",  # read from GDAL's other_tags
        "",
    ]
    assert result["matched_by"].tolist()[:5] == ["osm_tag"] * 5
    assert result["category"].iloc[5] == "shop=bakery"  # unmapped tags are listed


def test_plain_school_is_primary_and_pitch_is_small() -> None:
    frame = pd.DataFrame(
        {
            "name": ["Koulu", "Kenttä", "St. Mary's Secondary School", "某某高尔夫球场"],
            "amenity": ["school", None, "school", None],
            "leisure": [None, "pitch", None, None],
        }
    )
    result = classify(frame, load_catalogue())
    assert result["facility_type"].tolist() == [
        "primary_school",
        "sports_ground_s",
        "middle_school",  # English keywords match in any case
        "",  # 高尔夫 vetoes a small ball court
    ]


def test_every_preset_requirement_is_reachable() -> None:
    """Some type each bundled requirement accepts is what a catalogue rule maps a row to."""
    from circles.rules.load import load_rules

    catalogue = load_catalogue()
    reached: set[str] = set()
    for entry in catalogue.types.values():
        rows = [{"名称": f"某某{k}", "大类": "", "中类": ""} for k in entry.keywords]
        labels = entry.amap.labels if entry.amap else []
        rows += [{"名称": "某某", "大类": "某", "中类": label} for label in labels]
        frame = pd.DataFrame(rows, columns=["名称", "大类", "中类"], dtype=object)
        reached |= set(classify(frame, catalogue)["facility_type"])
    unreachable = []
    for loaded in load_rules([Path(__file__).resolve().parents[2] / "rules"]):
        for requirement in loaded.circle.requirements:
            types = requirement.facility_type
            accepted = {types} if isinstance(types, str) else set(types or [])
            if accepted and not accepted & reached:
                unreachable.append((loaded.circle.id, requirement.id))
    assert not unreachable


def test_classify_command_shows_the_rule_kinds(tmp_path: Path) -> None:
    path = tmp_path / "amap.csv"
    _amap_newer_rows().to_csv(path, index=False, encoding="gbk")
    out = tmp_path / "classified.csv"
    result = CliRunner().invoke(
        app, ["facilities", "classify", str(path), "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    for words in ("newer label", "typecode", "name keyword", "社区卫生服务中心", "餐饮美食"):
        assert words in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Chinese Excel
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert {"facility_type", "matched_by", "rule"} <= set(table.columns)


@pytest.mark.parametrize(
    ("snippet", "where"),
    [
        ("amap: {lables: [综合医院]}", "lables"),
        ("osm: [amenity school]", "osm.0"),
    ],
)
def test_catalogue_schema_rejects_typos(tmp_path: Path, snippet: str, where: str) -> None:
    from circles.catalogue.load import load_catalogue as load
    from circles.errors import RuleError

    path = tmp_path / "facilities.yaml"
    path.write_text(
        f"facility_types:\n  hospital:\n    zh: 医院\n    en: hospital\n    {snippet}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=where):
        load(path)
