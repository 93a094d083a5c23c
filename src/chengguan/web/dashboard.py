"""The analysis dashboard (分析研判): the 三高 (hot times, hot types, hot places with the Gi*
hotspot map), 同比/环比, the ranking of streets, the three-colour warning board, forecast against
actual, the duty deployment, report against enforcement and the report downloads, drawn by
ECharts in ``static/dashboard.js``, each narrowed to the user's own area as in the API.

The browser holds a session cookie, not a bearer token for the API, so the page has its own data
routes under ``/dashboard/data/``: the metric registry of ``/api/analytics`` through
``/dashboard/data/<metric>``, and the decision-support analyses (:mod:`chengguan.analytics.support`)
through a route each, all run with the page user's scope. Reports are listed, generated and
downloaded under ``/dashboard/reports``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chengguan.analytics import forecast, report_store, support
from chengguan.analytics import service as analytics_service
from chengguan.analytics.api import REPORT_FORMAT, report_response
from chengguan.analytics.duty import Shift
from chengguan.analytics.metrics import Filters, Period, Result, Subject
from chengguan.analytics.reports import STREET_KINDS
from chengguan.analytics.schemas import MetricOut
from chengguan.analytics.volume import Grain, Split
from chengguan.auth.deps import DbSession
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.errors import Forbidden, Invalid
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy import service as taxonomy_service
from chengguan.web.desk import channel_names, org_names
from chengguan.web.i18n import Translator, language_of
from chengguan.web.pages import PageUser, needs, render
from chengguan.web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DEFAULT_DAYS = 30
ORG_DIMENSIONS = ("street", "district")  # their keys are organisation ids: the cards show names
HORIZON = 14  # days the forecast card looks ahead
REPORTS_LISTED = 50
# 勤务 in three shifts (早、中、夜) as most 城管 squads run them; the night shift past midnight
SHIFTS = (Shift("early", 6, 14), Shift("late", 14, 22), Shift("night", 22, 6))
DEFAULT_OFFICERS = 12  # per street, until staffing is data: the card's form changes it


@dataclass(frozen=True)
class Card:
    key: str  # the card's id and catalogue key (dashboard.card.<key>)
    wide: bool = False
    table: bool = False  # drawn as a table rather than a chart


CARDS = (
    Card("warnings", wide=True, table=True),
    Card("forecast", wide=True),
    Card("heatmap", wide=True),
    Card("hot_types"),
    Card("compare"),
    Card("hotspots", wide=True),
    Card("streets"),
    Card("day_kinds"),
    Card("versus", wide=True),
    Card("duty", table=True),
    Card("reports", table=True),
)

# The arguments each metric takes beyond the slice; anything else in the query is ignored.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "counts": ("by",),
    "top": ("by", "limit"),
    "hot_types": ("by", "limit"),
    "hotspots": ("band_m",),
    "compare": ("period", "at", "by"),
    "cube": ("type_by", "place_by", "time_by", "limit"),
}


DASHBOARD_WORDS = (
    "loading", "unavailable", "failed", "empty", "count", "share", "change", "previous", "current",
    "last_year", "mom", "yoy", "working", "rest", "per_day", "hot", "cold", "none",
    "area", "observed", "baseline", "green", "yellow", "red", "grey", "actual", "forecast", "model", "smape",
    "naive", "reports", "closed", "penalty_cases", "pressure", "outrun", "day", "expected", "period", "download",
    "all",
)  # fmt: skip
MODEL_NAMES = ("seasonal_naive", "poisson_regression", "ets")
PERIODS = tuple(p.value for p in Period)


def default_period(settings: Settings) -> tuple[dt.date, dt.date]:
    """The last 30 local days, today included (``end`` is inclusive in the form)."""
    today = dt.datetime.now(settings.tz).date()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def _config(session: Session, t: Translator) -> dict[str, Any]:
    rows, _ = taxonomy_service.list_categories(session, active=True, limit=10_000)
    return {
        "categories": {c.key: t.pick(c.name, c.name_en or "") for c in rows},
        "channels": channel_names(t),
        "words": {w: t(f"dashboard.js.{w}") for w in DASHBOARD_WORDS},
        "weekdays": t("dashboard.js.weekdays").split(","),
        "models": {m: t(f"dashboard.model.{m}") for m in MODEL_NAMES},
        "shifts": {s.name: t(f"dashboard.shift.{s.name}") for s in SHIFTS},
        "periods": {p: t(f"dashboard.period.{p}") for p in PERIODS},
    }


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: DbSession,
    user: PageUser,
    start: dt.date | None = None,
    end: dt.date | None = None,
    source: str | None = None,
) -> Response:
    needs(user, Permission.ANALYTICS_READ)
    t = Translator(language_of(request))
    first, last = default_period(request.app.state.settings)
    start, end = start or first, end or last
    config = _config(session, t)
    return render(
        request,
        "dashboard/dashboard.html",
        user,
        cards=CARDS,
        start=start,
        end=end,
        source=source or "",
        channels=config["channels"],
        periods=config["periods"],
        officers=DEFAULT_OFFICERS,
        config=config,
    )


# -- the slice every card takes -----------------------------------------------------------------


@dataclass(frozen=True)
class DashSlice:
    subject: Subject
    filters: Filters  # ``end`` exclusive, as the analytics take it
    last: dt.date  # the last day of the period (the form's inclusive end; today when none)


def dash_slice(
    request: Request,
    subject: Subject = Subject.REPORTS,
    start: dt.date | None = None,
    end: dt.date | None = Query(None, description="inclusive"),
    category: str | None = Query(None, max_length=32),
    source: str | None = Query(None, max_length=32),
) -> DashSlice:
    last = end or dt.datetime.now(request.app.state.settings.tz).date()
    until = None if end is None else end + dt.timedelta(days=1)
    filters = Filters(start=start, end=until, category=category or None, source=source or None)
    return DashSlice(subject, filters, last)


Slice = Annotated[DashSlice, Depends(dash_slice)]


def _own_area(user: Principal) -> str:
    """The path of the user's own area, which every card analyses (the dashboard has no area
    picker); a user without an organisation has none."""
    needs(user, Permission.ANALYTICS_READ)
    if user.scope.root_path is None:
        raise Forbidden("analyses need an organisation / 分析须属于某一单位", field="area")
    return user.scope.root_path


def _answer(session: Session, name: str, result: Result, ids: Iterable[object] = ()) -> Response:
    """A card's table, with ``names`` for the organisation ids among ``ids``."""
    names = org_names(session, [int(i) for i in ids if isinstance(i, int) or (isinstance(i, str) and i.isdigit())])
    body = {**MetricOut.of(name, result).model_dump(mode="json"), "names": names}
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=60"})


