"""The demo city's responsibility list (权责清单), written through the list's own import.

- 部件 (owner first, 属主): each 小类 goes to the unit whose ``function`` is the category's owner
  function — a city-wide row for the enterprises and city bodies (燃气、电力、供水、排水、通信 …),
  a row per district for the district departments (水务、环卫、园林绿化 …). 无主井盖 has no
  owner: the district's 城市管理委员会 takes it as the territory (属地).
- 事件 (territory first, 属地): per street/town one row per 大类 → its 综合执法队, except 突发事件,
  whose 小类 go to the unit that owns the broken thing (a burst water main → 自来水集团).
- Exceptions: in the capital's 重点地区 the district enforcement bureau itself keeps street order
  (街面秩序), a street-level row in place of the squad's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.demo.geometry import CITY_CODE, Area, DemoGeometry
from chengguan.demo.units import CITY_UNITS, DISTRICT_UNITS, STREET_SQUAD, unit_code
from chengguan.dispatch import service as dispatch_service
from chengguan.dispatch.models import Basis
from chengguan.kit.tabular import Row
from chengguan.taxonomy.models import Category, CategoryKind, CategoryLevel
from chengguan.taxonomy.schemas import ImportResult

EMERGENCIES = "04"  # 事件 大类 突发事件
STREET_ORDER = "05"  # 事件 大类 街面秩序
# Owner function of each 突发事件 小类: who repairs what broke.
EMERGENCY_OWNERS = {
    "0401": "roads",  # 路面塌陷
    "0402": "water_supply",  # 自来水管破裂
    "0403": "gas",  # 燃气泄漏
    "0404": "drainage",  # 下水道堵塞
    "0405": "heating",  # 供热管道破裂
    "0406": "water",  # 道路积水
    "0407": "sanitation",  # 道路积雪结冰
    "0408": "power",  # 架空线缆坠落
    "0409": "greening",  # 树木倒伏
    "0410": "roads",  # 道路破损
}
# Three city enterprises share the telecom function; these 部件 are not 联通's.
TELECOM_UNITS = {"0108": "GH", "0122": "DX"}  # 电视井盖 → 歌华有线, 公用电话亭 → 中国电信
TELECOM_DEFAULT = "LT"
OWNERLESS_UNIT = "CGW"  # 无主部件 → the district's 城市管理委员会
ENFORCEMENT_BUREAU = "ZFJ"
# 重点地区: streets whose street order the district bureau keeps itself.
KEY_AREAS = {
    "110101001000": "王府井",  # 东华门街道
    "110101011000": "前门大街",  # 前门街道
    "110102012000": "什刹海",  # 什刹海街道
    "110102013000": "大栅栏",  # 大栅栏街道
    "110105004000": "三里屯",  # 三里屯街道
    "110105001000": "CBD",  # 建外街道
    "110108011000": "中关村",  # 中关村街道
}
CITY_FUNCTIONS = {u.function: u.suffix for u in CITY_UNITS if u.function != "telecom"}
CITY_OWNED = frozenset({*CITY_FUNCTIONS, "telecom"})
DISTRICT_FUNCTIONS = {u.function: u.suffix for u in DISTRICT_UNITS}


@dataclass(frozen=True)
class _Rule:
    area: str  # area code
    category: str  # category key
    basis: Basis
    unit: str  # unit code
    note: str = ""


def create_list(session: Session, geometry: DemoGeometry) -> ImportResult:
    """Write the whole list; row numbers count per area, in the order the rules are made."""
    minors = session.scalars(select(Category).where(Category.level == CategoryLevel.MINOR)).all()
    majors = session.scalars(
        select(Category).where(Category.level == CategoryLevel.MAJOR, Category.kind == CategoryKind.EVENT)
    ).all()
    return dispatch_service.import_rows(session, list(_rows(_rules(geometry, minors, majors))))


def _rules(geometry: DemoGeometry, minors: Sequence[Category], majors: Sequence[Category]) -> Iterator[_Rule]:
    components = [c for c in minors if c.kind == CategoryKind.COMPONENT]
    emergencies = [c for c in minors if c.kind == CategoryKind.EVENT and c.code[:2] == EMERGENCIES]
    owned = [(c, c.owner_function) for c in components if c.owner_function]
    owned += [(c, EMERGENCY_OWNERS[c.code]) for c in emergencies]
    ownerless = [c for c in components if not c.owner_function]
    yield from (_Rule(CITY_CODE, c.key, Basis.OWNER, _city_unit(c, f)) for c, f in owned if f in CITY_OWNED)
    for district in geometry.districts:
        yield from _district_rules(district, owned, ownerless)
    territorial = [m for m in majors if m.code != EMERGENCIES]
    for street in geometry.streets:
        yield from _street_rules(street, territorial)


def _city_unit(category: Category, function: str) -> str:
    if function == "telecom":
        return unit_code(CITY_CODE, TELECOM_UNITS.get(category.code, TELECOM_DEFAULT))
    return unit_code(CITY_CODE, CITY_FUNCTIONS[function])


def _district_rules(
    district: Area, owned: Iterable[tuple[Category, str]], ownerless: Iterable[Category]
) -> Iterator[_Rule]:
    for category, function in owned:
        if function in DISTRICT_FUNCTIONS:
            yield _Rule(
                district.code, category.key, Basis.OWNER, unit_code(district.code, DISTRICT_FUNCTIONS[function])
            )
    unit = unit_code(district.code, OWNERLESS_UNIT)
    for category in ownerless:
        yield _Rule(district.code, category.key, Basis.TERRITORY, unit, "无主部件由属地城市管理委员会处置")


def _street_rules(street: Area, majors: Iterable[Category]) -> Iterator[_Rule]:
    squad = unit_code(street.code, STREET_SQUAD.suffix)
    for major in majors:
        if major.code == STREET_ORDER and street.code in KEY_AREAS:
            bureau = unit_code(street.parent_code or "", ENFORCEMENT_BUREAU)
            note = f"重点地区（{KEY_AREAS[street.code]}）：街面秩序由区城管执法局直接处置"
            yield _Rule(street.code, major.key, Basis.TERRITORY, bureau, note)
        else:
            yield _Rule(street.code, major.key, Basis.TERRITORY, squad)


def _rows(rules: Iterable[_Rule]) -> Iterator[Row]:
    """The rules as rows of the list template (序号 counted per area)."""
    numbers: dict[str, int] = {}
    for line, rule in enumerate(rules, start=2):
        numbers[rule.area] = numbers.get(rule.area, 0) + 1
        yield Row(
            line,
            {
                "序号": str(numbers[rule.area]),
                "分类代码": rule.category,
                "区域": rule.area,
                "依据": rule.basis.value,
                "责任单位": rule.unit,
                "备注": rule.note,
                "启用": "是",
            },
        )
