"""get_calendar is cached per process and notices edits made anywhere through the revision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from chengguan.audit import platform_actor
from chengguan.calendar import service
from chengguan.calendar.models import CalendarDay, DayKind
from chengguan.calendar.schemas import DayIn
from chengguan.db import create_engine, make_sessionmaker, unit_of_work

DAY = dt.date(2034, 5, 8)  # a Monday
HOLIDAY = DayIn(kind=DayKind.HOLIDAY, name="测试假日")


def test_the_cache_is_reused_until_another_process_bumps_the_revision(app, settings, seeded, restore) -> None:
    factory = app.state.sessionmaker
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        first = service.get_calendar(session)
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert service.get_calendar(session) is first
        # a row written behind the services' back does not bump the revision: the cache stands
        session.execute(insert(CalendarDay).values(day=DAY, kind=DayKind.HOLIDAY, name="unseen"))
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert service.get_calendar(session).is_working_day(DAY)

    # "another worker": its own engine and connection pool, editing through the service
    other = create_engine(settings.db_url)
    try:
        with unit_of_work(make_sessionmaker(other), actor=platform_actor("worker 2")) as session:
            service.put_day(session, DAY + dt.timedelta(days=1), HOLIDAY)
    finally:
        other.dispose()
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        fresh = service.get_calendar(session)
    assert fresh is not first
    assert not fresh.is_working_day(DAY) and not fresh.is_working_day(DAY + dt.timedelta(days=1))


def test_a_rolled_back_edit_never_reaches_the_cache(app, seeded, restore) -> None:
    factory = app.state.sessionmaker
    session = factory()
    session.info["actor"] = platform_actor("tests")
    service.put_day(session, DAY, HOLIDAY)
    assert not service.get_calendar(session).is_working_day(DAY)  # the editing transaction sees its edit
    session.rollback()
    session.close()
    with unit_of_work(factory, actor=platform_actor("tests")) as other:
        assert service.get_calendar(other).is_working_day(DAY)
        # a later, different edit reuses the revision number the rolled-back one had
        service.put_day(other, DAY + dt.timedelta(days=2), HOLIDAY)
    with unit_of_work(factory, actor=platform_actor("tests")) as reader:
        calendar = service.get_calendar(reader)
    assert calendar.is_working_day(DAY) and not calendar.is_working_day(DAY + dt.timedelta(days=2))
