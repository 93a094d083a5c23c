"""The dispatcher's desk: dispatch or re-dispatch an event, its dispatch history, the 会商 queue."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.cases import service as cases_service
from chengguan.cases import workflow
from chengguan.cases.schemas import EventOut
from chengguan.dispatch import assign
from chengguan.dispatch.flow import EVENT_FLOW
from chengguan.dispatch.models import ConsultationStatus, DispatchRecord
from chengguan.errors import Conflict, Invalid
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(tags=["dispatch"])
READ = Depends(require(Permission.EVENT_READ))
DISPATCH = Depends(require(Permission.DISPATCH))


class DispatchIn(BaseModel):
    unit_id: int | None = Field(None, description="send to this unit; omit to dispatch by the responsibility list")
    reason: str | None = Field(None, min_length=2, max_length=500, description="required with unit_id")


class ResolveIn(BaseModel):
    unit_id: int
    note: str = Field(min_length=2, max_length=500)


class DispatchRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None = Field(description="null for an event's first automatic dispatch while it lives on the event row")
    event_id: int
    unit_id: int
    category_key: str | None
    rule_id: int | None
    row_no: int | None
    basis: str | None
    reason: str
    deadline_at: dt.datetime | None
    automatic: bool
    replaced_unit_id: int | None
    override_reason: str | None
    actor_id: int | None
    at: dt.datetime


class ConsultationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    org_id: int
    centre_id: int | None
    candidate_ids: list[int]
    reason: str
    status: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_unit_id: int | None
    resolution_note: str | None


@router.get("/api/events/{event_id}/dispatches", response_model=list[DispatchRecordOut])
def dispatch_history(event_id: int, session: DbSession, _: Principal = READ) -> list[DispatchRecordOut]:
    event = cases_service.get_event(session, event_id)
    return [DispatchRecordOut.model_validate(r) for r in assign.history(session, event)]


@router.post("/api/events/{event_id}/dispatch", response_model=EventOut)
def dispatch_event(event_id: int, body: DispatchIn, session: DbSession, principal: Principal = DISPATCH) -> EventOut:
    """The event flow's 派遣 (by the list) or 指定派遣 (to a unit, with the reason)."""
    event = cases_service.get_event(session, event_id, for_update=True)
    if body.unit_id is None:
        workflow.take(session, EVENT_FLOW, event, "dispatch", principal)
    else:
        if body.reason is None:
            raise Invalid("say why the list's choice is overridden / 请说明改派原因", field="reason")
        workflow.take(session, EVENT_FLOW, event, "assign", principal, {"unit_id": body.unit_id, "reason": body.reason})
    return EventOut.model_validate(event)


@router.get("/api/consultations", response_model=Page[ConsultationOut])
def consultations(
    session: DbSession,
    status: ConsultationStatus | None = ConsultationStatus.OPEN,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = READ,
) -> Page[ConsultationOut]:
    rows, total = assign.list_consultations(session, status=status, limit=limit, offset=offset)
    return Page(items=[ConsultationOut.model_validate(c) for c in rows], total=total, limit=limit, offset=offset)


@router.post("/api/consultations/{consultation_id}/resolve", response_model=DispatchRecordOut)
def resolve(
    consultation_id: int, body: ResolveIn, session: DbSession, principal: Principal = DISPATCH
) -> DispatchRecordOut:
    consultation = assign.get_consultation(session, consultation_id)
    if consultation.status != ConsultationStatus.OPEN:
        raise Conflict("this consultation is already settled", field="status")
    event = cases_service.get_event(session, consultation.event_id, for_update=True)
    values = {"unit_id": body.unit_id, "reason": f"会商决定: {body.note}"}
    workflow.take(session, EVENT_FLOW, event, "assign", principal, values)
    record = session.scalars(
        select(DispatchRecord).where(DispatchRecord.event_id == event.id).order_by(DispatchRecord.id.desc())
    ).first()
    return DispatchRecordOut.model_validate(record)
