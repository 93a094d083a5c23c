"""/api/calendar: holidays and 调休 days per year, working hours, and deadline arithmetic."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service
from chengguan.calendar.schemas import DayIn, DayOut, DeadlineOut, PeriodIO, WorkingHoursIO, YearIn, YearOut
from chengguan.kit.workcal import Period, Unit

router = APIRouter(prefix="/api/calendar", tags=["calendar"])
READ = Depends(require(Permission.REFERENCE_READ))
WRITE = Depends(require(Permission.CALENDAR_WRITE, citywide=True))
MAX_AMOUNT = 10_000  # keeps every result inside the representable dates


def _hours_out(periods: list[Period]) -> WorkingHoursIO:
    return WorkingHoursIO(periods=[PeriodIO(start=p.start, end=p.end) for p in periods])


@router.get("/working-hours", response_model=WorkingHoursIO)
def get_working_hours(session: DbSession, _: Principal = READ) -> WorkingHoursIO:
    return _hours_out(service.get_periods(session))


@router.put("/working-hours", response_model=WorkingHoursIO)
def put_working_hours(body: WorkingHoursIO, session: DbSession, _: Principal = WRITE) -> WorkingHoursIO:
    return _hours_out(service.set_periods(session, [Period(p.start, p.end) for p in body.periods]))


@router.get("/deadline", response_model=DeadlineOut, summary="When a time limit runs out")
def get_deadline(
    session: DbSession,
    start: dt.datetime = Query(description="ISO 8601 with offset, e.g. 2026-02-12T10:00:00+08:00"),
    amount: float = Query(gt=0, le=MAX_AMOUNT),
    unit: Unit = Query(),
    _: Principal = READ,
) -> DeadlineOut:
    return service.explain_deadline(session, start, amount, unit)


@router.put("/days/{date}", response_model=DayOut)
def put_day(date: dt.date, body: DayIn, session: DbSession, _: Principal = WRITE) -> DayOut:
    return DayOut.model_validate(service.put_day(session, date, body))


@router.delete("/days/{date}", status_code=204)
def delete_day(date: dt.date, session: DbSession, _: Principal = WRITE) -> None:
    service.delete_day(session, date)


@router.put("/years/{year}", response_model=YearOut, summary="Mark a year's schedule official or provisional")
def put_year(year: int, body: YearIn, session: DbSession, _: Principal = WRITE) -> YearOut:
    service.set_year(session, year, body)
    return _year_out(session, year)


@router.delete("/years/{year}", status_code=204, summary="Remove a year's schedule and all its entries")
def delete_year(year: int, session: DbSession, _: Principal = WRITE) -> None:
    service.delete_year(session, year)


@router.get("/{year}", response_model=YearOut, summary="Every holiday and make-up working day of a year")
def get_year(year: int, session: DbSession, _: Principal = READ) -> YearOut:
    return _year_out(session, year)


def _year_out(session: Session, year: int) -> YearOut:
    view = service.year_view(session, year)
    return YearOut(
        year=view.year,
        status=view.status,
        notice=view.notice,
        note=view.note,
        revision=service.revision(session),
        days=[DayOut.model_validate(d) for d in view.days],
    )
