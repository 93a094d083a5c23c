from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.calendar import service
from chengguan.calendar.models import CalendarDay, CalendarYear
from chengguan.db import unit_of_work
from chengguan.kit.workcal import DEFAULT_PERIODS

# Tests edit only these years, and put them back afterwards: the shipped ones stay intact.
SCRATCH_FROM = 2030


@pytest.fixture(scope="session")
def seeded(app) -> None:
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        service.load_seed(session)


@pytest.fixture
def admin(as_user, seeded) -> dict[str, str]:
    return as_user("admin_city")


@pytest.fixture
def officer(as_user, seeded) -> dict[str, str]:
    return as_user("officer_a1")


def _reset(session: Session) -> None:
    days = session.scalars(select(CalendarDay.day).where(CalendarDay.day >= dt.date(SCRATCH_FROM, 1, 1)))
    years = session.scalars(select(CalendarYear.year).where(CalendarYear.year >= SCRATCH_FROM))
    for year in sorted({d.year for d in days} | set(years)):
        service.delete_year(session, year)
    if service.get_periods(session) != list(DEFAULT_PERIODS):
        service.set_periods(session, DEFAULT_PERIODS)


@pytest.fixture
def restore(app, seeded) -> Iterator[None]:
    """Undo a test's calendar edits (scratch years, working hours) after it ran."""
    yield
    with unit_of_work(app.state.sessionmaker, actor=platform_actor("tests")) as session:
        _reset(session)
