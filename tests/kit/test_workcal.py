"""The working calendar maths, checked by hand on 2026 and against a day-by-day oracle.

The 2026 schedule is typed in here from 国办发明电〔2025〕7号, independently of the shipped CSV.
Working day: 09:00–12:00 and 13:30–17:30 (7 working hours).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.errors import Invalid
from chengguan.kit.workcal import Period, Unit, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date


def _run(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


HOLIDAYS_2026 = (
    _run(D(2026, 1, 1), D(2026, 1, 3))  # 元旦
    | _run(D(2026, 2, 15), D(2026, 2, 23))  # 春节
    | _run(D(2026, 4, 4), D(2026, 4, 6))  # 清明节
    | _run(D(2026, 5, 1), D(2026, 5, 5))  # 劳动节
    | _run(D(2026, 6, 19), D(2026, 6, 21))  # 端午节
    | _run(D(2026, 9, 25), D(2026, 9, 27))  # 中秋节
    | _run(D(2026, 10, 1), D(2026, 10, 7))  # 国庆节
)
WORKDAYS_2026 = {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)}
CAL = WorkCalendar(holidays=frozenset(HOLIDAYS_2026), workdays=frozenset(WORKDAYS_2026))


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


# -- working days ---------------------------------------------------------------------------------


def test_five_working_days_across_the_2026_spring_festival_and_its_make_up_saturday() -> None:
    # Start Thu 2026-02-12 (the start day is not counted). Day 1 Fri 02-13, day 2 Sat 02-14
    # (调休上班), 02-15 Sun … 02-23 Mon are the holiday, day 3 Tue 02-24, day 4 Wed 02-25,
    # day 5 Thu 02-26 → close of business 17:30. (Without the holiday: Thu 02-19.)
    assert CAL.add_working_days(at(2026, 2, 12, 10), 5) == at(2026, 2, 26, 17, 30)
    assert CAL.deadline(at(2026, 2, 12, 23, 59), 5, "working_days") == at(2026, 2, 26, 17, 30)
    assert list(CAL.working_dates(D(2026, 2, 12), D(2026, 2, 26))) == [
        D(2026, 2, 13),
        D(2026, 2, 14),
        D(2026, 2, 24),
        D(2026, 2, 25),
        D(2026, 2, 26),
    ]
    assert WorkCalendar().add_working_days(at(2026, 2, 12, 10), 5) == at(2026, 2, 19, 17, 30)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at(2026, 2, 21, 10), 1, at(2026, 2, 24, 17, 30)),  # starts inside the holiday: counts from 02-24
        (at(2026, 2, 13, 20), 1, at(2026, 2, 14, 17, 30)),  # Fri evening: day 1 is the 调休 Saturday
        (at(2026, 2, 27, 9), 1, at(2026, 2, 28, 17, 30)),  # Fri → 调休 Sat 02-28
        (at(2026, 3, 6, 9), 1, at(2026, 3, 9, 17, 30)),  # Fri → Mon (plain weekend)
        (at(2026, 9, 30, 9), 3, at(2026, 10, 10, 17, 30)),  # 国庆: 10-08 Thu, 10-09 Fri, 10-10 Sat (调休)
        (at(2026, 12, 30, 9), 3, at(2027, 1, 4, 17, 30)),  # past the indexed span: weekend rule only
        (at(2024, 12, 31, 9), 2, at(2025, 1, 2, 17, 30)),  # before the indexed span
    ],
)
def test_working_days_by_hand(start: dt.datetime, n: int, due: dt.datetime) -> None:
    assert CAL.add_working_days(start, n) == due


def test_is_working_day_follows_holidays_and_make_up_days() -> None:
    assert CAL.is_working_day(D(2026, 2, 14))  # 调休 Saturday
    assert not CAL.is_working_day(D(2026, 2, 16))  # holiday Monday
    assert not CAL.is_working_day(D(2026, 2, 21))  # Saturday inside the holiday
    assert not CAL.is_working_day(D(2026, 3, 7))  # plain Saturday
    assert CAL.is_working_day(D(2026, 3, 9))
    # an aware datetime is judged on its local date: 2026-02-13 20:00 UTC is Saturday 04:00 in Beijing
    assert CAL.is_working_day(dt.datetime(2026, 2, 13, 20, tzinfo=dt.UTC))
    assert not CAL.is_working_day(dt.datetime(2026, 2, 14, 20, tzinfo=dt.UTC))
    assert CAL.next_working_day(D(2026, 2, 15)) == D(2026, 2, 24)
    assert CAL.working_days_between(D(2026, 2, 12), D(2026, 2, 26)) == 5


# -- working hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # the brief's example: 17:00 + 4 h = 0.5 h today, 3 h Fri morning, 0.5 h after lunch
        (at(2026, 3, 5, 17), 4, at(2026, 3, 6, 14)),
        (at(2026, 3, 5, 17), 3, at(2026, 3, 6, 11, 30)),  # 0.5 h + 2.5 h
        (at(2026, 3, 9, 11), 2, at(2026, 3, 9, 14, 30)),  # across lunch: 1 h + 1 h
        (at(2026, 3, 9, 12, 30), 1, at(2026, 3, 9, 14, 30)),  # starts during lunch
        (at(2026, 3, 9, 9), 3, at(2026, 3, 9, 12)),  # used up at 12:00 ends at 12:00, not 13:30
        (at(2026, 3, 9, 9), 7, at(2026, 3, 9, 17, 30)),  # a whole day ends at close of business
        (at(2026, 3, 9, 20), 1, at(2026, 3, 10, 10)),  # after hours: from next morning
        (at(2026, 3, 6, 16), 3, at(2026, 3, 9, 10, 30)),  # Fri 1.5 h, weekend, Mon 1.5 h
        (at(2026, 2, 13, 17), 4, at(2026, 2, 14, 14)),  # Fri 0.5 h, 调休 Sat 3.5 h
        (at(2026, 2, 14, 16), 4, at(2026, 2, 24, 11, 30)),  # Sat 1.5 h, 9-day holiday, Tue 2.5 h
        (at(2026, 2, 16, 10), 1, at(2026, 2, 24, 10)),  # starts on a holiday
        (at(2026, 3, 9, 10), 0, at(2026, 3, 9, 10)),
    ],
)
def test_working_hours_by_hand(start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert CAL.add_working_hours(start, hours) == due
    assert CAL.deadline(start, hours, Unit.WORKING_HOURS) == due


def test_working_time_between_across_the_holiday() -> None:
    # Fri 02-13 10:00–17:30 = 2 h + 4 h; Sat 02-14 (调休) 7 h; holiday; Tue 02-24 09:00–10:00 1 h
    assert CAL.working_time_between(at(2026, 2, 13, 10), at(2026, 2, 24, 10)) == dt.timedelta(hours=14)
    assert CAL.working_time_between(at(2026, 2, 15, 10), at(2026, 2, 23, 16)) == dt.timedelta(0)
    assert CAL.working_time_between(at(2026, 2, 24, 10), at(2026, 2, 13, 10)) == dt.timedelta(0)
    assert CAL.working_time_between(at(2026, 3, 9, 12, 10), at(2026, 3, 9, 13, 20)) == dt.timedelta(0)
    assert CAL.working_time_between(at(2026, 3, 9, 11, 59), at(2026, 3, 9, 13, 31)) == dt.timedelta(minutes=2)


# -- calendar days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at(2026, 2, 1, 15), 15, at(2026, 2, 25)),  # day 15 = 02-16 (春节) → first working day 02-24, 24:00
        (at(2026, 2, 13, 9), 15, at(2026, 3, 1)),  # day 15 = 02-28, a 调休 Saturday: it stays
        (at(2026, 2, 27, 9), 9, at(2026, 3, 10)),  # day 9 = Sun 03-08 → Mon 03-09, 24:00
        (at(2026, 9, 16, 9), 15, at(2026, 10, 9)),  # day 15 = 10-01 (国庆) → Thu 10-08, 24:00
        (at(2026, 2, 13, 23, 59), 1, at(2026, 2, 15)),  # the start day is not counted
        (at(2026, 3, 2, 9), 90, at(2026, 6, 2)),  # 法60's 90 days: day 90 = Sun 05-31 → Mon 06-01, 24:00
    ],
)
def test_calendar_days_by_hand(start: dt.datetime, n: int, due: dt.datetime) -> None:
    assert CAL.add_calendar_days(start, n) == due


# -- input, zones, configuration ------------------------------------------------------------------


def test_other_time_zones_are_converted_and_results_are_local() -> None:
    utc_start = dt.datetime(2026, 2, 12, 2, tzinfo=dt.UTC)  # 10:00 in Beijing
    due = CAL.add_working_days(utc_start, 5)
    assert due == at(2026, 2, 26, 17, 30) and due.tzinfo == TZ


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: CAL.add_working_days(dt.datetime(2026, 2, 12, 10), 5), "start"),
        (lambda: CAL.deadline(at(2026, 2, 12), 5, "fortnights"), "unit"),
        (lambda: CAL.deadline(at(2026, 2, 12), 1.5, "working_days"), "amount"),
        (lambda: CAL.deadline(at(2026, 2, 12), 0, "calendar_days"), "amount"),
        (lambda: CAL.add_working_hours(at(2026, 2, 12), -1), "amount"),
        (lambda: CAL.working_time_between(at(2026, 2, 12), dt.datetime(2026, 2, 13)), "b"),
        (
            lambda: WorkCalendar(periods=(Period(dt.time(9), dt.time(12)), Period(dt.time(11), dt.time(13)))),
            "periods.1.start",
        ),
        (lambda: WorkCalendar(periods=(Period(dt.time(12), dt.time(9)),)), "periods.0.end"),
        (lambda: WorkCalendar(periods=()), "periods"),
        (lambda: WorkCalendar(weekend=frozenset(range(7))), "weekend"),
        (lambda: WorkCalendar(holidays=frozenset({D(2026, 2, 14)}), workdays=frozenset({D(2026, 2, 14)})), "workdays"),
        (lambda: WorkCalendar(tz="Mars/Olympus"), "tz"),
    ],
)
def test_bad_input_is_refused_naming_the_field(call, field: str) -> None:
    with pytest.raises(Invalid) as err:
        call()
    assert err.value.field == field


def test_configurable_periods_weekend_and_zone() -> None:
    cal = WorkCalendar(
        periods=(Period(dt.time(8, 30), dt.time(12)), Period(dt.time(14), dt.time(18))),
        weekend=frozenset({6}),  # Sunday only
        tz="Asia/Urumqi",
    )
    urumqi = ZoneInfo("Asia/Urumqi")
    sat = dt.datetime(2026, 3, 7, 17, tzinfo=urumqi)
    assert cal.add_working_hours(sat, 2) == dt.datetime(2026, 3, 9, 9, 30, tzinfo=urumqi)  # Sat 1 h, Sun off
    assert cal.add_working_days(sat, 1) == dt.datetime(2026, 3, 9, 18, tzinfo=urumqi)


def test_elapsed_share_runs_on_the_working_clock() -> None:
    start = at(2026, 2, 13, 17)
    assert CAL.elapsed_share(start, 4, "working_hours", at(2026, 2, 14, 10, 30)) == 0.5  # 0.5 h + 1.5 h
    # Fri 0.5 h + the 调休 Saturday 7 h, then the clock stands still through the holiday
    assert CAL.elapsed_share(start, 20, "working_hours", at(2026, 2, 16)) == 7.5 / 20
    assert CAL.elapsed_share(start, 20, "working_hours", at(2026, 2, 23, 23)) == 7.5 / 20
    assert CAL.elapsed_share(start, 4, "working_hours", at(2026, 2, 24, 17)) > 1
    assert CAL.elapsed_share(start, 4, "working_hours", at(2026, 2, 1)) == 0
    assert 0 < CAL.elapsed_share(start, 15, "calendar_days", at(2026, 2, 20)) < 1


# -- against a day-by-day oracle, and properties ----------------------------------------------------


def _oracle_working_days(start: dt.datetime, n: int, cal: WorkCalendar = CAL) -> dt.datetime:
    day = start.astimezone(TZ).date()
    while n:
        day += dt.timedelta(days=1)
        n -= cal.is_working_day(day)
    return cal.close_of_business(day)


def _oracle_working_time(a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    total = dt.timedelta(0)
    day = a.astimezone(TZ).date()
    while day <= b.astimezone(TZ).date():
        if CAL.is_working_day(day):
            for p in CAL.periods:
                lo = max(a, dt.datetime.combine(day, p.start, TZ))
                hi = min(b, dt.datetime.combine(day, p.end, TZ))
                total += max(dt.timedelta(0), hi - lo)
        day += dt.timedelta(days=1)
    return total


instants = st.datetimes(
    min_value=dt.datetime(2024, 10, 1), max_value=dt.datetime(2027, 3, 31), timezones=st.sampled_from([TZ, dt.UTC])
)
hours = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=400))


@settings(max_examples=300, deadline=None)
@given(start=instants, n=st.integers(1, 80))
def test_working_days_match_the_oracle_and_end_on_a_working_day(start: dt.datetime, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert due == _oracle_working_days(start, n)
    assert CAL.is_working_day(due.date()) and due.time() == dt.time(17, 30)


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants)
def test_working_time_between_matches_the_oracle(a: dt.datetime, b: dt.datetime) -> None:
    assert CAL.working_time_between(a, b) == (_oracle_working_time(a, b) if b > a else dt.timedelta(0))


@settings(max_examples=300, deadline=None)
@given(start=instants, h=hours)
def test_working_hours_round_trip_and_land_inside_working_hours(start: dt.datetime, h: dt.timedelta) -> None:
    due = CAL.add_working_hours(start, h)
    assert CAL.working_time_between(start, due) == h
    if h:
        local = due.astimezone(TZ)
        assert CAL.is_working_day(local.date())
        assert any(p.start < local.time() <= p.end for p in CAL.periods)
        # earliest: a moment earlier the limit was not yet used up
        assert CAL.working_time_between(start, due - dt.timedelta(microseconds=1)) < h


@settings(max_examples=300, deadline=None)
@given(start=instants, later=st.timedeltas(dt.timedelta(0), dt.timedelta(days=40)), n=st.integers(1, 60))
def test_deadlines_never_move_backwards(start: dt.datetime, later: dt.timedelta, n: int) -> None:
    for unit in Unit:
        assert CAL.deadline(start, n, unit) <= CAL.deadline(start, n + 1, unit)
        assert CAL.deadline(start, n, unit) <= CAL.deadline(start + later, n, unit)


@settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(1, 120))
def test_calendar_days_end_at_midnight_after_a_working_last_day(start: dt.datetime, n: int) -> None:
    due = CAL.add_calendar_days(start, n)
    last = due.date() - dt.timedelta(days=1)
    assert due.time() == dt.time(0) and CAL.is_working_day(last)
    assert last >= start.astimezone(TZ).date() + dt.timedelta(days=n)
    # only rest days and holidays lie between the nominal last day and the one it moved to
    nominal = start.astimezone(TZ).date() + dt.timedelta(days=n)
    assert all(not CAL.is_working_day(nominal + dt.timedelta(days=i)) for i in range((last - nominal).days))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Odd weekends and random exceptions, to exercise the week arithmetic outside the span."""
    weekend = frozenset(draw(st.sets(st.integers(0, 6), max_size=6)))
    days = st.dates(D(2025, 6, 1), D(2027, 6, 30))
    holidays = draw(st.frozensets(days, max_size=40))
    workdays = draw(st.frozensets(days, max_size=10)) - holidays
    return WorkCalendar(holidays=holidays, workdays=workdays, weekend=weekend)


@settings(max_examples=300, deadline=None)
@given(cal=calendars(), start=instants, n=st.integers(1, 200))
def test_any_weekend_and_exceptions_match_the_oracle(cal: WorkCalendar, start: dt.datetime, n: int) -> None:
    due = cal.add_working_days(start, n)
    assert due == _oracle_working_days(start, n, cal)
    first = start.astimezone(TZ).date()
    assert cal.working_days_between(first, due.date()) == n
    assert len(list(cal.working_dates(first, due.date()))) == n


def test_a_deadline_past_year_9999_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        CAL.deadline(at(9999, 12, 1), 100, "calendar_days")
    assert err.value.field == "amount"


@settings(max_examples=300, deadline=None)
@given(a=instants, span=hours, share=st.floats(0, 1))
def test_point_between_splits_the_working_time_by_its_share(a: dt.datetime, span: dt.timedelta, share: float) -> None:
    b = a + span
    point = CAL.point_between(a, b, share)
    total = CAL.working_time_between(a, b)
    assert abs(CAL.working_time_between(a, point) - total * share) <= dt.timedelta(microseconds=1)
    assert point <= b if total else point == b
