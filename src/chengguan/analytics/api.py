"""/api/analytics: the 三高 analyses, 同比/环比 and the cube, answered from the lake.

Every endpoint takes the same slice (period, area, category, source, reports or events); the area
is narrowed to the caller's own organisation subtree (``service.scoped_area``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from chengguan.analytics import duty, forecast, metrics, report_store, service, support, thresholds
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.analytics.reports import Report
from chengguan.analytics.schemas import DutyIn, MetricInfo, MetricOut, ThresholdIn, ThresholdOut
from chengguan.analytics.situation import Thresholds
from chengguan.analytics.volume import Grain, Split
from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.errors import Forbidden
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
READ = Depends(require(Permission.ANALYTICS_READ))


@dataclass(frozen=True)
class Slice:
    subject: Subject
    area: int | None
    filters: Filters


def slice_params(
    subject: Subject = Query(Subject.REPORTS, description="reports (every submission) or events (after merging)"),
    start: dt.date | None = Query(None, description="first local day (inclusive)"),
    end: dt.date | None = Query(None, description="end local day (exclusive)"),
    area: int | None = Query(None, description="organisation id: its subtree (default: your own)"),
    category: str | None = Query(None, max_length=32, description="a 大类 or 小类 key"),
    source: str | None = Query(None, max_length=32, description="a channel, e.g. hotline"),
) -> Slice:
    return Slice(subject, area, Filters(start=start, end=end, category=category, source=source))


SLICE = Depends(slice_params)


def _answer(
    session: DbSession, settings: Settings, principal: Principal, metric: str, s: Slice, **arguments: Any
) -> MetricOut:
    result = service.analyse(
        session, settings, principal.scope.root_path, s.area, metric, s.subject, s.filters, **arguments
    )
    return MetricOut.of(metric, result)


@router.get("/metrics", response_model=list[MetricInfo], summary="The registered metrics")
def list_metrics(_: Principal = READ) -> list[MetricInfo]:
    return [MetricInfo(name=m.name, title=m.title) for m in metrics.REGISTRY.values()]


@router.get("/counts/{by}", response_model=MetricOut, summary="Volume by one dimension")
def get_counts(
    by: str,
    session: DbSession,
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(session, settings, principal, "counts", s, by=by)


@router.get("/heatmap", response_model=MetricOut, summary="Hot times: weekday × hour")
def get_heatmap(
    session: DbSession, s: Slice = SLICE, settings: Settings = Depends(get_settings), principal: Principal = READ
) -> MetricOut:
    return _answer(session, settings, principal, "heatmap", s)


@router.get("/day-kinds", response_model=MetricOut, summary="Hot times: working days vs rest days")
def get_day_kinds(
    session: DbSession, s: Slice = SLICE, settings: Settings = Depends(get_settings), principal: Principal = READ
) -> MetricOut:
    return _answer(session, settings, principal, "day_kinds", s)


@router.get("/top/{by}", response_model=MetricOut, summary="Hot places (or anything): the top N")
def get_top(
    by: str,
    session: DbSession,
    limit: int = Query(10, ge=1, le=metrics.MAX_TOP),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(session, settings, principal, "top", s, by=by, limit=limit)


@router.get("/hotspots", response_model=MetricOut, summary="Hot places: Getis-Ord Gi* on unit grid cells")
def get_hotspots(
    session: DbSession,
    band_m: float | None = Query(
        None, gt=0, description="distance band in metres (default: every cell has a neighbour)"
    ),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(session, settings, principal, "hotspots", s, band_m=band_m)


@router.get("/hot-types", response_model=MetricOut, summary="Hot types: top N with share and change")
def get_hot_types(
    session: DbSession,
    by: str = Query("category", description="category (小类) or major (大类)"),
    limit: int = Query(10, ge=1, le=metrics.MAX_TOP),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(session, settings, principal, "hot_types", s, by=by, limit=limit)


@router.get("/cube", response_model=MetricOut, summary="Type × place × time, ranked")
def get_cube(
    session: DbSession,
    type_by: str = Query("category"),
    place_by: str = Query("cell"),
    time_by: str = Query("hour"),
    limit: int = Query(metrics.MAX_TOP, ge=1, le=metrics.MAX_TOP),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(
        session, settings, principal, "cube", s, type_by=type_by, place_by=place_by, time_by=time_by, limit=limit
    )


@router.get("/compare", response_model=MetricOut, summary="同比/环比 of a slice")
def get_compare(
    session: DbSession,
    period: Period = Query(Period.MONTH),
    at: dt.date = Query(description="a day inside the period to compare"),
    by: str | None = Query(None, description="split by a dimension, e.g. major"),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    return _answer(session, settings, principal, "compare", s, period=period, at=at, by=by)


# -- analysis reports (日报、周报、月报、季报、年报; a street's 体检报告) -------------------------------

REPORT_FORMAT = Query("html", alias="format", pattern="^(html|pdf|xlsx)$", description="html, pdf or xlsx")


def report_response(report: Report, fmt: str, settings: Settings) -> Response:
    body = report_store.render(report, fmt, settings)
    disposition = report_store.disposition(report, fmt)
    return Response(body, media_type=report_store.MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


def _scope_root(principal: Principal) -> str:
    if principal.scope.root_path is None:
        raise Forbidden("reports need an organisation / 分析报告须属于某一单位", field="area")
    return principal.scope.root_path


@router.get("/reports/generate", summary="An analysis report of a period and area, made now from the lake")
def generate_report(
    session: DbSession,
    period: Period = Query(Period.WEEK),
    at: dt.date = Query(description="a day inside the period (the week runs Monday to Sunday)"),
    area: int | None = Query(None, description="organisation id: its subtree (default: your own)"),
    fmt: str = REPORT_FORMAT,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> Response:
    report = report_store.generate(session, settings, principal.scope.root_path, area, period, at)
    return report_response(report, fmt, settings)


@router.get("/reports", response_model=Page[report_store.Stored], summary="The stored standard reports")
def list_reports(
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> Page[report_store.Stored]:
    found = report_store.listing(settings, _scope_root(principal))
    return Page(items=found[offset : offset + limit], total=len(found), limit=limit, offset=offset)


@router.get("/reports/{key}", summary="Download a stored report")
def get_report(
    key: str,
    fmt: str = REPORT_FORMAT,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> Response:
    return report_response(report_store.load(settings, key, _scope_root(principal)), fmt, settings)


# -- decision support: warnings, report vs enforcement, forecasts, duty -----------------------

WRITE_SETTINGS = Depends(require(Permission.ANALYTICS_WRITE, citywide=True))


def _scope(principal: Principal, s: Slice) -> tuple[str | None, int | None]:
    return principal.scope.root_path, s.area


@router.get("/warnings", response_model=MetricOut, summary="Three-colour warning per area and category")
def get_warnings(
    session: DbSession,
    day: dt.date = Query(description="the day to judge against its seasonal baseline"),
    area_by: str | None = Query(None, description="district or street (default: the slice whole)"),
    category_by: str | None = Query(None, description="major or category (default: all categories)"),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    split = Split(area_by, category_by)
    result = support.warnings(session, settings, _scope(principal, s), s.subject, s.filters, split, day)
    return MetricOut.of("warnings", result)


@router.get("/warning-thresholds", response_model=list[ThresholdOut], summary="The warning thresholds")
def list_thresholds(session: DbSession, _: Principal = READ) -> list[ThresholdOut]:
    return [ThresholdOut.model_validate(row) for row in thresholds.list_all(session)]


@router.put("/warning-thresholds", response_model=ThresholdOut, summary="Set an area and category's thresholds")
def put_threshold(body: ThresholdIn, session: DbSession, _: Principal = WRITE_SETTINGS) -> ThresholdOut:
    values = Thresholds(body.yellow_z, body.red_z, body.min_count, body.baseline_weeks)
    return ThresholdOut.model_validate(thresholds.put(session, body.org_id, body.category_key, values))


@router.delete("/warning-thresholds/{threshold_id}", status_code=204, summary="Remove a threshold row")
def delete_threshold(threshold_id: int, session: DbSession, _: Principal = WRITE_SETTINGS) -> Response:
    thresholds.delete(session, threshold_id)
    return Response(status_code=204)


@router.get("/report-vs-enforcement", response_model=MetricOut, summary="Where complaints outrun action")
def get_report_vs_enforcement(
    session: DbSession,
    area_by: str = Query("street", description="district or street"),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    result = support.report_vs_enforcement(session, settings, _scope(principal, s), s.filters, area_by)
    return MetricOut.of("report_vs_enforcement", result)


@router.get("/forecast", response_model=MetricOut, summary="Daily or hourly volume forecast, model chosen by backtest")
def get_forecast(
    session: DbSession,
    today: dt.date = Query(description="the first day forecast; the history ends the day before"),
    horizon: int = Query(14, ge=1, le=forecast.MAX_HORIZON),
    grain: Grain = Query(Grain.DAY),
    area_by: str | None = Query(None, description="district or street (default: the slice whole)"),
    category_by: str | None = Query(None, description="major or category (default: all categories)"),
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    split = Split(area_by, category_by)
    result = support.forecasts(
        session, settings, _scope(principal, s), s.subject, s.filters, split, today, horizon, grain
    )
    return MetricOut.of("forecast", result)


@router.post("/duty", response_model=MetricOut, summary="Officers per area per shift from the forecast")
def post_duty(
    body: DutyIn,
    session: DbSession,
    s: Slice = SLICE,
    settings: Settings = Depends(get_settings),
    principal: Principal = READ,
) -> MetricOut:
    shifts = [duty.Shift(x.name, x.start, x.end) for x in body.shifts]
    result = support.deployment(
        session,
        settings,
        _scope(principal, s),
        s.subject,
        s.filters,
        body.area_by,
        body.start,
        body.days,
        body.officers,
        shifts,
        body.minimum,
    )
    return MetricOut.of("duty", result)
