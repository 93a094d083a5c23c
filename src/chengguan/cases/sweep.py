"""The deadline sweep: turn lights yellow and red, raise 督办 on what became overdue, notify.

Every change is a compare-and-set ``UPDATE … WHERE light IS DISTINCT FROM the new light`` that
returns the rows it changed, so a second worker running the same sweep changes (and notifies)
nothing twice; on PostgreSQL the rows are first claimed with ``FOR UPDATE SKIP LOCKED`` so two
workers split the work instead of queueing on each other's locks. Rows written in bulk by the
intake path get their 80 % mark here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String, Table, and_, func, insert, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from chengguan import audit, outbox
from chengguan.calendar import service as calendar_service
from chengguan.cases import clock, workflow
from chengguan.cases.models import (
    OPEN_STATUSES,
    CaseStep,
    Event,
    EventStatus,
    Light,
    PenaltyCase,
    event_number,
    penalty_number,
)
from chengguan.cases.penalty import PENALTY_FLOW
from chengguan.cases.workflow import TRANSITION, transition_entry
from chengguan.evidence import ledger
from chengguan.evidence.models import LogRef

CHUNK = 5_000


@dataclass(frozen=True)
class Swept:
    """One kind of case the sweep covers: its rows with a running clock, and how it is named."""

    subject: str  # the flow's key
    model: type[Event] | type[PenaltyCase]
    running: Any  # the rows whose node clock runs
    started: Any  # when the current node began (bulk rows leave node_at empty: see Clocked)
    number: Callable[[int], str]
    unit: Any  # who is told when no holder is set


PENALTIES = Swept(
    "penalty",
    PenaltyCase,
    PenaltyCase.deadline_at.is_not(None),  # final states and stopped clocks have none
    PenaltyCase.node_at,
    penalty_number,
    PenaltyCase.agency_id,
)

KINDS = (
    Swept(
        "event",
        Event,
        and_(Event.status.in_(OPEN_STATUSES), Event.deadline_at.is_not(None)),
        func.coalesce(Event.node_at, Event.dispatched_at, Event.first_reported_at),
        event_number,
        Event.unit_id,
    ),
    # 结案 → 综合评价 is a node with its own limit too. Closed history (imported, or closed before
    # its clock ran) has no light or no node start and stays out.
    Swept(
        "event",
        Event,
        and_(
            Event.status == EventStatus.CLOSED,
            Event.light.in_((Light.GREEN.value, Light.YELLOW.value)),
            Event.node_at.is_not(None),
            Event.deadline_at.is_not(None),
        ),
        Event.node_at,
        event_number,
        Event.unit_id,
    ),
    PENALTIES,
)


@dataclass(frozen=True)
class SweepResult:
    marked: int  # rows given their 80 % mark
    yellow: int
    red: int
    measures: int = 0  # 先行登记保存/查封扣押 found past their limit


def sweep(session: Session, now: dt.datetime) -> SweepResult:
    """One pass over the open events, the 综合评价 windows of closed ones and the enforcement
    cases, in the caller's transaction."""
    marked = yellow = red = 0
    for kind in KINDS:
        marked += _mark_yellow_at(session, kind)
        turned_yellow = _turn(session, kind, Light.YELLOW, now)
        turned_red = _turn(session, kind, Light.RED, now)
        _supervise(session, kind, turned_red, now)
        notes = [_note(kind, "case.warning", row, "预警: 已用时限80%") for row in turned_yellow]
        notes += [_note(kind, "case.overdue", row, "超时督办") for row in turned_red]
        outbox.add(session, notes)
        if turned_yellow or turned_red:
            after = {"yellow": [r.id for r in turned_yellow], "red": [r.id for r in turned_red]}
            audit.record(session, "sweep", kind.model.__tablename__, after=after)
        yellow, red = yellow + len(turned_yellow), red + len(turned_red)
    overdue = _overdue_measures(session, now)
    return SweepResult(marked, yellow, red, overdue)


def _mark_yellow_at(session: Session, kind: Swept) -> int:
    calendar = calendar_service.get_calendar(session)
    model = kind.model
    stmt = select(model.id, kind.started, model.deadline_at).where(kind.running, model.yellow_at.is_(None))
    marks = [(clock.yellow_at(calendar, began, due), row_id) for row_id, began, due in session.execute(stmt)]
    _set_yellow_at(session, kind, marks)
    return len(marks)


def _set_yellow_at(session: Session, kind: Swept, marks: list[tuple[dt.datetime, int]]) -> None:
    """One driver executemany of ``(yellow_at, id)`` pairs. After a bulk import this is every
    open row: ORM and Core executemany build parameters row by row, at 3–5× the cost of the
    UPDATEs themselves; here each time goes through the column's bind processor once."""
    if not marks:
        return
    connection = session.connection()
    dialect, table = connection.dialect, cast(Table, kind.model.__table__)
    process = table.c.yellow_at.type.dialect_impl(dialect).bind_processor(dialect)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    prepare = dialect.identifier_preparer
    sql = f"UPDATE {prepare.format_table(table)} SET yellow_at = {mark} WHERE id = {mark}"
    connection.exec_driver_sql(sql, [(process(at) if process else at, i) for at, i in marks])


