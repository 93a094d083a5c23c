"""/api/analytics: the 三高 analyses, 同比/环比 and the cube, answered from the lake.

Every endpoint takes the same slice (period, area, category, source, reports or events); the area
is narrowed to the caller's own organisation subtree (``service.scoped_area``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query

from chengguan.analytics import metrics, service
from chengguan.analytics.metrics import Filters, Period, Subject
from chengguan.analytics.schemas import MetricInfo, MetricOut
from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings

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
