"""What one intake batch writes, and writing it: plain columns and tuples, so that a bulk run can
hand them to a writer process (:mod:`chengguan.intake.bulk`) while it decides the next batch.

New events carry temporary (negative) ids until they are inserted; reports, merges, 会商 and
suggestions may name them, and may name the temporary ids of an earlier batch of the same run
that was decided before it was written. :func:`write` turns every one into the real id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, case
from sqlalchemy.orm import Session

from chengguan import audit
from chengguan.cases.models import Event
from chengguan.db import bulk_insert, bulk_insert_columns
from chengguan.dispatch.models import Consultation
from chengguan.intake.models import DuplicateSuggestion, Report


@dataclass
class Rows:
    event_refs: list[int]  # the new events' temporary ids, in the order of ``events``
    events: dict[str, list[Any]]  # columns
    consultations: list[dict[str, Any]]  # rows, ``event_id`` temporary
    merged: list[tuple[int, int, dt.datetime, dt.datetime]]  # (event id, reports, first, last)
    reports: dict[str, list[Any]]  # columns; ``event_id`` real or temporary
    suggestions: list[tuple[int, int, float, str]]  # (position in ``reports``, event id, score, reason)
    audit: BatchAudit
    at: dt.datetime  # when the batch was taken in (the merged events' ``updated_at``)


@dataclass
class BatchAudit:
    """What the batch's audit entry names besides its reports."""

    created: list[int]  # events the reports opened (ids real or temporary)
    merged: list[int]  # events they joined
    pending: list[int]  # positions in ``Rows.reports`` of those waiting for a clerk
    org_id: int | None  # the one organisation of every report, if there is one


@dataclass
class Written:
    report_ids: list[int]  # in the order of ``Rows.reports``
    ids: dict[int, int]  # every temporary event id the batch named → its real id


def write(session: Session, rows: Rows, known: dict[int, int]) -> Written:
    """Write a batch in the session's transaction. ``known``: the real ids of temporary ids from
    earlier batches (this batch's are added to it)."""
    used: dict[int, int] = {}
    if rows.event_refs:
        ids = bulk_insert_columns(session, Event, rows.events, return_ids=True)
        used.update(zip(rows.event_refs, ids, strict=True))
        known.update(used)

    def real(event_id: int) -> int:
        if event_id >= 0:
            return event_id
        used[event_id] = found = known[event_id]
        return found

    if rows.consultations:
        bulk_insert(session, Consultation, [dict(c, event_id=real(c["event_id"])) for c in rows.consultations])
    _update_merged(session, [(real(e), n, first, last) for e, n, first, last in rows.merged], rows.at)
    report_ids: list[int] = []
    if rows.reports:
        columns = dict(rows.reports)
        columns["event_id"] = [None if e is None else real(e) for e in columns["event_id"]]
        report_ids = bulk_insert_columns(session, Report, columns, return_ids=True)
        if rows.suggestions:
            suggested = [
                {"report_id": report_ids[i], "event_id": real(e), "score": score, "reason": reason}
                for i, e, score, reason in rows.suggestions
            ]
            bulk_insert(session, DuplicateSuggestion, suggested)
        _audit(session, rows, report_ids, real)
    return Written(report_ids, used)


def _update_merged(session: Session, merged: list[tuple[int, int, dt.datetime, dt.datetime]], at: dt.datetime) -> None:
    """One executemany for the batch: each open event gains its reports, and its span of reports
    widens to hold them."""
    if not merged:
        return
    table = cast(Table, Event.__table__)
    last = bindparam("last", type_=table.c.last_reported_at.type)
    first = bindparam("first", type_=table.c.first_reported_at.type)  # history may arrive out of order
    stmt = (
        table.update()
        .where(table.c.id == bindparam("event_id"))
        .values(
            report_count=table.c.report_count + bindparam("n"),
            first_reported_at=case((table.c.first_reported_at > first, first), else_=table.c.first_reported_at),
            last_reported_at=case((table.c.last_reported_at < last, last), else_=table.c.last_reported_at),
            updated_at=bindparam("now", type_=table.c.updated_at.type),
        )
    )
    params = [{"event_id": e, "n": n, "first": f, "last": la, "now": at} for e, n, f, la in merged]
    session.connection().execute(stmt, params)


def _audit(session: Session, rows: Rows, report_ids: list[int], real: Callable[[int], int]) -> None:
    audit.record(
        session,
        "intake.batch",
        "reports",
        None,
        after={
            "reports": report_ids,
            "events_created": sorted({real(e) for e in rows.audit.created}),
            "events_merged": sorted({real(e) for e in rows.audit.merged}),
            "pending": [report_ids[i] for i in rows.audit.pending],
        },
        org_id=rows.audit.org_id,
    )