def _turn(session: Session, kind: Swept, light: Light, now: dt.datetime) -> list[Any]:
    """Compare-and-set the light of the rows that reached it; the rows changed."""
    model = kind.model
    reached = model.deadline_at < now if light is Light.RED else and_(model.yellow_at <= now, model.deadline_at >= now)
    not_yet = or_(model.light.is_(None), model.light != light.value)
    if light is Light.YELLOW:
        not_yet = or_(model.light.is_(None), model.light == Light.GREEN.value)
    candidates = select(model.id).where(kind.running, reached, not_yet)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    changed: list[Any] = []
    ids = list(session.scalars(candidates))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stmt = (
            update(model)
            .where(model.id.in_(chunk), not_yet)
            .values(light=light.value)
            .returning(
                model.id, model.org_id, model.status, model.holder_id, kind.unit.label("unit"), model.deadline_at
            )
            .execution_options(synchronize_session=False)
        )
        changed += session.execute(stmt).all()
    return changed


def _supervise(session: Session, kind: Swept, rows: list[Any], now: dt.datetime, note: str = "超时自动督办") -> None:
    """督办 on every newly overdue case: counted on the row, a step on its timeline, an entry
    in the evidence log (one batch for the pass)."""
    if not rows:
        return
    model, ids = kind.model, [r.id for r in rows]
    for start in range(0, len(ids), CHUNK):
        session.execute(
            update(model)
            .where(model.id.in_(ids[start : start + CHUNK]))
            .values(supervision_count=model.supervision_count + 1)
            .execution_options(synchronize_session=False)
        )
    steps = [
        {
            "subject": kind.subject,
            "subject_id": r.id,
            "org_id": r.org_id,
            "action": "supervise",
            "from_state": r.status,
            "to_state": r.status,
            "actor_id": None,
            "actor_name": "platform",
            "automatic": True,
            "note": note,
            "data": {"deadline_at": r.deadline_at.isoformat()},
            "at": now,
        }
        for r in rows
    ]
    session.execute(insert(CaseStep), steps)
    entries = [
        ledger.canonical(
            ledger.envelope(
                TRANSITION,
                transition_entry(kind.subject, kind.number(r.id), step, now),
                now,
            )
        )
        for r, step in zip(rows, steps, strict=True)
    ]
    first = ledger.append_entries(session, entries)
    refs = [
        {"subject": f"{kind.subject}:{kind.number(r.id)}", "log_index": first + i, "org_id": r.org_id}
        for i, r in enumerate(rows)
    ]
    session.execute(insert(LogRef), refs)


def _note(kind: Swept, topic: str, row: Any, text: str) -> dict[str, Any]:
    return {
        "topic": topic,
        "org_id": row.holder_id or row.unit or row.org_id,
        "payload": {
            "flow": kind.subject,
            f"{kind.subject}_id": row.id,
            "number": kind.number(row.id),
            "deadline_at": row.deadline_at.isoformat(),
            "text": text,
        },
    }


# -- 先行登记保存 and 查封扣押: legal limits that run beside the node's clock -----------------------------


@dataclass(frozen=True)
class _Overdue:
    """A penalty case with a measure past its limit, shaped as ``_turn`` returns rows."""

    id: int
    org_id: int
    status: str
    holder_id: int | None
    unit: int
    deadline_at: dt.datetime


MEASURE_NOTES = {"preserve": "先行登记保存逾期未作处理决定 (法56)", "seize": "查封扣押期限届满未处理 (强制法25)"}


def _overdue_measures(session: Session, now: dt.datetime) -> int:
    """Mark each undecided measure past its limit once, with a 督办 and a notice to the agency.
    Only cases that hold a measure are read (the measures column is not empty)."""
    finals = [key for key, state in workflow.current_flow(session, PENALTY_FLOW).states.items() if state.final]
    stmt = select(PenaltyCase).where(PenaltyCase.status.not_in(finals), sql_cast(PenaltyCase.measures, String) != "[]")
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    found: dict[str, list[_Overdue]] = {"preserve": [], "seize": []}
    for case in session.scalars(stmt):
        measures = []
        for measure in case.measures:
            due = dt.datetime.fromisoformat(measure["due_at"])
            if not measure.get("decided_at") and not measure.get("overdue_at") and due < now:
                measure = {**measure, "overdue_at": now.isoformat()}
                found[measure["kind"]].append(
                    _Overdue(case.id, case.org_id, case.status, case.holder_id, case.agency_id, due)
                )
            measures.append(measure)
        if measures != case.measures:
            case.measures = measures
    for kind, rows in found.items():
        _supervise(session, PENALTIES, rows, now, MEASURE_NOTES[kind])
        outbox.add(session, [_note(PENALTIES, "case.measure_overdue", row, MEASURE_NOTES[kind]) for row in rows])
    return sum(len(rows) for rows in found.values())
