"""Analyses for a user: the slice they ask for, narrowed to their own organisation's area."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from chengguan.analytics import metrics
from chengguan.analytics.engines import open_engine
from chengguan.analytics.metrics import Filters, Result, Subject
from chengguan.config import Settings
from chengguan.errors import Forbidden
from chengguan.orgs import service as orgs_service


def scoped_area(session: Session, scope_root: str | None, area_id: int | None) -> str:
    """The area path a user may analyse: the requested organisation's subtree, which must lie inside
    their own (an organisation above theirs is visible to them, but its figures are not), or, when
    none is asked for, their own subtree."""
    if scope_root is None:
        raise Forbidden("analyses need an organisation / 分析须属于某一单位", field="area")
    if area_id is None:
        return scope_root
    path = orgs_service.get(session, area_id).path  # NotFound outside the visible tree
    if not path.startswith(scope_root):
        raise Forbidden("outside your organisation's area / 超出本单位辖区", field="area")
    return path


def analyse(
    session: Session,
    settings: Settings,
    scope_root: str | None,
    area_id: int | None,
    metric: str,
    subject: Subject,
    filters: Filters,
    **arguments: Any,
) -> Result:
    """Run one metric on the embedded engine over the user's part of the lake."""
    scoped = replace(filters, area_path=scoped_area(session, scope_root, area_id))
    engine = open_engine("duckdb", settings.lake_path)
    try:
        return metrics.run(engine, metric, subject, filters=scoped, **arguments)
    finally:
        engine.close()
