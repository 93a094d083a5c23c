"""A :class:`Planner` keeps each (category, place)'s plan but computes every deadline afresh:
its plans are those of :func:`plan`, one event at a time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from chengguan.calendar import service as calendar_service
from chengguan.dispatch.models import Basis
from chengguan.dispatch.planning import Planner, plan
from chengguan.dispatch.resolver import rulebook
from tests.dispatch.conftest import Categories, chain
from tests.factories import SampleCity

START = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # a Monday morning in Shanghai


def test_a_planner_plans_as_plan_with_each_events_own_deadline(
    platform_session: Session, city: SampleCity, cats: Categories, rule
) -> None:
    rule(1701, cats.event, Basis.TERRITORY, "A1_squad", "A1")
    book, calendar = rulebook(platform_session), calendar_service.get_calendar(platform_session)
    planner = Planner(book, calendar)
    places = [("A1c1", cats.event), ("A2c2", cats.event), ("A1c1", cats.component), ("A1c1", cats.event)]
    starts = [START + dt.timedelta(hours=7 * i, minutes=13 * i) for i in range(12)]
    for start in starts:
        for area, category in places:
            area_chain = chain(platform_session, city, area)
            got = planner.plan(category, area_chain, start, area_class="A")
            assert got == plan(book, calendar, category, area_chain, start, area_class="A")
    owned = planner.plan(cats.event, chain(platform_session, city, "A1c1"), starts[0], area_class="A")
    later = planner.plan(cats.event, chain(platform_session, city, "A1c1"), starts[5], area_class="A")
    assert owned.unit_id == city.org["A1_squad"] and owned.reason.endswith("处置时限 1工作日 (A类)")
    assert owned.deadline_at is not None and later.deadline_at is not None and later.deadline_at > owned.deadline_at
    consult = planner.plan(cats.event, chain(platform_session, city, "A2c2"), starts[0], area_class="A")
    assert consult.consultation and consult.deadline_at is None and consult.unit_id is None
