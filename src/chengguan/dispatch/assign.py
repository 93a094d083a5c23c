"""Giving an event to a unit: automatically from the list, by a dispatcher's hand, or by
settling a 会商. The row contents come from :func:`rows_for` so the bulk intake path writes
exactly what these single-event functions write.

An event's first automatic dispatch (by the intake pipeline) lives on the event row alone (unit,
time, deadline, reason): a third of the bulk path's rows. :func:`first_dispatch` reads it back as
a record, and before anything dispatches the event again that record is written, so the
history keeps it when the row changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.calendar import service as calendar_service
from chengguan.cases.models import OPEN_STATUSES, Event, EventStatus
from chengguan.db import utcnow
from chengguan.dispatch.models import Consultation, ConsultationStatus, DispatchRecord
from chengguan.dispatch.planning import DEFAULT_AREA_CLASS, DispatchPlan, plan
from chengguan.dispatch.resolver import cited_rule, rulebook
from chengguan.dispatch.service import area_chain
from chengguan.errors import Conflict, Invalid, NotFound
from chengguan.geo.models import GridCell
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation, OrgKind

# who can be handed work: units, and streets/towns themselves (属地)
WORKING_KINDS = frozenset(
    {OrgKind.SQUAD, OrgKind.DEPARTMENT, OrgKind.ENTERPRISE, OrgKind.CENTRE, OrgKind.STREET, OrgKind.TOWN}
)


@dataclass(frozen=True)
class PlannedRows:
    """What a plan changes: the event's columns, and the dispatch record or the 会商 to add."""

    event: dict[str, Any]
    record: dict[str, Any] | None
    consultation: dict[str, Any] | None


def rows_for(
    plan_: DispatchPlan,
    *,
    event_id: int,
    org_id: int,
    category_key: str,
    automatic: bool,
    actor_id: int | None,
    at: dt.datetime,
) -> PlannedRows:
    res = plan_.resolution
    if plan_.consultation:
        return PlannedRows(
            event={"status": EventStatus.CONSULTATION, "unit_id": None, "dispatch_reason": plan_.reason},
            record=None,
            consultation={
                "event_id": event_id,
                "org_id": org_id,
                "centre_id": res.unit.id if res.unit else None,
                "candidate_ids": [u.id for u in res.candidates],
                "reason": plan_.reason,
                "status": ConsultationStatus.OPEN,
                "opened_at": at,
            },
        )
    return PlannedRows(
        event={
            "status": EventStatus.DISPATCHED,
            "unit_id": plan_.unit_id,
            "deadline_at": plan_.deadline_at,
            "dispatched_at": at,
            "dispatch_reason": plan_.reason,
        },
        record={
            "event_id": event_id,
            "org_id": org_id,
            "unit_id": plan_.unit_id,
            "category_key": category_key,
            "rule_id": res.rule_id,
            "row_no": res.row_no,
            "basis": res.basis,
            "reason": plan_.reason,
            "deadline_at": plan_.deadline_at,
            "automatic": automatic,
            "actor_id": actor_id,
            "at": at,
        },
        consultation=None,
    )


def first_dispatch(event: Event) -> DispatchRecord | None:
    """The event's first automatic dispatch as the intake pipeline kept it, on the event row
    (not saved); None when the event was never dispatched that way. Only meaningful while the
    event has no dispatch record: any later dispatch writes this one first (:func:`_keep_first`)."""
    if event.dispatched_at is None or event.unit_id is None or event.dispatch_reason is None:
        return None
    cited = cited_rule(event.dispatch_reason)
    return DispatchRecord(
        event_id=event.id,
        org_id=event.org_id,
        unit_id=event.unit_id,
        category_key=event.category_key,
        row_no=cited[0] if cited else None,
        basis=cited[1] if cited else None,
        reason=event.dispatch_reason,
        deadline_at=event.deadline_at,
        automatic=True,
        at=event.dispatched_at,
    )


def history(session: Session, event: Event) -> list[DispatchRecord]:
    """Every dispatch of the event, oldest first: its records, or the first one the intake kept on
    the event row alone (:func:`first_dispatch`)."""
    rows = session.scalars(
        select(DispatchRecord).where(DispatchRecord.event_id == event.id).order_by(DispatchRecord.id)
    ).all()
    first = None if rows else first_dispatch(event)
    return [first] if first else list(rows)


def _has_records(session: Session, event_id: int) -> bool:
    return session.scalar(select(DispatchRecord.id).where(DispatchRecord.event_id == event_id).limit(1)) is not None


