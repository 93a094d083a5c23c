"""Working calendar maths: holidays, 调休 make-up working days, working hours and deadlines.

Pure and immutable: a :class:`WorkCalendar` knows its holidays, its make-up working days, its
weekend and the working-hour periods of a working day, and computes on aware datetimes in its
time zone. It knows no database and no domain.

Counting rules (what the law says, and where the platform had to choose):

* **Working day (工作日).** A day that is not a weekend day and not a holiday, plus every
  make-up working day (调休上班) the State Council moves onto a weekend. 行政处罚法 第八十五条:
  "本法中'二日''三日''五日''七日'的规定是指工作日，不含法定节假日" (行政强制法 第六十九条 and
  行政复议法 第八十八条 say the same for their short periods). A 调休 Saturday is a working day.
* **The start day is not counted.** 民事诉讼法 第八十五条: "期间开始的时和日，不计算在期间内" —
  行政复议法 第八十八条 and 行政诉讼法 第一百零一条 send period counting there; 行政处罚法 has no rule
  of its own, so the platform applies the same one.
* **Working days** (:meth:`WorkCalendar.add_working_days`): the period ends at the close of
  business (the end of the last working period) of the N-th working day *after* the start day.
  A start on a holiday or after hours therefore counts from the next working day.
* **Calendar days** (:meth:`WorkCalendar.add_calendar_days`): the period ends at 24:00 of the
  N-th day after the start day. 民事诉讼法 第八十五条: "期间届满的最后一日是法定休假日的，以法定休假日后的
  第一日为期间届满的日期" — a last day that is a rest day or holiday moves to the first working day
  after it, and the period ends at 24:00 of that day. (Weekend rest days are read as 法定休假日
  too, the common reading; a 调休 Saturday is a working day and does not move.) 24:00 of a day
  is returned as 00:00 of the next day.
* **Working hours** (:meth:`WorkCalendar.add_working_hours`): only minutes inside the working
  periods of working days count. The deadline is the earliest instant at which the limit is
  used up, so a limit that runs out at 12:00 ends at 12:00, not at 13:30 after lunch.
* **The working clock** (:meth:`WorkCalendar.working_time_between`) is the working time elapsed
  between two instants: never negative, zero when the second is not after the first.

A deadline is the instant the period ends: an act at or before it is on time. Working periods
lie within one local day (no night shifts); wall-clock times are used in the time zone.

Speed: the working days of every year that has holidays or make-up days are precomputed as
ordinals (``_rank``: working days before a day); outside those years the weekend rule is
counted by whole weeks. Every operation is O(1) except the O(log p) lookup in the periods.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chengguan.errors import Invalid

DEFAULT_TZ = "Asia/Shanghai"
WEEKEND = frozenset({5, 6})  # Saturday, Sunday: 国务院关于职工工作时间的规定
ONE_DAY = dt.timedelta(days=1)
ONE_US = dt.timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
_MAX_RULES = 100_000  # memoised deadline rules kept (a year of hours for a dozen limits)
# A deadline rule: (the hour's own deadline, whether a start later in the hour moves it as much
# later); _EXACT: compute each start's deadline in full.
_Rule = tuple[dt.datetime | None, bool]
_EXACT: _Rule = (None, False)
# Span used when a calendar has no exceptions at all: any date works as the ordinal anchor.
_ANCHOR = dt.date(2000, 1, 1).toordinal()


class Unit(enum.StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True)
class Period:
    """One working period of a working day, e.g. 09:00–12:00, in local wall-clock time."""

    start: dt.time
    end: dt.time


DEFAULT_PERIODS = (Period(dt.time(9), dt.time(12)), Period(dt.time(13, 30), dt.time(17, 30)))


def check_periods(periods: tuple[Period, ...]) -> None:
    """Refuse periods that are empty, inverted, out of order or overlapping."""
    if not periods:
        raise Invalid("at least one working period is needed / 至少需要一个工作时段", field="periods")
    for i, p in enumerate(periods):
        if p.start >= p.end:
            raise Invalid(f"period {p.start}–{p.end} must end after it starts", field=f"periods.{i}.end")
        if i and p.start < periods[i - 1].end:
            raise Invalid(
                f"period {p.start}–{p.end} overlaps or precedes {periods[i - 1].start}–{periods[i - 1].end}; "
                "list periods in order without overlap / 工作时段不得重叠",
                field=f"periods.{i}.start",
            )


def _us_of_day(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _weekday(ordinal: int) -> int:
    return (ordinal + 6) % 7  # date.fromordinal(1) is a Monday


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()  # 调休上班: make-up working days on weekends
    weekend: frozenset[int] = WEEKEND  # date.weekday() numbers
    periods: tuple[Period, ...] = DEFAULT_PERIODS
    tz: str = DEFAULT_TZ

    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _plain: tuple[bool, ...] = field(init=False, repr=False, compare=False)  # weekday → working by the weekend rule
    _per_week: int = field(init=False, repr=False, compare=False)
    _lo: int = field(init=False, repr=False, compare=False)  # ordinal span with exceptions: [lo, hi)
    _hi: int = field(init=False, repr=False, compare=False)
    _rank_at: tuple[int, ...] = field(init=False, repr=False, compare=False)  # working days in [lo, lo + i)
    _days: tuple[int, ...] = field(init=False, repr=False, compare=False)  # working-day ordinals in the span
    _bounds: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)  # periods in µs of day
    _cum_end: tuple[int, ...] = field(init=False, repr=False, compare=False)  # working µs through period i
    _day_us: int = field(init=False, repr=False, compare=False)
    # (local day, hour, amount, unit) → how every deadline that starts in that hour comes out
    _rules: dict[tuple[int, int, float, Unit], _Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_periods(self.periods)
        if not self.weekend < frozenset(range(7)):
            raise Invalid("weekend days are weekday numbers 0–6 and leave at least one working day", field="weekend")
        if clash := self.holidays & self.workdays:
            raise Invalid(f"{min(clash)} is both a holiday and a make-up working day", field="workdays")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(f"unknown time zone {self.tz!r}", field="tz") from exc
        put = object.__setattr__
        put(self, "_zone", zone)
        put(self, "_plain", tuple(w not in self.weekend for w in range(7)))
        put(self, "_per_week", 7 - len(self.weekend))
        put(self, "_rules", {})
        self._index_days()
        self._index_periods()

    def _index_days(self) -> None:
        years = [d.year for d in self.holidays | self.workdays]
        lo = dt.date(min(years), 1, 1).toordinal() if years else _ANCHOR
        hi = dt.date(max(years) + 1, 1, 1).toordinal() if years else _ANCHOR
        flags = [self.is_working_day(dt.date.fromordinal(o)) for o in range(lo, hi)]
        days = tuple(o for o, working in zip(range(lo, hi), flags, strict=True) if working)
        rank_at = tuple(itertools.accumulate(flags, initial=0))
        put = object.__setattr__
        put(self, "_lo", lo)
        put(self, "_hi", hi)
        put(self, "_days", days)
        put(self, "_rank_at", rank_at)

    def _index_periods(self) -> None:
        bounds = tuple((_us_of_day(p.start), _us_of_day(p.end)) for p in self.periods)
        cum: list[int] = []
        for s, e in bounds:
            cum.append((cum[-1] if cum else 0) + e - s)
        put = object.__setattr__
        put(self, "_bounds", bounds)
        put(self, "_cum_end", tuple(cum))
        put(self, "_day_us", cum[-1])

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    # -- days ----------------------------------------------------------------------------------

    def is_working_day(self, d: dt.date) -> bool:
        """Whether ``d`` is a working day; an aware datetime is taken on its local date."""
        if isinstance(d, dt.datetime):
            d = self.local(d, "date").date()
        if d in self.workdays:
            return True
        return d not in self.holidays and d.weekday() not in self.weekend

    def _plain_count(self, a: int, b: int) -> int:
        """Working days in the ordinal range [a, b) by the weekend rule alone (a <= b)."""
        weeks, rest = divmod(b - a, 7)
        start = a + 7 * weeks
        return weeks * self._per_week + sum(self._plain[_weekday(o)] for o in range(start, start + rest))

    def _plain_nth_after(self, a: int, m: int) -> int:
        """The m-th (0-based) working day on or after ordinal ``a``, by the weekend rule."""
        weeks, m = divmod(m, self._per_week)
        o = a + 7 * weeks
        while True:
            if self._plain[_weekday(o)]:
                if m == 0:
                    return o
                m -= 1
            o += 1

    def _plain_nth_before(self, b: int, m: int) -> int:
        """The m-th (1-based) working day before ordinal ``b``, by the weekend rule."""
        weeks, m = divmod(m - 1, self._per_week)
        o = b - 7 * weeks - 1
        while True:
            if self._plain[_weekday(o)]:
                if m == 0:
                    return o
                m -= 1
            o -= 1

    def _rank(self, o: int) -> int:
        """Working days before ordinal ``o``, counted from the start of the indexed span."""
        if o < self._lo:
            return -self._plain_count(o, self._lo)
        if o <= self._hi:
            return self._rank_at[o - self._lo]
        return len(self._days) + self._plain_count(self._hi, o)

    def _nth(self, k: int) -> int:
        """The ordinal of the working day whose rank is ``k``."""
        if 0 <= k < len(self._days):
            return self._days[k]
        if k >= len(self._days):
            return self._plain_nth_after(self._hi, k - len(self._days))
        return self._plain_nth_before(self._lo, -k)

    def next_working_day(self, d: dt.date) -> dt.date:
        """``d`` itself if it is a working day, else the first working day after it."""
        return dt.date.fromordinal(self._nth(self._rank(d.toordinal())))

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` (0 when b <= a)."""
        return max(0, self._rank(b.toordinal() + 1) - self._rank(a.toordinal() + 1))

    def working_dates(self, a: dt.date, b: dt.date) -> Iterator[dt.date]:
        """The working days after ``a`` up to and including ``b``, in order."""
        for k in range(self._rank(a.toordinal() + 1), self._rank(b.toordinal() + 1)):
            yield dt.date.fromordinal(self._nth(k))

    # -- instants ------------------------------------------------------------------------------

    def local(self, t: dt.datetime, field_name: str = "start") -> dt.datetime:
        """``t`` in the calendar's time zone; a naive datetime is refused."""
        if t.tzinfo is None or t.utcoffset() is None:
            raise Invalid("naive datetime; send a time zone offset, e.g. +08:00 / 时间须带时区", field=field_name)
        return t.astimezone(self._zone)

    def _at(self, day_ordinal: int, us_of_day: int) -> dt.datetime:
        midnight = dt.datetime.combine(dt.date.fromordinal(day_ordinal), dt.time(), tzinfo=self._zone)
        return midnight + dt.timedelta(microseconds=us_of_day)

    def close_of_business(self, d: dt.date) -> dt.datetime:
        return self._at(d.toordinal(), self._bounds[-1][1])

    def _clock(self, t: dt.datetime, field_name: str) -> int:
        """Working microseconds from the start of the indexed span up to the instant ``t``."""
        loc = self.local(t, field_name)
        o = loc.date().toordinal()
        before = self._rank(o) * self._day_us
        if not self.is_working_day(loc.date()):
            return before
        now = _us_of_day(loc.time())
        done = 0
        for s, e in self._bounds:
            if now <= s:
                break
            done += min(now, e) - s
        return before + done

    def _instant(self, clock: int) -> dt.datetime:
        """The earliest instant at which the working clock reads ``clock``."""
        k, rem = divmod(clock - 1, self._day_us)
        rem += 1  # in (0, day]: a whole day used up ends at close of business, not next morning
        i = bisect.bisect_left(self._cum_end, rem)
        start, _end = self._bounds[i]
        used_before = self._cum_end[i - 1] if i else 0
        return self._at(self._nth(k), start + rem - used_before)

    def point_between(self, a: dt.datetime, b: dt.datetime, share: float) -> dt.datetime:
        """The instant at which ``share`` of the working time from ``a`` to ``b`` has elapsed
        (``b`` when there is none): a traffic light's 80 % mark, in two clock readings."""
        start, end = self._clock(a, "a"), self._clock(b, "b")
        if end <= start:
            return self.local(b, "b")
        return self._instant(start + round((end - start) * share))

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Working time elapsed from ``a`` to ``b``; zero when ``b`` is not after ``a``."""
        return dt.timedelta(microseconds=max(0, self._clock(b, "b") - self._clock(a, "a")))

    # -- deadlines -----------------------------------------------------------------------------

    def add_working_hours(self, start: dt.datetime, hours: float | dt.timedelta) -> dt.datetime:
        """The earliest instant at which ``hours`` of working time have elapsed since ``start``."""
        amount = hours if isinstance(hours, dt.timedelta) else dt.timedelta(hours=hours)
        if amount < dt.timedelta(0):
            raise Invalid("a working-hour limit cannot be negative", field="amount")
        if not amount:
            return self.local(start)
        return self._instant(self._clock(start, "start") + amount // ONE_US)

    def add_working_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """Close of business of the ``n``-th working day after the start day (n >= 1)."""
        _check_days(n)
        first = self._rank(self.local(start).date().toordinal() + 1)
        return self.close_of_business(dt.date.fromordinal(self._nth(first + n - 1)))

    def add_calendar_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """24:00 of the ``n``-th day after the start day, or of the first working day after it
        when that day is a rest day or holiday (n >= 1)."""
        _check_days(n)
        last = self.next_working_day(self.local(start).date() + dt.timedelta(days=n))
        return self._at(last.toordinal() + 1, 0)

    def deadline(self, start: dt.datetime, amount: float, unit: Unit | str) -> dt.datetime:
        """When a limit of ``amount`` ``unit`` that starts at ``start`` runs out (see the module doc).

        Memoised per (start hour, limit): the bulk intake path asks for tens of thousands of
        deadlines a second, from starts that share hours. A day limit depends only on the start
        day; a working-hour limit that starts in an hour outside working time ends where it ends
        from the top of that hour, and one that starts in an hour inside a working period ends as
        much later as it starts after the top of the hour, when its end is an hour or more before
        the end of its own period. Any other hour is computed afresh each time."""
        unit = _unit(unit)
        loc = self.local(start)
        key = (loc.toordinal(), loc.hour, amount, unit)
        rule = self._rules.get(key)
        if rule is None:
            if len(self._rules) >= _MAX_RULES:  # a long-lived process over years of history
                self._rules.clear()
            rule = self._rules[key] = self._rule(loc.replace(minute=0, second=0, microsecond=0), amount, unit)
        end, shifts = rule
        if end is None:
            return self._deadline(loc, amount, unit)
        return end + (loc - loc.replace(minute=0, second=0, microsecond=0)) if shifts else end

    def _rule(self, hour: dt.datetime, amount: float, unit: Unit) -> _Rule:
        """How the deadlines of starts in ``hour`` (local, on the hour) relate to the hour's own."""
        end = self._deadline(hour, amount, unit)
        if unit is not Unit.WORKING_HOURS:
            return end, False
        if not amount:  # a zero limit ends at its start, whatever the hour
            return _EXACT
        h = _us_of_day(hour.time())
        if not self.is_working_day(hour.date()) or not any(s < h + _HOUR_US and h < e for s, e in self._bounds):
            return end, False
        e_us = _us_of_day(end.time())
        within = any(s <= h and h + _HOUR_US <= e for s, e in self._bounds)
        if within and any(s < e_us and e_us + _HOUR_US <= e for s, e in self._bounds):
            return end, True
        return _EXACT

    def _deadline(self, start: dt.datetime, amount: float, unit: Unit) -> dt.datetime:
        try:
            if unit is Unit.WORKING_HOURS:
                return self.add_working_hours(start, amount)
            days = _whole(amount)
            if unit is Unit.WORKING_DAYS:
                return self.add_working_days(start, days)
            return self.add_calendar_days(start, days)
        except (OverflowError, ValueError) as exc:  # past year 9999
            raise Invalid(f"{amount} {unit} lands outside the representable dates", field="amount") from exc

    def elapsed_share(self, start: dt.datetime, amount: float, unit: Unit | str, now: dt.datetime) -> float:
        """How much of a limit is used up at ``now`` (0 = none, 1 = due, above 1 = overdue).

        Working units run on the working clock, calendar days on the wall clock — the share a
        per-node traffic light shows."""
        if amount <= 0:
            raise Invalid("a limit must be positive to have a share", field="amount")
        end = self.deadline(start, amount, unit)
        now = self.local(now, "now")
        if _unit(unit) is Unit.CALENDAR_DAYS:
            return max(0.0, (now - start) / (end - start))
        return self.working_time_between(start, now) / self.working_time_between(start, end)


def _unit(unit: Unit | str) -> Unit:
    try:
        return Unit(unit)
    except ValueError as exc:
        raise Invalid(f"unknown unit {unit!r}; use one of {', '.join(Unit)}", field="unit") from exc


def _whole(amount: float) -> int:
    if int(amount) != amount:
        raise Invalid(f"a day count must be a whole number, not {amount}", field="amount")
    return int(amount)


def _check_days(n: int) -> None:
    if n < 1:
        raise Invalid("a day limit counts at least 1 day", field="amount")