# -- the decision-support cards (declared before the metric route, which would take their names) --


@router.get("/dashboard/data/warnings")
def warning_board(
    request: Request,
    session: DbSession,
    user: PageUser,
    s: Slice,
    area_by: str = Query("street", description="district or street"),
    category_by: str = Query("major", description="major or category"),
) -> Response:
    """三色预警: every area × category of the user's area on the period's last day."""
    scope = (_own_area(user), None)
    split = Split(area_by, category_by)
    result = support.warnings(session, request.app.state.settings, scope, s.subject, s.filters, split, s.last)
    return _answer(session, "warnings", result, (r[0] for r in result.rows))


@router.get("/dashboard/data/forecast")
def forecast_against_actual(request: Request, session: DbSession, user: PageUser, s: Slice) -> Response:
    """The period's daily volume and the forecast of the ``HORIZON`` days after it, with the
    chosen model's backtest beside seasonal naive's (``meta.series['all/all']``)."""
    root = _own_area(user)
    settings: Settings = request.app.state.settings
    result = support.forecasts(
        session,
        settings,
        (root, None),
        s.subject,
        s.filters,
        Split(),
        s.last + dt.timedelta(days=1),
        HORIZON,
        Grain.DAY,
    )
    counted = analytics_service.analyse(session, settings, root, None, "counts", s.subject, s.filters, by="day")
    result = replace(result, meta={**result.meta, "actual": _every_day(dict(counted.rows), s)})
    return _answer(session, "forecast", result)


def _every_day(counts: dict[dt.date, int], s: DashSlice) -> list[list[object]]:
    """[day, count] for every day of the period, the days without a report too (the chart's axis
    is the days in order)."""
    first = s.filters.start or min(counts, default=s.last)
    days = (first + dt.timedelta(days=i) for i in range((s.last - first).days + 1))
    return [[d.isoformat(), counts.get(d, 0)] for d in days]


