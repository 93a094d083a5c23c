"""The working calendar: its data, edits, imports and the cached :class:`WorkCalendar`.

Plain functions, session first; they never commit. Every edit bumps the revision row in the
same transaction; :func:`get_calendar` rebuilds its per-process cache when the number moves.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan import revisions
from chengguan.calendar.models import CalendarDay, CalendarYear, DayKind, WorkingPeriod, YearStatus
from chengguan.calendar.schemas import DayIn, DeadlineOut, YearIn
from chengguan.config import get_settings
from chengguan.errors import FieldError, Invalid, NotFound
from chengguan.kit.tabular import Row, read_table
from chengguan.kit.workcal import DEFAULT_PERIODS, WEEKEND, Period, Unit, WorkCalendar, check_periods

SEED = Path(__file__).parent / "data" / "holidays.csv"
REQUIRED = ("date", "kind", "name", "year_status")  # notice and verified are optional columns
MIN_YEAR, MAX_YEAR = 2000, 2100
EDITED = "calendar_edited"  # session.info flag: this transaction changed the calendar
CALENDAR = "calendar"  # the revision counter of the calendar

E = TypeVar("E", bound=enum.StrEnum)

_cache: dict[tuple[str, str], tuple[str, WorkCalendar]] = {}


# -- the calendar --------------------------------------------------------------------------------


def revision(session: Session) -> int:
    return revisions.counter(session, CALENDAR)


def _bump(session: Session) -> None:
    """Next revision, in the caller's transaction (the row lock serialises concurrent edits)."""
    session.flush()
    revisions.bump(session, CALENDAR)
    session.info[EDITED] = True


def get_calendar(session: Session) -> WorkCalendar:
    """The working calendar as this session sees it, cached per process and database.

    A calendar built inside a transaction that edited it is not cached: the edit may still
    roll back, and its revision number would then be reused by a different edit."""
    tz = get_settings().timezone
    key = (str(session.get_bind().engine.url), tz)
    (rev,) = revisions.tokens(session, CALENDAR)
    cached = _cache.get(key)
    if cached is not None and cached[0] == rev and not session.info.get(EDITED):
        return cached[1]
    calendar = _build(session, tz)
    if not session.info.get(EDITED):
        _cache[key] = (rev, calendar)
    return calendar


def _build(session: Session, tz: str) -> WorkCalendar:
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return WorkCalendar(
        holidays=frozenset(d for d, kind in rows if kind == DayKind.HOLIDAY),
        workdays=frozenset(d for d, kind in rows if kind == DayKind.WORKDAY),
        periods=tuple(get_periods(session)),
        tz=tz,
    )


def explain_deadline(session: Session, start: dt.datetime, amount: float, unit: Unit) -> DeadlineOut:
    """The deadline with the days it counts and the status of every year it touches."""
    calendar = get_calendar(session)
    start = calendar.local(start)
    end = calendar.deadline(start, amount, unit)
    last_day = calendar.local(end - dt.timedelta(microseconds=1)).date()  # 24:00 belongs to the day before
    return DeadlineOut(
        start=start,
        amount=amount,
        unit=unit,
        deadline=end,
        last_day=last_day,
        working_days=list(calendar.working_dates(start.date(), last_day)),
        years=year_statuses(session, start.year, last_day.year),
    )


# -- days and years ------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearView:
    year: int
    status: YearStatus | None
    notice: str | None
    note: str | None
    days: Sequence[CalendarDay]


def year_view(session: Session, year: int) -> YearView:
    _check_year(year, "year")
    days = session.scalars(
        select(CalendarDay).where(CalendarDay.day.between(*_year_bounds(year))).order_by(CalendarDay.day)
    ).all()
    row = session.get(CalendarYear, year)
    if row is None:
        return YearView(year, None, None, None, days)
    return YearView(year, YearStatus(row.status), row.notice, row.note, days)


def year_statuses(session: Session, first: int, last: int) -> dict[int, YearStatus | None]:
    found = {
        y.year: YearStatus(y.status)
        for y in session.scalars(select(CalendarYear).where(CalendarYear.year.between(first, last)))
    }
    return {year: found.get(year) for year in range(first, last + 1)}


