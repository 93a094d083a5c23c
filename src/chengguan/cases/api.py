"""/api/events: the events a user's organisation sees (its area, or sent to its units)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases import service
from chengguan.cases.models import EventStatus
from chengguan.cases.schemas import EventOut
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(prefix="/api/events", tags=["events"])
READ = Depends(require(Permission.EVENT_READ))


@router.get("", response_model=Page[EventOut])
def list_events(
    session: DbSession,
    status: EventStatus | None = None,
    category_key: str | None = Query(None, max_length=8),
    unit_id: int | None = None,
    source: str | None = Query(None, max_length=32),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[EventOut]:
    rows, total = service.list_events(
        session,
        status=status,
        category_key=category_key,
        unit_id=unit_id,
        source=source,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return Page(items=[EventOut.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/{event_id}", response_model=EventOut)
def get_event(event_id: int, session: DbSession, _: Principal = READ) -> EventOut:
    return EventOut.model_validate(service.get_event(session, event_id))
