"""The test city ready for intake: its grid cells, the shipped taxonomy, and a small
responsibility list — 街面秩序 (E05) in 东街道 goes to its squad, 公用设施 (C01) components of
甲区 to its water bureau; everything else in 甲区 ends in 会商 at the district centre."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.dispatch import service as dispatch_service
from chengguan.dispatch.models import Basis, ResponsibilityRule
from chengguan.dispatch.schemas import RuleIn
from tests.factories import SampleCity, SampleGrid
from tests.intake.import_fixtures import import_city_store, import_store  # noqa: F401 - the import tests' own store

# Points inside cells of the test city (lon, lat, WGS-84)
A1_POINT = (116.03, 39.93)  # 东街道一社区, cell 001 (class A)
A2_POINT = (116.13, 39.93)  # 西街道一社区
OUTSIDE = (117.5, 39.93)  # east of the city


@dataclass(frozen=True)
class IntakeCity:
    city: SampleCity
    grid: SampleGrid


@pytest.fixture(scope="session")
def intake_city(app, city: SampleCity, grid: SampleGrid, seeded: int) -> IntakeCity:
    rules = [
        (901, "E05", Basis.TERRITORY, "A1_squad", "A1"),
        (902, "C01", Basis.OWNER, "A_water", "A"),
    ]
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        for row, category, basis, unit, area in rules:
            taken = session.scalar(
                select(ResponsibilityRule.id).where(
                    ResponsibilityRule.row_no == row, ResponsibilityRule.org_id == city.org[area]
                )
            )
            if taken is None:
                dispatch_service.create_rule(
                    session,
                    RuleIn(row_no=row, category=category, basis=basis, unit_id=city.org[unit], org_id=city.org[area]),
                )
    return IntakeCity(city, grid)


def report(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {"channel": "patrol", "description": "路口有人占道经营卖水果", "category_key": "E0502"}
    body.update(fields)
    return body
