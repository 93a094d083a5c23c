"""Each test gets its own 部件 and 事件 categories (大类 codes 30–79, which the seed never uses), so
the rules one test writes never meet another test's; a street administrator for 东街道 (A1); and,
on request, a grid cell that exists only for the test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.auth import service as auth_service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.db import unit_of_work
from chengguan.dispatch import service
from chengguan.dispatch.models import Basis, ResponsibilityRule
from chengguan.dispatch.schemas import RuleIn
from chengguan.geo import service as geo_service
from chengguan.geo.models import GridCell
from chengguan.geo.schemas import CellIn
from chengguan.orgs import service as orgs_service
from chengguan.taxonomy import service as taxonomy_service
from chengguan.taxonomy.schemas import CategoryIn, FilingConditionIn, TimeLimitIn
from tests.conftest import PASSWORD
from tests.factories import SampleCity

_majors = itertools.count(30)
LIMIT = TimeLimitIn(amount=1, unit="working_days")


@dataclass(frozen=True)
class Categories:
    component: str  # a 部件 小类 key, e.g. C3001
    component_major: str  # its 大类, e.g. C30
    component_sibling: str  # another 小类 of the same 大类
    event: str
    event_major: str


def _category(session: Session, kind: str, code: str) -> None:
    minor = len(code) == 4
    taxonomy_service.create(
        session,
        CategoryIn(
            kind=kind,
            code=code,
            name=f"派遣测试{code}",
            filing_conditions=[FilingConditionIn(text="有问题")] if minor else [],
            closing_condition="已解决" if minor else None,
            time_limits=dict.fromkeys("ABC", LIMIT) if minor else {},
        ),
    )


@pytest.fixture
def cats(platform_session: Session) -> Categories:
    n = next(_majors)
    for kind, codes in {"component": (f"{n}", f"{n}01", f"{n}02"), "event": (f"{n}", f"{n}01")}.items():
        for code in codes:
            _category(platform_session, kind, code)
    platform_session.commit()
    return Categories(f"C{n}01", f"C{n}", f"C{n}02", f"E{n}01", f"E{n}")


@pytest.fixture(scope="session")
def street_admin(app, city: SampleCity) -> str:
    """An administrator of 东街道 (A1): their jurisdiction is one street."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        auth_service.create_user(
            session,
            UserIn(
                username="admin_a1_resp",
                display_name="东街道管理员",
                password=PASSWORD,
                roles=[Role.ADMIN],
                org_id=city.org["A1"],
            ),
        )
    return "admin_a1_resp"


@pytest.fixture
def rule(platform_session: Session, city: SampleCity):
    """``rule(row, category, basis, unit, area=None, **extra)`` → a committed rule's id."""

    def add(row: int, category: str, basis: Basis, unit: str, area: str | None = None, **extra: object) -> int:
        data = RuleIn(
            row_no=row,
            category=category,
            basis=basis,
            unit_id=city.org[unit],
            org_id=city.org[area] if area else None,
            **extra,
        )
        created = service.create_rule(platform_session, data)
        platform_session.commit()
        return created.id

    return add


def chain(session: Session, city: SampleCity, key: str) -> list[int]:
    return service.area_chain(session, orgs_service.get(session, city.org[key]))


@pytest.fixture
def temp_cell(app, city: SampleCity) -> Iterator[str]:
    """A small C-class cell in a corner of 南镇二社区, which the shared test grid leaves empty;
    removed (with the rules naming it) after the test so the grid tests find the community empty."""
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        community = orgs_service.get(session, city.org["B1c2"])
        code = f"{community.code}901"
        shape = mapping(box(116.395, 40.095, 116.4, 40.1))
        geo_service.create_cell(session, CellIn(code=code, name="派遣测试网格", area_class="C", geometry=shape))
    yield code
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        for leftover in session.scalars(select(ResponsibilityRule).where(ResponsibilityRule.cell_code == code)):
            session.delete(leftover)
        cell = session.scalar(select(GridCell).where(GridCell.code == code))
        if cell is not None:
            geo_service.delete_cell(session, cell)
