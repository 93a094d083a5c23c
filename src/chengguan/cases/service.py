"""Reading events. (Changing them is the work of intake, dispatch and the workflow.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.cases.models import Event
from chengguan.errors import NotFound


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


def list_events(
    session: Session,
    *,
    status: str | None = None,
    category_key: str | None = None,
    unit_id: int | None = None,
    source: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Event], int]:
    """Newest first; filters combine."""
    stmt = select(Event)
    for column, value in (
        (Event.status, status),
        (Event.category_key, category_key),
        (Event.unit_id, unit_id),
        (Event.source, source),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(Event.first_reported_at >= since)
    if until is not None:
        stmt = stmt.where(Event.first_reported_at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Event.first_reported_at.desc(), Event.id.desc()).limit(limit).offset(offset))
    return rows.all(), total
