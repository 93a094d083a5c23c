"""Reports in and out: submitting through the pipeline, the clerk's queue and decisions,
attachments, and the outcome a caller reads back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from chengguan.cases.models import Event, EventStatus, event_number
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.dispatch import assign
from chengguan.dispatch.models import Consultation, ConsultationStatus
from chengguan.dispatch.planning import DispatchPlan
from chengguan.dispatch.resolver import rulebook
from chengguan.errors import Conflict, Invalid, NotFound
from chengguan.evidence.storage import blob_store as evidence_store
from chengguan.evidence.storage import store_upload
from chengguan.intake import dedup, pipeline
from chengguan.intake.models import Attachment, DuplicateSuggestion, PendingReason, Report, ReportStatus
from chengguan.intake.places import place_book
from chengguan.intake.schemas import (
    CategoryOut,
    DispatchOut,
    DuplicateOut,
    LocationOut,
    ReportOutcome,
    UnitOut,
)

MAX_ATTACHMENTS = 9


# -- outcomes ------------------------------------------------------------------------------------


def outcome(session: Session, report: Report) -> ReportOutcome:
    """What happened to a report, read back from the store (also for a repeated submission)."""
    event = session.get(Event, report.event_id, execution_options={"skip_scope": True}) if report.event_id else None
    suggestions = session.scalars(
        select(DuplicateSuggestion)
        .where(DuplicateSuggestion.report_id == report.id)
        .order_by(DuplicateSuggestion.score.desc())
    ).all()
    return ReportOutcome(
        report_id=report.id,
        status=report.status,
        event_id=event.id if event else None,
        event_number=event.number if event else None,
        merged=report.status == ReportStatus.MERGED,
        pending_reasons=list(report.pending_reasons or []),
        category=CategoryOut(
            key=report.category_key,
            source=report.category_source,
            probability=report.category_probability,
            top3=[(str(k), float(p)) for k, p in report.category_top3] if report.category_top3 else None,
        ),
        location=LocationOut(
            lon=report.lon,
            lat=report.lat,
            source=report.location_source,
            cell_code=_cell_code(session, report.cell_id),
            area_class=event.area_class if event else None,
            org_id=report.org_id,
        ),
        duplicate=(
            DuplicateOut(event_id=event.id, score=report.dedup_score or 0.0, reason=report.dedup_reason or "")
            if event and report.status == ReportStatus.MERGED
            else None
        ),
        suggestions=[DuplicateOut(event_id=s.event_id, score=s.score, reason=s.reason) for s in suggestions],
        dispatch=_dispatch_out(session, event) if event else None,
    )


def _cell_code(session: Session, cell_id: int | None) -> str | None:
    if cell_id is None:
        return None
    return place_book(session).code_of(cell_id)


def _dispatch_out(session: Session, event: Event) -> DispatchOut | None:
    if event.status not in (EventStatus.DISPATCHED, EventStatus.CONSULTATION):
        return None
    unit_id = event.unit_id
    if event.status == EventStatus.CONSULTATION:  # the centre holding the 会商
        unit_id = session.scalar(
            select(Consultation.centre_id).where(
                Consultation.event_id == event.id, Consultation.status == ConsultationStatus.OPEN
            ),
            execution_options={"skip_scope": True},
        )
    unit = rulebook(session).orgs.get(unit_id) if unit_id else None
    return DispatchOut(
        unit=UnitOut(id=unit.id, code=unit.code, name=unit.name) if unit else None,
        deadline_at=event.deadline_at,
        reason=event.dispatch_reason or "",
        consultation=event.status == EventStatus.CONSULTATION,
    )


# -- submitting ------------------------------------------------------------------------------------


def submit(
    session: Session, reports: Sequence[pipeline.ReportIn], ctx: pipeline.Context, *, reporter_user_id: int | None
) -> tuple[list[ReportOutcome | None], list[pipeline.Refusal]]:
    """Outcomes by position (None where refused) and the refusals."""
    result = pipeline.process(session, reports, ctx, reporter_user_id=reporter_user_id)
    joined = {it.event_ref for it in result.items if it.merged and not it.event_is_new}
    existing = {
        e.id: e
        for e in session.scalars(select(Event).where(Event.id.in_(joined)), execution_options={"skip_scope": True})
    }
    out: list[ReportOutcome | None] = [None] * len(reports)
    for item in result.items:
        if item.repeated:  # what the first submission made, read back
            report = session.get(Report, item.report_id, execution_options={"skip_scope": True})
            assert report is not None
            out[item.index] = outcome(session, report).model_copy(update={"repeated": True})
        else:
            out[item.index] = _fresh_outcome(session, ctx, item, existing)
    return out, result.refused


def _fresh_outcome(
    session: Session, ctx: pipeline.Context, it: pipeline.Item, existing: dict[int, Event]
) -> ReportOutcome:
    """The outcome of a report this batch wrote, from what the pipeline knows (no reading back:
    the API answers as soon as the batch commits)."""
    assert it.report_id is not None
    event_id = None if it.pending else it.event_ref
    event = existing.get(event_id) if event_id is not None else None
    best = it.decision.best if it.decision else None
    place = it.place
    if it.event_is_new:
        dispatch = _planned_dispatch(ctx, it.event_plan) if it.data.closed_at is None else None
    else:
        dispatch = _dispatch_out(session, event) if event else None
    status = ReportStatus.PENDING if it.pending else ReportStatus.MERGED if it.merged else ReportStatus.CREATED
    return ReportOutcome(
        report_id=it.report_id,
        status=status,
        event_id=event_id,
        event_number=event_number(event_id) if event_id is not None else None,
        merged=it.merged and not it.pending,
        pending_reasons=[str(r) for r in it.pending],
        category=CategoryOut(key=it.category_key, source=it.category_source, probability=it.probability, top3=it.top3),
        location=LocationOut(
            lon=it.lon,
            lat=it.lat,
            source=it.location_source,
            cell_code=place.cell_code if place else None,
            area_class=(event.area_class if event else place.area_class if place else None) if event_id else None,
            org_id=it.org_id or ctx.receiver_org_id,
        ),
        duplicate=(
            DuplicateOut(event_id=event_id, score=best.value, reason=it.decision.reason[:300])
            if it.merged and not it.pending and event_id is not None and best and it.decision
            else None
        ),
        suggestions=[DuplicateOut(event_id=e, score=score, reason=reason) for e, score, reason in it.suggested],
        dispatch=dispatch,
    )


def _planned_dispatch(ctx: pipeline.Context, plan: DispatchPlan | None) -> DispatchOut | None:
    if plan is None:
        return None
    unit = ctx.book.orgs.get(plan.unit_id or (plan.resolution.unit.id if plan.resolution.unit else 0))
    return DispatchOut(
        unit=UnitOut(id=unit.id, code=unit.code, name=unit.name) if unit else None,
        deadline_at=plan.deadline_at,
        reason=plan.reason,
        consultation=plan.consultation,
    )


# -- the clerk's queue ---------------------------------------------------------------------------


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"report {report_id} not found")
    return report


def report_of_submitter(session: Session, report_id: int, user_id: int) -> Report:
    """A report the caller may add to: one their organisation sees, or one they submitted
    themselves (a citizen sees no organisation's records, only their own)."""
    report = session.get(Report, report_id)
    if report is None:
        own = session.get(Report, report_id, execution_options={"skip_scope": True})
        report = own if own is not None and own.reporter_user_id == user_id else None
    if report is None:
        raise NotFound(f"report {report_id} not found")
    return report


def reports_of_event(session: Session, event_id: int) -> Sequence[Report]:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    # the event is visible, so are the reports merged into it (they may lie in a neighbour's area)
    stmt = select(Report).where(Report.event_id == event.id).order_by(Report.submitted_at)
    return session.scalars(stmt, execution_options={"skip_scope": True}).all()


def pending(
    session: Session, *, reason: PendingReason | None = None, limit: int = 100, offset: int = 0
) -> tuple[Sequence[Report], int]:
    """The clerk's queue, oldest first; with ``reason``, only the reports waiting for that."""
    stmt = select(Report).where(Report.status == ReportStatus.PENDING)
    if reason is not None:  # the reasons are a short JSON list of words: its text holds the quoted word
        stmt = stmt.where(cast(Report.pending_reasons, String).like(f'%"{reason.value}"%'))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.order_by(Report.received_at).limit(limit).offset(offset)).all(), total


