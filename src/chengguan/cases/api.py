"""/api/events: the events a user's organisation sees (its area, or sent to its units);
/api/penalty-cases: the enforcement cases, with the flow's routes."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.calendar import service as calendar_service
from chengguan.cases import service
from chengguan.cases.flow_routes import flow_router
from chengguan.cases.models import EventStatus
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import EventOut, PenaltyCaseIn, PenaltyCaseOut
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


penalty_router = APIRouter(prefix="/api/penalty-cases", tags=["penalty cases"])
PENALTY_READ = Depends(require(Permission.PENALTY_READ))


@penalty_router.post("", response_model=PenaltyCaseOut, status_code=201)
def create_penalty_case(
    body: PenaltyCaseIn, session: DbSession, principal: Principal = Depends(require(Permission.PENALTY_CREATE))
) -> PenaltyCaseOut:
    calendar = calendar_service.get_calendar(session)
    return PenaltyCaseOut.model_validate(service.create_penalty_case(session, calendar, body, principal))


@penalty_router.get("", response_model=Page[PenaltyCaseOut])
def list_penalty_cases(
    session: DbSession,
    status: str | None = Query(None, max_length=16),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = PENALTY_READ,
) -> Page[PenaltyCaseOut]:
    rows, total = service.list_penalty_cases(session, status=status, limit=limit, offset=offset)
    return Page(items=[PenaltyCaseOut.model_validate(c) for c in rows], total=total, limit=limit, offset=offset)


@penalty_router.get("/inbox", response_model=Page[PenaltyCaseOut])
def penalty_inbox(
    session: DbSession,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    principal: Principal = PENALTY_READ,
) -> Page[PenaltyCaseOut]:
    """Cases my organisation (or one below it) handles, the nearest deadline first."""
    if principal.org_path is None:
        return Page(items=[], total=0, limit=limit, offset=offset)
    rows, total = service.penalty_inbox(session, principal.org_path, limit=limit, offset=offset)
    return Page(items=[PenaltyCaseOut.model_validate(c) for c in rows], total=total, limit=limit, offset=offset)


@penalty_router.get("/{case_id}", response_model=PenaltyCaseOut)
def get_penalty_case(case_id: int, session: DbSession, _: Principal = PENALTY_READ) -> PenaltyCaseOut:
    return PenaltyCaseOut.model_validate(service.get_penalty_case(session, case_id))


penalty_router.include_router(
    flow_router(
        "",
        PENALTY_FLOW,
        lambda session, case_id, lock: service.get_penalty_case(session, case_id, for_update=lock),
        Permission.PENALTY_READ,
        "penalty cases",
    )
)
