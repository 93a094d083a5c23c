"""``WorkCalendar.deadline`` is memoised per (start hour, limit): every start, at any minute and
second of any hour, must get exactly what the unmemoised maths gives."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.kit.workcal import Period, Unit, WorkCalendar

D = dt.date
HOLIDAYS = frozenset({D(2026, 10, d) for d in range(1, 8)} | {D(2026, 5, d) for d in range(1, 6)})
WORKDAYS = frozenset({D(2026, 10, 10), D(2026, 5, 9)})
LIMITS = [
    *((h, Unit.WORKING_HOURS) for h in (0, 0.25, 0.5, 1, 2, 3.5, 4, 7, 8, 24, 40)),
    *((n, Unit.WORKING_DAYS) for n in (1, 3, 15)),
    *((n, Unit.CALENDAR_DAYS) for n in (1, 7, 60)),
]
CALENDARS = {
    "shanghai": WorkCalendar(holidays=HOLIDAYS, workdays=WORKDAYS),
    # periods shorter than an hour and off the hour, and a zone whose clocks change
    "berlin, odd periods": WorkCalendar(
        holidays=HOLIDAYS,
        workdays=WORKDAYS,
        tz="Europe/Berlin",
        periods=(
            Period(dt.time(7, 15), dt.time(8, 0)),
            Period(dt.time(8, 20), dt.time(12, 0)),
            Period(dt.time(12, 40), dt.time(18, 45)),
        ),
    ),
}


def exact(cal: WorkCalendar, start: dt.datetime, amount: float, unit: Unit) -> dt.datetime:
    """The unmemoised maths, through the public methods."""
    if unit is Unit.WORKING_HOURS:
        return cal.add_working_hours(start, amount)
    if unit is Unit.WORKING_DAYS:
        return cal.add_working_days(start, int(amount))
    return cal.add_calendar_days(start, int(amount))


@pytest.mark.parametrize("name", CALENDARS)
def test_every_minute_of_busy_days_matches_the_exact_maths(name: str) -> None:
    """Starts at random seconds through every hour of a fortnight around a holiday and a clock
    change (Europe/Berlin: 2026-10-25), for every limit: memo filled in one order, read in another."""
    cal = CALENDARS[name]
    fresh = WorkCalendar(holidays=cal.holidays, workdays=cal.workdays, tz=cal.tz, periods=cal.periods)
    rng = random.Random(7)
    zone = ZoneInfo(cal.tz)
    starts = [
        dt.datetime(2026, 9, 26, tzinfo=zone) + dt.timedelta(hours=h, seconds=rng.randrange(3600))
        for h in range(24 * 34)
        for _ in range(3)
    ]
    rng.shuffle(starts)
    for start in starts:
        for amount, unit in LIMITS:
            assert cal.deadline(start, amount, unit) == exact(fresh, start, amount, unit), (start, amount, unit)
            assert cal.deadline(start, amount, unit).utcoffset() == exact(fresh, start, amount, unit).utcoffset()


def test_the_memo_shifts_inside_working_periods_and_holds_outside_them() -> None:
    """Both shortcuts are taken (so the test above checks them), and an hour that straddles a
    period's edge is computed in full."""
    cal = WorkCalendar(holidays=HOLIDAYS, workdays=WORKDAYS)
    zone = cal.zone
    for minute in (0, 17, 59):
        cal.deadline(dt.datetime(2026, 3, 2, 9, minute, tzinfo=zone), 2, Unit.WORKING_HOURS)  # 9:xx → 11:xx
        cal.deadline(dt.datetime(2026, 3, 2, 10, minute, tzinfo=zone), 2, Unit.WORKING_HOURS)  # 12:00, then 13:xx
        cal.deadline(dt.datetime(2026, 3, 2, 20, minute, tzinfo=zone), 2, Unit.WORKING_HOURS)  # night → 11:00
        cal.deadline(dt.datetime(2026, 3, 2, 13, minute, tzinfo=zone), 2, Unit.WORKING_HOURS)  # 13:00–14:00
    rules = {hour: rule for (_, hour, _, _), rule in cal._rules.items()}
    assert rules[9] == (dt.datetime(2026, 3, 2, 11, 0, tzinfo=zone), True)
    assert rules[10] == (None, False)  # its deadlines cross the lunch break
    assert rules[20] == (dt.datetime(2026, 3, 3, 11, 0, tzinfo=zone), False)
    assert rules[13] == (None, False)
    assert cal.deadline(dt.datetime(2026, 3, 2, 9, 17, 5, tzinfo=zone), 2, Unit.WORKING_HOURS) == dt.datetime(
        2026, 3, 2, 11, 17, 5, tzinfo=zone
    )
    assert cal.deadline(dt.datetime(2026, 3, 2, 10, 17, 5, tzinfo=zone), 2, Unit.WORKING_HOURS) == dt.datetime(
        2026, 3, 2, 13, 47, 5, tzinfo=zone
    )


@settings(max_examples=300, deadline=None)
@given(
    day=st.integers(0, 400),
    second=st.integers(0, 86_399),
    micro=st.integers(0, 999_999),
    limit=st.sampled_from(LIMITS),
)
def test_any_start_matches_the_exact_maths(day: int, second: int, micro: int, limit: tuple[float, Unit]) -> None:
    cal = CALENDARS["shanghai"]
    start = dt.datetime(2026, 1, 1, tzinfo=cal.zone) + dt.timedelta(days=day, seconds=second, microseconds=micro)
    assert cal.deadline(start, *limit) == exact(cal, start, *limit)