@router.get("/dashboard/data/duty")
def duty_deployment(
    request: Request,
    session: DbSession,
    user: PageUser,
    s: Slice,
    officers: int = Query(DEFAULT_OFFICERS, ge=len(SHIFTS), le=1000, description="on duty per area in the day"),
) -> Response:
    """勤务跟着高峰走: each area's officers shared among the shifts of the day after the period
    by its hourly forecast."""
    root = _own_area(user)
    level, areas = _duty_areas(session, root)
    result = support.deployment(
        session,
        request.app.state.settings,
        (root, None),
        s.subject,
        s.filters,
        level,
        s.last + dt.timedelta(days=1),
        1,
        {str(i): officers for i in areas},
        SHIFTS,
        1,
    )
    return _answer(session, "duty", result, areas)


def _duty_areas(session: Session, root: str) -> tuple[str, list[int]]:
    """The streets and towns of the user's own area or, where they are more than one request may
    forecast (a whole city's hundreds), its districts: each area is a model fit and backtest."""
    for level, kinds in (("street", STREET_KINDS), ("district", (OrgKind.DISTRICT,))):
        # the visible tree also holds the user's ancestors: only the areas under their own
        stmt = select(Organisation.id).where(Organisation.kind.in_(kinds), Organisation.path.startswith(root))
        areas = list(session.scalars(stmt.order_by(Organisation.path)))
        if len(areas) <= forecast.MAX_SERIES:
            return level, areas
    raise Invalid(f"more than {forecast.MAX_SERIES} districts / 区域过多", field="area")


@router.get("/dashboard/data/versus")
def report_against_enforcement(
    request: Request,
    session: DbSession,
    user: PageUser,
    s: Slice,
    area_by: str = Query("street", description="district or street"),
) -> Response:
    """Where complaints outrun action: reports against events closed and penalty cases opened."""
    scope = (_own_area(user), None)
    result = support.report_vs_enforcement(session, request.app.state.settings, scope, s.filters, area_by)
    return _answer(session, "report_vs_enforcement", result, (r[0] for r in result.rows))


# -- the metric registry ----------------------------------------------------------------------

# How each metric argument is read from the query string.
PARSERS: dict[str, Callable[[str], Any]] = {
    "by": str,
    "type_by": str,
    "place_by": str,
    "time_by": str,
    "limit": int,
    "band_m": float,
    "period": Period,
    "at": dt.date.fromisoformat,
}


def _arguments(metric: str, query: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ARGUMENTS.get(metric, ()):
        if query.get(name):
            try:
                out[name] = PARSERS[name](query[name])
            except ValueError:
                raise Invalid(f"{name} {query[name]!r} is not valid / 参数不正确", field=name) from None
    return out


@router.get("/dashboard/data/{metric}")
def metric_data(request: Request, metric: str, session: DbSession, user: PageUser, s: Slice) -> Response:
    """One metric over the user's area, as ``/api/analytics`` answers it, plus ``names`` for
    organisation ids when it is split by street or district."""
    root = _own_area(user)
    arguments = _arguments(metric, dict(request.query_params))
    result = analytics_service.analyse(
        session, request.app.state.settings, root, None, metric, s.subject, s.filters, **arguments
    )
    ids = (r[0] for r in result.rows) if arguments.get("by") in ORG_DIMENSIONS else ()
    return _answer(session, metric, result, ids)


# -- report downloads -------------------------------------------------------------------------


@router.get("/dashboard/reports")
def stored_reports(request: Request, user: PageUser) -> Response:
    """The newest stored standard reports of the user's area."""
    found = report_store.listing(request.app.state.settings, _own_area(user))[:REPORTS_LISTED]
    return JSONResponse(jsonable_encoder(found))


@router.get("/dashboard/reports/generate")
def generated_report(
    request: Request,
    session: DbSession,
    user: PageUser,
    at: dt.date,
    period: Period = Period.WEEK,
    fmt: str = REPORT_FORMAT,
) -> Response:
    """The report of the period around ``at`` for the user's area, made now from the lake."""
    settings: Settings = request.app.state.settings
    report = report_store.generate(session, settings, _own_area(user), None, period, at)
    return report_response(report, fmt, settings)


@router.get("/dashboard/reports/{key}")
def stored_report(request: Request, user: PageUser, key: str, fmt: str = REPORT_FORMAT) -> Response:
    settings: Settings = request.app.state.settings
    return report_response(report_store.load(settings, key, _own_area(user)), fmt, settings)
