"""Reading events and any case's timeline and inbox. (Changing them is the work of intake,
dispatch and the workflow.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, union_all
from sqlalchemy.orm import Session

from chengguan.auth.models import User
from chengguan.auth.principal import Principal
from chengguan.cases import clock, workflow
from chengguan.cases.flow import Limit
from chengguan.cases.models import (
    EVENT_OPEN,
    CaseNode,
    CaseRequest,
    CaseStep,
    Clocked,
    Event,
    PenaltyCase,
)
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.schemas import NodeOut, PenaltyCaseIn
from chengguan.db import utcnow
from chengguan.errors import Invalid, NotFound
from chengguan.kit.workcal import WorkCalendar
from chengguan.legal import service as legal_service
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation


def get_event(session: Session, event_id: int, *, for_update: bool = False) -> Event:
    """``for_update``: lock the row until the transaction ends (PostgreSQL; SQLite has one
    writer anyway), so two actions on one event queue instead of both seeing the old state."""
    event = session.get(Event, event_id, with_for_update=for_update)
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


def nodes(
    session: Session,
    calendar: WorkCalendar,
    subject: str,
    case: Clocked,
    case_id: int,
    holder_id: int | None,
    now: dt.datetime,
) -> list[NodeOut]:
    """The nodes a case passed through, then its current one (held by ``holder_id``) with its
    light at ``now``."""
    rows = session.scalars(
        select(CaseNode).where(CaseNode.subject == subject, CaseNode.subject_id == case_id).order_by(CaseNode.id)
    )
    done = [
        NodeOut(
            state=n.state,
            holder_id=n.holder_id,
            entered_at=n.entered_at,
            left_at=n.left_at,
            due_at=n.due_at,
            working_hours=n.working_s / 3600,
            limit_hours=None if n.limit_s is None else n.limit_s / 3600,
            light=n.light,
            action=n.action,
        )
        for n in rows
    ]
    start = case.node_started()
    due = case.deadline_at
    light = clock.light_at(calendar, case, now)
    current = NodeOut(
        state=case.status,
        holder_id=holder_id,
        entered_at=start,
        left_at=None,
        due_at=due,
        working_hours=calendar.working_time_between(start, now).total_seconds() / 3600,
        limit_hours=None if due is None else calendar.working_time_between(start, due).total_seconds() / 3600,
        light=None if light is None else light.value,
        action=None,
    )
    return [*done, current]


def steps(session: Session, subject: str, case_id: int) -> list[CaseStep]:
    stmt = select(CaseStep).where(CaseStep.subject == subject, CaseStep.subject_id == case_id)
    return list(session.scalars(stmt.order_by(CaseStep.at, CaseStep.id)))


def requests(session: Session, subject: str, case_id: int) -> list[CaseRequest]:
    stmt = select(CaseRequest).where(CaseRequest.subject == subject, CaseRequest.subject_id == case_id)
    return list(session.scalars(stmt.order_by(CaseRequest.id)))


def get_request(session: Session, subject: str, case_id: int, request_id: int) -> CaseRequest:
    found = session.get(CaseRequest, request_id)
    if found is None or found.subject != subject or found.subject_id != case_id:
        raise NotFound(f"request {request_id} not found for this case", field="request_id")
    return found


def event_open(session: Session) -> ColumnElement[bool]:
    """Whether an event is open, written so that the partial indexes over the open rows serve it:
    the states as literals (``EVENT_OPEN``) and, on SQLite, marked likely. Without statistics
    (nothing runs ANALYZE) SQLite takes the states for a selective term, seeks the sweep's status
    index and reads every open row from the table: seconds over 500,000 events."""
    return func.likely(EVENT_OPEN) if session.get_bind().dialect.name == "sqlite" else EVENT_OPEN


def inbox(session: Session, org_path: str, *, limit: int = 100, offset: int = 0) -> tuple[list[Event], int]:
    """Open events held by the organisation at ``org_path`` or below it, the nearest deadline
    first (those with no running clock last). An event written in bulk has no holder yet: its
    dispatched unit holds it."""
    under = _under(org_path)
    # coalesce(holder, unit) as two disjoint parts, each a seek of its partial index
    # (ix_events_open_holder, ix_events_open_unheld); as one OR, SQLite seeks the scope's indexes
    # instead and reads the district's closed history too
    held = and_(event_open(session), Event.holder_id.is_not(None), Event.holder_id.in_(under))
    unheld = and_(event_open(session), Event.holder_id.is_(None), Event.unit_id.in_(under))
    return _by_deadline(session, Event, [held, unheld], limit, offset)


def penalty_inbox(
    session: Session, org_path: str, *, limit: int = 100, offset: int = 0
) -> tuple[list[PenaltyCase], int]:
    """Enforcement cases not yet final whose agency is the organisation at ``org_path`` or below it."""
    finals = [s.key for s in workflow.current_flow(session, PENALTY_FLOW).states.values() if s.final]
    live = and_(PenaltyCase.status.not_in(finals), PenaltyCase.agency_id.in_(_under(org_path)))
    return _by_deadline(session, PenaltyCase, [live], limit, offset)


def _under(org_path: str) -> Select[int]:
    return select(Organisation.id).where(Organisation.path.startswith(org_path))


def _by_deadline(
    session: Session, model: Any, parts: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[Any], int]:
    """The rows matching any of ``parts`` (disjoint conditions), a page of them by deadline."""
    keys = union_all(*(select(model.id, model.deadline_at).where(part) for part in parts)).subquery()
    total = session.scalar(select(func.count()).select_from(keys)) or 0
    # The page's ids first, then only its rows: counting and paging read (id, deadline) pairs, from
    # an index for events, not the thousands of whole rows behind the 50 shown.
    page = select(keys.c.id).order_by(keys.c.deadline_at.is_(None), keys.c.deadline_at, keys.c.id)
    rows = select(model).where(model.id.in_(page.limit(limit).offset(offset).scalar_subquery()))
    return list(session.scalars(rows.order_by(model.deadline_at.is_(None), model.deadline_at, model.id))), total


# -- enforcement cases ------------------------------------------------------------------------------


def get_penalty_case(session: Session, case_id: int, *, for_update: bool = False) -> PenaltyCase:
    case = session.get(PenaltyCase, case_id, with_for_update=for_update)
    if case is None:
        raise NotFound(f"enforcement case {case_id} not found / 案件不存在")
    return case


def list_penalty_cases(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[Sequence[PenaltyCase], int]:
    stmt = select(PenaltyCase)
    if status is not None:
        stmt = stmt.where(PenaltyCase.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.order_by(PenaltyCase.id.desc()).limit(limit).offset(offset)).all(), total


def party_key(data: PenaltyCaseIn) -> str:
    """Who the party is across cases: the ID or credit code, else the type and name."""
    if data.party_id_no:
        return f"id:{data.party_id_no.strip().upper()}"
    return f"{data.party_type}:{data.party_name.strip()}"


def _check_times(data: PenaltyCaseIn) -> None:
    for name in ("act_at", "act_end_at", "discovered_at"):
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
            raise Invalid("needs a time zone, e.g. 2026-05-01T09:30:00+08:00", field=name)
    if data.discovered_at < data.act_at:
        raise Invalid("the act cannot be discovered before it happened", field="discovered_at")


def create_penalty_case(
    session: Session, calendar: WorkCalendar, data: PenaltyCaseIn, principal: Principal, now: dt.datetime | None = None
) -> PenaltyCase:
    """A case at its first node (案件来源) from ``now``, its causes and agency checked; 立案 next."""
    _check_times(data)
    agency = session.get(Organisation, data.agency_id)
    if agency is None:
        raise NotFound(f"organisation {data.agency_id} not found / 单位不存在", field="agency_id")
    orgs_service.require_writable(session, agency)
    for i, facts in enumerate(data.causes):
        try:
            legal_service.get_cause(session, facts.cause_code)
        except NotFound as exc:
            raise NotFound(exc.message, field=f"causes.{i}.cause_code") from exc
    officers = list(dict.fromkeys([principal.user_id, *data.officers]))
    for i, user_id in enumerate(officers):
        if session.get(User, user_id, execution_options={"skip_scope": True}) is None:
            raise Invalid(f"user {user_id} not found", field=f"officers.{i}")
    case = PenaltyCase(
        agency_id=agency.id,
        org_id=data.org_id or agency.id,
        event_id=data.event_id,
        source=data.source,
        title=data.title,
        facts=data.facts,
        causes=[c.model_dump(exclude_none=True) for c in data.causes],
        circumstances=data.circumstances,
        party_type=data.party_type,
        party_name=data.party_name,
        party_id_no=data.party_id_no,
        party_key=party_key(data),
        party_address=data.party_address,
        party_phone=data.party_phone,
        act_at=data.act_at,
        act_end_at=data.act_end_at,
        discovered_at=data.discovered_at,
        serious_harm=data.serious_harm,
        officers=officers,
        supervision_count=0,
        rework_count=0,
    )
    flow = workflow.current_flow(session, PENALTY_FLOW)
    first = flow.state(flow.initial)
    limit = first.limit if isinstance(first.limit, Limit) else None
    clock.enter(calendar, case, first, holder_id=agency.id, limit=limit, due=None, at=now or utcnow())
    session.add(case)
    session.flush()
    return case