def _check_year(year: int, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid(f"year {year} outside {MIN_YEAR}–{MAX_YEAR}", field=field)


def _check_day(day: dt.date, kind: DayKind) -> None:
    _check_year(day.year, "date")
    if kind == DayKind.WORKDAY and day.weekday() not in WEEKEND:
        raise Invalid(
            f"{day} is a weekday and already a working day; a make-up working day (调休上班) falls on a weekend",
            field="kind",
        )


def put_day(session: Session, day: dt.date, data: DayIn) -> CalendarDay:
    """Create or change the entry for ``day``; its year becomes provisional if it had no status."""
    _check_day(day, data.kind)
    row = session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.kind, row.name, row.source = data.kind, data.name, data.source
    if session.get(CalendarYear, day.year) is None:
        session.add(CalendarYear(year=day.year, status=YearStatus.PROVISIONAL))
    _bump(session)
    return row


def delete_day(session: Session, day: dt.date) -> None:
    row = session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if row is None:
        raise NotFound(f"{day} has no calendar entry; it follows the weekend rule", field="date")
    session.delete(row)
    _bump(session)


def set_year(session: Session, year: int, data: YearIn) -> CalendarYear:
    _check_year(year, "year")
    if data.status == YearStatus.OFFICIAL and not data.notice:
        raise Invalid("an official schedule names its notice, e.g. 国办发明电〔2025〕7号", field="notice")
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.status, row.notice, row.note = data.status, data.notice, data.note
    _bump(session)
    return row


def delete_year(session: Session, year: int) -> int:
    """Remove a year's schedule and every entry in it (it then follows the weekend rule)."""
    _check_year(year, "year")
    days = session.scalars(select(CalendarDay).where(CalendarDay.day.between(*_year_bounds(year)))).all()
    row = session.get(CalendarYear, year)
    if row is None and not days:
        raise NotFound(f"no schedule for {year}", field="year")
    for day in days:
        session.delete(day)
    if row is not None:
        session.delete(row)
    _bump(session)
    return len(days)


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# -- working hours -------------------------------------------------------------------------------


def get_periods(session: Session) -> list[Period]:
    rows = session.execute(select(WorkingPeriod.starts, WorkingPeriod.ends).order_by(WorkingPeriod.starts)).all()
    return [Period(s, e) for s, e in rows] or list(DEFAULT_PERIODS)


def set_periods(session: Session, periods: Sequence[Period]) -> list[Period]:
    """Replace the working periods of a working day (validated: in order, no overlap)."""
    check_periods(tuple(periods))
    for row in session.scalars(select(WorkingPeriod)):
        session.delete(row)  # one by one, so the audit trail keeps the old periods
    session.add_all(WorkingPeriod(starts=p.start, ends=p.end) for p in periods)
    _bump(session)
    return list(periods)


# -- imports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSchedule:
    year: int
    status: YearStatus
    notice: str | None
    note: str | None
    days: tuple[tuple[dt.date, DayKind, str], ...]


def parse_schedule(data: bytes, filename: str) -> list[YearSchedule]:
    """Every year in a holiday file; refuses the whole file if any row is wrong (line numbers)."""
    errors: list[FieldError] = []
    parsed: list[tuple[Row, dt.date, DayKind]] = []
    lines: dict[dt.date, int] = {}
    for row in read_table(data, filename, required=REQUIRED):
        try:
            day, kind = _parse_row(row)
        except Invalid as exc:
            errors.extend(exc.errors)
            continue
        if day in lines:
            errors.append(_row_error(row, "date", f"{day} is already listed on line {lines[day]}"))
        lines[day] = row.line
        parsed.append((row, day, kind))
    years = _group_years(parsed, errors)
    if errors:
        first = errors[0]
        summary = f"{len(errors)} bad row(s) in {filename}, nothing was imported; {first.field}: {first.message}"
        raise Invalid(summary, errors=errors)
    return years


def _row_error(row: Row, column: str, message: str) -> FieldError:
    return FieldError(f"line {row.line}: {column}", message)


def _bad(row: Row, column: str, message: str) -> Invalid:
    return Invalid(message, errors=[_row_error(row, column, message)])


def _choice(row: Row, column: str, choices: type[E]) -> E:
    try:
        return choices(row.get(column))
    except ValueError:
        allowed = " or ".join(choices)
        raise _bad(row, column, f"{column} {row.get(column)!r} is not {allowed}") from None


def _parse_row(row: Row) -> tuple[dt.date, DayKind]:
    try:
        day = dt.date.fromisoformat(row.get("date"))
    except ValueError:
        raise _bad(row, "date", f"date {row.get('date')!r} is not YYYY-MM-DD") from None
    kind = _choice(row, "kind", DayKind)
    status = _choice(row, "year_status", YearStatus)
    if not 0 < len(row.get("name")) <= 40:
        raise _bad(row, "name", "name is empty or longer than 40 characters")
    if len(row.get("notice")) > 80:
        raise _bad(row, "notice", "notice is longer than 80 characters")
    if len(row.get("verified")) > 400:
        raise _bad(row, "verified", "verified is longer than 400 characters")
    if status == YearStatus.OFFICIAL and not row.get("notice"):
        raise _bad(row, "notice", "an official year names its notice, e.g. 国办发明电〔2025〕7号")
    try:
        _check_day(day, kind)
    except Invalid as exc:
        raise _bad(row, exc.field or "date", exc.message) from None
    return day, kind


def _group_years(parsed: list[tuple[Row, dt.date, DayKind]], errors: list[FieldError]) -> list[YearSchedule]:
    """One schedule per year; every row of a year must agree on its status, notice and note."""
    heads: dict[int, Row] = {}
    days: dict[int, list[tuple[dt.date, DayKind, str]]] = {}
    for row, day, kind in parsed:
        head = heads.setdefault(day.year, row)
        if any(row.get(c) != head.get(c) for c in ("year_status", "notice", "verified")):
            message = f"year_status, notice and verified differ from line {head.line} of the same year {day.year}"
            errors.append(_row_error(row, "year_status", message))
        days.setdefault(day.year, []).append((day, kind, row.get("name")))
    return [
        YearSchedule(
            year=year,
            status=YearStatus(head.get("year_status")),
            notice=head.get("notice") or None,
            note=head.get("verified") or None,
            days=tuple(days[year]),
        )
        for year, head in sorted(heads.items())
    ]


def _replace_year(session: Session, schedule: YearSchedule) -> int:
    for row in session.scalars(select(CalendarDay).where(CalendarDay.day.between(*_year_bounds(schedule.year)))):
        session.delete(row)
    session.flush()  # the unique day index must be free before the new rows go in
    session.add_all(CalendarDay(day=d, kind=k, name=n, source=schedule.notice) for d, k, n in schedule.days)
    set_year(session, schedule.year, YearIn(status=schedule.status, notice=schedule.notice, note=schedule.note))
    return len(schedule.days)


def import_schedule(session: Session, data: bytes, filename: str) -> int:
    """An administrator's holiday file: every year in it replaces that year entirely."""
    return sum(_replace_year(session, s) for s in parse_schedule(data, filename))


def _seed_applies(session: Session, schedule: YearSchedule) -> bool:
    """The shipped data fills a year nobody has loaded, and upgrades a provisional year to an
    official one; it never overwrites what an administrator entered."""
    row = session.get(CalendarYear, schedule.year)
    return row is None or (row.status == YearStatus.PROVISIONAL and schedule.status == YearStatus.OFFICIAL)


def load_seed(session: Session) -> int:
    """Load the shipped holidays and default working hours; returns the rows written (0 when
    everything is already there)."""
    written = sum(
        _replace_year(session, s) for s in parse_schedule(SEED.read_bytes(), SEED.name) if _seed_applies(session, s)
    )
    if session.scalar(select(WorkingPeriod.id).limit(1)) is None:
        written += len(set_periods(session, DEFAULT_PERIODS))
    return written