def accept_as_new(
    session: Session,
    report: Report,
    ctx: pipeline.Context,
    *,
    category_key: str,
    lon: float | None,
    lat: float | None,
    actor_id: int,
) -> Event:
    """The clerk's decision for a pending report: this is a new problem, of this category, here."""
    _require_pending(report)
    category = ctx.book.category(category_key)
    if category.parent_id is None:
        raise Invalid("choose a 小类, not a 大类 / 请选择小类", field="category_key")
    lon, lat = (lon, lat) if lon is not None and lat is not None else (report.lon, report.lat)
    if lon is None or lat is None:
        raise Invalid("place the report first: send lon and lat / 请先定位", field="lon")
    place = ctx.places.locate([lon], [lat])[0]
    if place is None:
        raise Invalid("outside jurisdiction / 不在本市管辖范围内", field="lon")
    now = utcnow()
    event = Event(
        status=EventStatus.ACCEPTED,
        category_id=category.id,
        category_key=category.key,
        title=report.title,
        description=report.description,
        address=report.address,
        lon=lon,
        lat=lat,
        bucket=dedup.bucket(lon, lat, ctx.dedup.bucket_m),
        cell_id=place.cell_id,
        area_class=place.area_class,
        org_id=place.org_id,
        street_id=place.street_id,
        district_id=place.district_id,
        source=report.channel,
        report_count=1,
        first_reported_at=report.submitted_at,
        last_reported_at=report.submitted_at,
    )
    session.add(event)
    session.flush()
    _settle(report, ReportStatus.CREATED, event.id, category.key)
    report.lon, report.lat, report.cell_id, report.org_id = lon, lat, place.cell_id, place.org_id
    if ctx.auto_dispatch:
        assign.auto_dispatch(session, event, actor_id=actor_id, at=now)
    return event


