"""部件先属主后属地, 事件先属地后属主; then the most specific place, the most specific category,
the priority; ties between units and gaps in the list go to the district centre for 会商."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chengguan.dispatch.models import Basis
from chengguan.dispatch.resolver import resolve_owner
from tests.dispatch.conftest import Categories, chain
from tests.factories import SampleCity

OWNER, TERRITORY = Basis.OWNER, Basis.TERRITORY


def test_component_owner_rule_beats_a_closer_territorial_rule(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    owner = rule(101, cats.component, OWNER, "A_water")  # city-wide
    rule(102, cats.component, TERRITORY, "A1_squad", "A1c1")  # closer, but 属地
    res = resolve_owner(platform_session, cats.component, chain(platform_session, city, "A1c1"))
    assert (res.unit and res.unit.id, res.rule_id, res.row_no, res.basis) == (city.org["A_water"], owner, 101, OWNER)
    assert not res.needs_consultation
    assert res.reason == "A1一社区; 清单第101行; 部件先属主"


def test_component_falls_back_to_territory_without_an_owner_rule(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(103, cats.component, TERRITORY, "A1_squad", "A1")
    res = resolve_owner(platform_session, cats.component, chain(platform_session, city, "A1c2"))
    assert res.unit is not None and res.unit.id == city.org["A1_squad"] and res.basis == TERRITORY
    assert res.reason.endswith("清单第103行; 部件先属主后属地(无属主规则)")


def test_event_territorial_rule_beats_owner_rule(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(201, cats.event, OWNER, "A_water", "A1c1")  # closer, but 属主
    rule(202, cats.event, TERRITORY, "A1_squad")  # city-wide
    res = resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1"))
    assert res.unit is not None and res.unit.id == city.org["A1_squad"] and res.row_no == 202
    assert res.reason.endswith("事件先属地")


def test_the_most_specific_place_wins(platform_session: Session, city: SampleCity, cats: Categories, rule) -> None:
    rule(301, cats.event, TERRITORY, "A_centre", "A")
    rule(302, cats.event, TERRITORY, "A1_squad", "A1")
    inside = resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1"))
    assert inside.row_no == 302
    elsewhere = resolve_owner(platform_session, cats.event, chain(platform_session, city, "A2c1"))
    assert elsewhere.row_no == 301  # 西街道 has no rule of its own: the district's applies


def test_a_minor_rule_beats_a_major_rule_which_covers_the_other_minors(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(401, cats.component_major, OWNER, "A_water", "A")
    rule(402, cats.component, OWNER, "A1_squad", "A")
    a1c1 = chain(platform_session, city, "A1c1")
    assert resolve_owner(platform_session, cats.component, a1c1).row_no == 402
    assert resolve_owner(platform_session, cats.component_sibling, a1c1).row_no == 401
    assert resolve_owner(platform_session, cats.component_major, a1c1).row_no == 401


def test_priority_decides_between_otherwise_equal_rules(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(501, cats.event, TERRITORY, "A_water", "A1")
    rule(502, cats.event, TERRITORY, "A1_squad", "A1", priority=5)
    assert resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1")).row_no == 502


def test_two_units_tied_at_the_top_go_to_consultation(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(601, cats.event, TERRITORY, "A_water", "A1")
    rule(602, cats.event, TERRITORY, "A1_squad", "A1")
    rule(603, cats.event, TERRITORY, "A1_squad", "A1")  # the same unit twice is no extra candidate
    res = resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1"))
    assert res.needs_consultation and res.rule_id is None and res.basis is None
    assert {c.id for c in res.candidates} == {city.org["A_water"], city.org["A1_squad"]}
    assert res.unit is not None and res.unit.id == city.org["A_centre"]
    assert "清单第601、602、603行并列" in res.reason and res.reason.endswith("提交甲区城市管理指挥中心会商")


def test_one_unit_named_twice_is_no_tie(platform_session: Session, city: SampleCity, cats: Categories, rule) -> None:
    rule(702, cats.event, TERRITORY, "A1_squad", "A1")
    rule(701, cats.event, TERRITORY, "A1_squad", "A1")
    res = resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1"))
    assert not res.needs_consultation and res.row_no == 701


def test_no_rule_goes_to_the_district_centre(platform_session: Session, city: SampleCity, cats: Categories) -> None:
    res = resolve_owner(platform_session, cats.component, chain(platform_session, city, "A2c2"))
    assert res.needs_consultation and res.candidates == []
    assert res.unit is not None and res.unit.id == city.org["A_centre"]
    assert "清单无适用于" in res.reason
    no_centre = resolve_owner(platform_session, cats.component, chain(platform_session, city, "B1c1"))
    assert no_centre.needs_consultation and no_centre.unit is None  # 乙区 and the city have no centre
    assert no_centre.reason.endswith("未设指挥中心, 请人工派遣")


def test_inactive_rules_and_units_are_skipped(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(801, cats.event, TERRITORY, "A_water", "A")
    rule(802, cats.event, TERRITORY, "A1_squad", "A1", active=False)
    assert resolve_owner(platform_session, cats.event, chain(platform_session, city, "A1c1")).row_no == 801


def test_a_cell_rule_is_the_most_specific(
    platform_session: Session, city: SampleCity, cats: Categories, rule, temp_cell: str
) -> None:
    rule(901, cats.event, TERRITORY, "A_water", "B1c2")
    rule(902, cats.event, TERRITORY, "A1_squad", cell_code=temp_cell)
    b1c2 = chain(platform_session, city, "B1c2")
    res = resolve_owner(platform_session, cats.event, b1c2, temp_cell, area_class="C")
    assert res.row_no == 902 and res.reason == f"网格 {temp_cell} C类; 清单第902行; 事件先属地"
    assert resolve_owner(platform_session, cats.event, b1c2).row_no == 901  # the cell unknown: the community
