"""/api/intake: reports from every channel (single and batch, idempotent), attachments, and the
clerk's queue of reports that need a person."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from chengguan.auth.deps import DbSession, get_settings, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.config import Settings
from chengguan.errors import ChengguanError, Invalid
from chengguan.intake import pipeline, service
from chengguan.intake.channels import CHANNELS
from chengguan.intake.model_store import active_classifier
from chengguan.intake.models import PendingReason
from chengguan.intake.schemas import BatchIn, BatchOut, ItemError, ReportIn, ReportOutcome
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(prefix="/api/intake", tags=["intake"])
CREATE = Depends(require(Permission.REPORT_CREATE))
REVIEW = Depends(require(Permission.REPORT_REVIEW))


class ChannelOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    crs: str
    needs_external_id: bool


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    external_id: str | None
    status: str
    pending_reasons: list[str]
    event_id: int | None
    title: str
    description: str
    submitted_at: dt.datetime
    received_at: dt.datetime
    lon: float | None
    lat: float | None
    address: str | None
    org_id: int
    category_key: str | None
    category_source: str | None
    category_probability: float | None
    category_top3: list[tuple[str, float]] | None
    dedup_score: float | None
    dedup_reason: str | None


class DecisionIn(BaseModel):
    action: Literal["new", "merge", "reject"]
    category_key: str | None = Field(None, max_length=8, description="for 'new': the 小类")
    lon: float | None = Field(None, ge=-180, le=180, description="for 'new': where, if the report had no place")
    lat: float | None = Field(None, ge=-90, le=90)
    event_id: int | None = Field(None, description="for 'merge': the open event it repeats")
    reason: str | None = Field(None, max_length=300, description="for 'reject'")


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sha256: str
    size: int
    content_type: str
    filename: str | None


def _context(session: Session, settings: Settings, principal: Principal) -> pipeline.Context:
    # A clerk's unplaced report waits in the clerk's own queue; anyone else's at the city hotline.
    receiver = principal.org_id if principal.can(Permission.REPORT_REVIEW) else None
    return pipeline.context(
        session,
        classifier=active_classifier(settings),
        auto_dispatch=settings.auto_dispatch,
        receiver_org_id=receiver,
    )


def _refusal(refusal: pipeline.Refusal) -> ChengguanError:
    return ChengguanError(refusal.error.message, status=refusal.status, field=refusal.error.field)


@router.get("/channels", response_model=list[ChannelOut], summary="The registry of intake channels")
def channels(_: Principal = CREATE) -> list[ChannelOut]:
    return [
        ChannelOut(code=c.code, name_zh=c.name_zh, name_en=c.name_en, crs=c.crs, needs_external_id=c.needs_external_id)
        for c in CHANNELS.values()
    ]


@router.post(
    "/reports",
    response_model=ReportOutcome,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already received: the earlier outcome, nothing new made"}},
)
def submit(
    body: ReportIn,
    response: Response,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    principal: Principal = CREATE,
) -> ReportOutcome:
    outcomes, refused = service.submit(
        session, [body], _context(session, settings, principal), reporter_user_id=principal.user_id
    )
    if refused:
        raise _refusal(refused[0])
    result = outcomes[0]
    assert result is not None
    if result.repeated:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/reports/batch", response_model=BatchOut, summary="Up to 1,000 reports; the valid ones are all taken")
def submit_batch(
    body: BatchIn, session: DbSession, settings: Settings = Depends(get_settings), principal: Principal = CREATE
) -> BatchOut:
    outcomes, refused = service.submit(
        session, body.reports, _context(session, settings, principal), reporter_user_id=principal.user_id
    )
    errors = [ItemError(index=r.index, field=r.error.field, message=r.error.message) for r in refused]
    return BatchOut(outcomes=outcomes, errors=errors)


@router.get("/reports/{report_id}", response_model=ReportOutcome)
def get_outcome(report_id: int, session: DbSession, _: Principal = REVIEW) -> ReportOutcome:
    return service.outcome(session, service.get_report(session, report_id))


@router.post("/reports/{report_id}/attachments", response_model=AttachmentOut, status_code=201)
def attach(
    report_id: int,
    file: UploadFile,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    principal: Principal = CREATE,
) -> AttachmentOut:
    report = service.report_of_submitter(session, report_id, principal.user_id)
    return AttachmentOut.model_validate(service.add_attachment(session, settings, report, file.file, file.filename))


@router.get("/queue", response_model=Page[ReportOut], summary="The clerk's queue: reports that need a person")
def queue(
    session: DbSession,
    reason: PendingReason | None = Query(None, description="only the reports waiting for this"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = REVIEW,
) -> Page[ReportOut]:
    rows, total = service.pending(session, reason=reason, limit=limit, offset=offset)
    return Page(items=[ReportOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/reports/{report_id}/decision", response_model=ReportOutcome)
def decide(
    report_id: int,
    body: DecisionIn,
    session: DbSession,
    settings: Settings = Depends(get_settings),
    principal: Principal = REVIEW,
) -> ReportOutcome:
    report = service.get_report(session, report_id)
    if body.action == "new":
        if not body.category_key:
            raise Invalid("name the 小类 of the new event / 请选择小类", field="category_key")
        service.accept_as_new(
            session,
            report,
            _context(session, settings, principal),
            category_key=body.category_key,
            lon=body.lon,
            lat=body.lat,
            actor_id=principal.user_id,
        )
    elif body.action == "merge":
        if body.event_id is None:
            raise Invalid("name the event it repeats / 请指定合并到的事件", field="event_id")
        service.merge_into(session, report, body.event_id, actor_id=principal.user_id)
    else:
        if not body.reason:
            raise Invalid("say why it is rejected / 请说明不予受理的原因", field="reason")
        service.reject(session, report, body.reason)
    return service.outcome(session, report)


@router.get("/events/{event_id}/reports", response_model=list[ReportOut], summary="The reports merged into an event")
def event_reports(
    event_id: int, session: DbSession, _: Principal = Depends(require(Permission.EVENT_READ))
) -> list[ReportOut]:
    return [ReportOut.model_validate(r) for r in service.reports_of_event(session, event_id)]
