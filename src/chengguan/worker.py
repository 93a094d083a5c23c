"""`chengguan worker`: the background jobs, each run when due, with the database as the queue.

A job is claimed by moving its ``due_at`` forward with a compare-and-set ``UPDATE … WHERE
due_at = <the value read>``: of two workers reading the same due job, one wins and the other
skips it. Each run is its own transaction; a failure is logged on the job's row (and the next
run comes at the usual interval), never half-applied.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from chengguan import outbox
from chengguan.analytics import lake, report_store
from chengguan.audit import platform_actor
from chengguan.cases import sweep
from chengguan.config import Settings
from chengguan.db import Base, UTCDateTime, refresh_statistics, unit_of_work, utcnow
from chengguan.dispatch.flow import CLOSED
from chengguan.evidence import sth
from chengguan.intake import notify

log = logging.getLogger(__name__)


class Job(Base):
    __tablename__ = "jobs"
    __audit__ = False  # bookkeeping of the worker; what the jobs change is audited

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Spec:
    name: str
    every: dt.timedelta
    run: Callable[[Session, dt.datetime], object]


def jobs(settings: Settings) -> list[Spec]:
    senders: dict[str, outbox.Sender] = {"*": outbox.log_sender, CLOSED: notify.tell_reporters}
    return [
        Spec("deadline_sweep", dt.timedelta(seconds=settings.sweep_interval_s), sweep.sweep),
        Spec("outbox", dt.timedelta(seconds=5), lambda s, now: outbox.deliver(s, senders, now)),
        # polled each minute; a head is signed when the newest is sth_interval_s old
        Spec("tree_head", dt.timedelta(seconds=60), lambda s, now: sth.issue_if_due(s, settings, now)),
        Spec("lake_sync", dt.timedelta(seconds=settings.lake_sync_interval_s), lambda s, now: lake.sync(s, settings)),
        # hourly: a period's reports are made once the lake has been synced past its end
        Spec("analysis_reports", dt.timedelta(hours=1), lambda s, now: report_store.generate_due(settings, now)),
        Spec("planner_statistics", dt.timedelta(hours=1), lambda s, now: refresh_statistics(s)),
    ]


def _claim(session: Session, spec: Spec, now: dt.datetime) -> bool:
    job = session.get(Job, spec.name)
    if job is None:
        session.add(Job(name=spec.name, due_at=now + spec.every, last_started_at=now))
        session.flush()
        return True
    if job.due_at > now:
        return False
    claimed = session.execute(
        update(Job)
        .where(Job.name == spec.name, Job.due_at == job.due_at)
        .values(due_at=now + spec.every, last_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def run_due(factory: sessionmaker[Session], specs: list[Spec], now: dt.datetime | None = None) -> dict[str, str]:
    """Run every due job once; what each returned (or its error)."""
    now = now or utcnow()
    done: dict[str, str] = {}
    for spec in specs:
        with unit_of_work(factory, actor=platform_actor("worker")) as session:
            if not _claim(session, spec, now):
                continue
        try:
            with unit_of_work(factory, actor=platform_actor("worker")) as session:
                result = repr(spec.run(session, now))
        except Exception as exc:  # one failing job must not stop the others
            log.exception("job %s failed", spec.name)
            result = f"error: {type(exc).__name__}: {exc}"
            _record(factory, spec.name, error=result)
        else:
            _record(factory, spec.name, result=result, ok_at=now)
        done[spec.name] = result
    return done


def _record(
    factory: sessionmaker[Session],
    name: str,
    *,
    result: str | None = None,
    error: str | None = None,
    ok_at: dt.datetime | None = None,
) -> None:
    with unit_of_work(factory, actor=platform_actor("worker")) as session:
        values: dict[str, object] = {"last_result": result, "last_error": error}
        if ok_at is not None:
            values["last_ok_at"] = ok_at
        session.execute(update(Job).where(Job.name == name).values(**values))


def status(session: Session) -> list[Job]:
    return list(session.scalars(select(Job).order_by(Job.name)))


def run_forever(factory: sessionmaker[Session], settings: Settings, poll_s: float = 1.0) -> None:
    specs = jobs(settings)
    log.info("worker started: %s", ", ".join(s.name for s in specs))
    while True:
        run_due(factory, specs)
        time.sleep(poll_s)
