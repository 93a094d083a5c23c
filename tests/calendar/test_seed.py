"""The shipped schedules, the seed loader and administrators' holiday files."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.calendar import service
from chengguan.calendar.models import CalendarDay, DayKind, YearStatus
from chengguan.calendar.schemas import YearIn
from chengguan.errors import Invalid

D = dt.date


def _days(session: Session, year: int, kind: DayKind) -> set[dt.date]:
    return {d.day for d in service.year_view(session, year).days if d.kind == kind}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CalendarDay)) or 0


def test_seed_is_idempotent(platform_session: Session, seeded) -> None:
    assert service.load_seed(platform_session) == 0


def test_2026_matches_the_state_council_notice(platform_session: Session, seeded) -> None:
    view = service.year_view(platform_session, 2026)
    assert (view.status, view.notice) == (YearStatus.OFFICIAL, "国办发明电〔2025〕7号")
    assert _days(platform_session, 2026, DayKind.WORKDAY) == {
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    }
    holidays = _days(platform_session, 2026, DayKind.HOLIDAY)
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert {D(2026, 2, 15), D(2026, 2, 23), D(2026, 6, 19), D(2026, 9, 25), D(2026, 10, 7)} <= holidays
    assert D(2026, 2, 24) not in holidays


def test_2025_is_official_and_2027_provisional(platform_session: Session, seeded) -> None:
    y2025 = service.year_view(platform_session, 2025)
    assert (y2025.status, y2025.notice) == (YearStatus.OFFICIAL, "国办发明电〔2024〕12号")
    assert len(_days(platform_session, 2025, DayKind.HOLIDAY)) == 1 + 8 + 3 + 5 + 3 + 8
    assert len(_days(platform_session, 2025, DayKind.WORKDAY)) == 5
    y2027 = service.year_view(platform_session, 2027)
    assert y2027.status == YearStatus.PROVISIONAL and y2027.notice is None
    assert y2027.note is not None and "PROVISIONAL" in y2027.note
    assert not _days(platform_session, 2027, DayKind.WORKDAY)
    assert {D(2027, 2, 5), D(2027, 2, 8), D(2027, 10, 1)} <= _days(platform_session, 2027, DayKind.HOLIDAY)


def test_seed_never_overwrites_an_administrators_year(platform_session: Session, seeded) -> None:
    service.delete_year(platform_session, 2027)
    service.set_year(platform_session, 2027, YearIn(status=YearStatus.OFFICIAL, notice="国办发明电〔2026〕99号"))
    assert service.load_seed(platform_session) == 0
    assert service.year_view(platform_session, 2027).days == []
    # a year nobody has loaded is filled again
    service.delete_year(platform_session, 2027)
    assert service.load_seed(platform_session) == len(_days(platform_session, 2027, DayKind.HOLIDAY)) == 13
    platform_session.rollback()


def test_seed_upgrades_a_provisional_year_to_the_official_schedule(platform_session: Session, seeded) -> None:
    service.delete_year(platform_session, 2026)
    service.set_year(platform_session, 2026, YearIn(status=YearStatus.PROVISIONAL))
    assert service.load_seed(platform_session) == 33 + 6
    assert service.year_view(platform_session, 2026).status == YearStatus.OFFICIAL
    platform_session.rollback()


def test_an_administrators_file_replaces_the_years_it_lists(platform_session: Session, seeded) -> None:
    data = (
        "date,kind,name,year_status,notice\n"
        "2031-01-01,holiday,元旦,official,国办发明电〔2030〕1号\n"
        "2031-01-04,workday,元旦调休上班,official,国办发明电〔2030〕1号\n"
    ).encode()
    assert service.import_schedule(platform_session, data, "2031.csv") == 2
    view = service.year_view(platform_session, 2031)
    assert view.status == YearStatus.OFFICIAL and [d.day for d in view.days] == [D(2031, 1, 1), D(2031, 1, 4)]
    assert service.get_calendar(platform_session).is_working_day(D(2031, 1, 4))  # a Saturday, worked
    platform_session.rollback()


def test_a_bad_file_is_refused_whole_with_every_line_named(platform_session: Session, seeded) -> None:
    before = _count(platform_session)
    data = (
        "date,kind,name,year_status,notice\n"
        "2031-01-01,holiday,元旦,official,国办发明电〔2030〕1号\n"  # fine on its own
        "2031-01-06,workday,x,official,国办发明电〔2030〕1号\n"  # a Monday is already a working day
        "2031-02-30,holiday,x,official,国办发明电〔2030〕1号\n"
        "2031-03-01,vacation,x,official,国办发明电〔2030〕1号\n"
        "2031-01-01,holiday,again,official,国办发明电〔2030〕1号\n"
        "2031-05-01,holiday,劳动节,provisional,\n"  # disagrees with line 2 about the year
        "2032-01-01,holiday,元旦,official,\n"
    ).encode()
    with pytest.raises(Invalid) as err:
        service.import_schedule(platform_session, data, "bad.csv")
    assert [e.field for e in err.value.errors] == [
        "line 3: kind",
        "line 4: date",
        "line 5: kind",
        "line 6: date",
        "line 8: notice",
        "line 7: year_status",
    ]
    assert "6 bad row(s)" in err.value.message and "line 3: kind" in err.value.message
    assert _count(platform_session) == before
