"""The working calendar: a year's holidays and 调休 working days; a city-level administrator adds
or removes a day (the calendar is one for the whole city)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service
from chengguan.calendar.models import DayKind
from chengguan.calendar.schemas import DayIn
from chengguan.calendar.service import MAX_YEAR, MIN_YEAR
from chengguan.db import utcnow
from chengguan.errors import ChengguanError, Invalid
from chengguan.web.admin_forms import admin_page, allowed, errors_of, may, optional, parsed, text, values_of
from chengguan.web.desk import Form
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser
from chengguan.web.routing import Rendered, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
WRITE = Permission.CALENDAR_WRITE


def _year_page(
    request: Request,
    session: Session,
    user: Principal,
    year: int,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    t = Translator(language_of(request))
    return admin_page(
        request,
        "admin/calendar.html",
        user,
        status=status,
        view=service.year_view(session, year),
        kinds=[(k.value, t(f"admin.calendar.kind.{k.value}")) for k in DayKind],
        can_edit=may(user, WRITE, citywide=True),
        values=values or {"kind": DayKind.HOLIDAY.value},
        errors=errors or {},
    )


@router.get("/admin/calendar")
def calendar_year(
    request: Request, session: DbSession, user: PageUser, year: int | None = Query(None, ge=MIN_YEAR, le=MAX_YEAR)
) -> Response:
    allowed(user, WRITE)
    return _year_page(request, session, user, year or _this_year(request))


def _this_year(request: Request) -> int:
    return utcnow().astimezone(request.app.state.settings.tz).year


def _date(form: Form) -> dt.date:
    try:
        return dt.date.fromisoformat(text(form, "date"))
    except ValueError:
        raise Invalid("date as YYYY-MM-DD / 日期格式应为 年-月-日，如 2026-10-01", field="date") from None


@router.post("/admin/calendar/days")
def put_day(request: Request, session: DbSession, user: PageUser, form: Form) -> Response:
    allowed(user, WRITE, citywide=True)
    day: dt.date | None = None
    try:
        day = _date(form)
        data = parsed(
            DayIn, {"kind": text(form, "kind"), "name": text(form, "name"), "source": optional(form, "source")}
        )
        service.put_day(session, day, data)
    except ChengguanError as exc:
        year = day.year if day and MIN_YEAR <= day.year <= MAX_YEAR else _this_year(request)
        errors = errors_of(exc, language_of(request))
        page = _year_page(request, session, user, year, values=values_of(form), errors=errors, status=exc.status)
        raise Rendered(page) from exc
    return redirect(request, f"/admin/calendar?year={day.year}#day-{day}")


@router.post("/admin/calendar/days/{day}/delete")
def delete_day(request: Request, day: dt.date, session: DbSession, user: PageUser) -> Response:
    """A form cannot send DELETE; the path names the day, as the API's ``DELETE /days/{date}``."""
    allowed(user, WRITE, citywide=True)
    service.delete_day(session, day)
    return redirect(request, f"/admin/calendar?year={day.year}")