def _keep_first(session: Session, event: Event) -> None:
    """Before the event row changes: write its first dispatch if it lives on the row alone."""
    first = first_dispatch(event)
    if first is not None and not _has_records(session, event.id):
        session.add(first)


def _apply(session: Session, event: Event, rows: PlannedRows) -> None:
    _keep_first(session, event)
    for key, value in rows.event.items():
        setattr(event, key, value)
    if rows.record is not None:
        session.add(DispatchRecord(**rows.record))
    if rows.consultation is not None:
        session.add(Consultation(**rows.consultation))
    session.flush()


def _place(session: Session, event: Event) -> tuple[list[int], str | None]:
    chain = area_chain(session, orgs_service.get(session, event.org_id))
    code = session.scalar(select(GridCell.code).where(GridCell.id == event.cell_id)) if event.cell_id else None
    return chain, code


def _require_open(event: Event) -> None:
    if event.status not in OPEN_STATUSES:
        raise Conflict(f"event {event.number} is {event.status}; only open events are dispatched", field="status")
    if not event.category_key:
        raise Invalid("the event has no category yet; classify it first / 请先确定分类", field="category_key")


def auto_dispatch(
    session: Session, event: Event, *, actor_id: int | None = None, at: dt.datetime | None = None
) -> PlannedRows:
    """Dispatch by the responsibility list (or open a 会商 when it cannot decide)."""
    _require_open(event)
    at = at or utcnow()
    chain, cell_code = _place(session, event)
    assert event.category_key is not None  # checked by _require_open
    planned = plan(
        rulebook(session),
        calendar_service.get_calendar(session),
        event.category_key,
        chain,
        at,
        cell_code=cell_code,
        area_class=event.area_class,
    )
    rows = rows_for(
        planned,
        event_id=event.id,
        org_id=event.org_id,
        category_key=event.category_key,
        automatic=actor_id is None,
        actor_id=actor_id,
        at=at,
    )
    _apply(session, event, rows)
    return rows


def assign(
    session: Session, event: Event, unit_id: int, reason: str, *, actor_id: int | None, at: dt.datetime | None = None
) -> DispatchRecord:
    """A dispatcher sends the event to ``unit_id`` whatever the list says; the unit it replaces
    and the reason are kept (they teach the list and the classifier where they were wrong)."""
    _require_open(event)
    # the unit often sits outside the dispatcher's subtree (a city enterprise, a district bureau)
    unit = session.get(Organisation, unit_id, execution_options={"skip_scope": True})
    if unit is None or not unit.active or unit.kind not in WORKING_KINDS:
        raise Invalid(f"organisation {unit_id} is not a unit that takes dispatched work", field="unit_id")
    at = at or utcnow()
    assert event.category_key is not None
    book = rulebook(session)
    limit = book.time_limit(event.category_key, event.area_class or DEFAULT_AREA_CLASS)
    deadline = calendar_service.get_calendar(session).deadline(at, *limit) if limit else None
    _keep_first(session, event)
    record = DispatchRecord(
        event_id=event.id,
        org_id=event.org_id,
        unit_id=unit.id,
        category_key=event.category_key,
        reason=f"人工派遣: {reason}",
        deadline_at=deadline,
        automatic=False,
        replaced_unit_id=event.unit_id,
        override_reason=reason,
        actor_id=actor_id,
        at=at,
    )
    session.add(record)
    event.status, event.unit_id, event.deadline_at = EventStatus.DISPATCHED, unit.id, deadline
    event.dispatched_at, event.dispatch_reason = at, record.reason
    for open_ in session.scalars(
        select(Consultation).where(Consultation.event_id == event.id, Consultation.status == ConsultationStatus.OPEN)
    ):
        open_.status, open_.resolved_at, open_.resolved_unit_id = ConsultationStatus.RESOLVED, at, unit.id
        open_.resolution_note = reason
    session.flush()
    return record


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise NotFound(f"consultation {consultation_id} not found")
    return found


def list_consultations(
    session: Session, *, status: ConsultationStatus | None = ConsultationStatus.OPEN, limit: int = 100, offset: int = 0
) -> tuple[Sequence[Consultation], int]:
    stmt = select(Consultation)
    if status is not None:
        stmt = stmt.where(Consultation.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return session.scalars(stmt.order_by(Consultation.opened_at).limit(limit).offset(offset)).all(), total