def merge_into(session: Session, report: Report, event_id: int, *, actor_id: int) -> Event:
    """The clerk's decision: this report repeats that open event."""
    _require_pending(report)
    event = session.get(Event, event_id)
    if event is None:
        raise Invalid(f"event {event_id} not found", field="event_id")
    if event.status in (EventStatus.CLOSED, EventStatus.VOID):
        raise Conflict(f"event {event.number} is {event.status}; merge only into open events", field="event_id")
    _settle(report, ReportStatus.MERGED, event.id, event.category_key)
    report.dedup_reason = f"clerk {actor_id} merged it / 受理员合并"
    event.report_count += 1
    event.last_reported_at = max(event.last_reported_at, report.submitted_at)
    session.flush()
    return event


def reject(session: Session, report: Report, reason: str) -> None:
    _require_pending(report)
    _settle(report, ReportStatus.REJECTED, None, report.category_key)
    report.dedup_reason = reason[:300]
    session.flush()


def _require_pending(report: Report) -> None:
    if report.status != ReportStatus.PENDING:
        raise Conflict(f"report {report.id} is {report.status}, not waiting for a decision", field="status")


def _settle(report: Report, status: ReportStatus, event_id: int | None, category_key: str | None) -> None:
    if category_key and category_key != report.category_key:
        report.category_source = "clerk"
    report.status, report.event_id, report.category_key = status, event_id, category_key
    report.pending_reasons = []


# -- attachments ---------------------------------------------------------------------------------


def add_attachment(
    session: Session, settings: Settings, report: Report, stream: BinaryIO, filename: str | None
) -> Attachment:
    """Store a photo or file once by content, in the same store as evidence (a citizen's photo
    often becomes evidence later); its type is read from its bytes, not its name."""
    count = session.scalar(select(func.count()).where(Attachment.report_id == report.id)) or 0
    if count >= MAX_ATTACHMENTS:
        raise Conflict(f"a report takes at most {MAX_ATTACHMENTS} attachments", field="file")
    stored, content_type = store_upload(evidence_store(settings), stream, settings.max_upload_mb * 2**20)
    existing = session.scalar(
        select(Attachment).where(Attachment.report_id == report.id, Attachment.sha256 == stored.sha256)
    )
    if existing is not None:
        return existing
    attachment = Attachment(
        report_id=report.id, sha256=stored.sha256, size=stored.size, content_type=content_type, filename=filename
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachments_of(session: Session, report: Report) -> Sequence[Attachment]:
    return session.scalars(select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id)).all()
