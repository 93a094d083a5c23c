"""Scheduled signed tree heads (:func:`sth.issue_if_due`): none while the newest head is younger
than the interval, one once it is that old (grown or not), and one only when two workers ask at
the same moment."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import platform_actor
from chengguan.config import Settings
from chengguan.db import unit_of_work
from chengguan.evidence import ledger, sth
from chengguan.evidence.models import SignedTreeHead

HOUR = dt.timedelta(hours=1)


def _newest_time(session: Session) -> dt.datetime:
    """When the newest head was stamped: earlier tests may have stamped heads ahead of the clock."""
    head = sth.newest(session)
    assert head is not None
    return dt.datetime.fromtimestamp(head.timestamp_ms / 1000, dt.UTC)


def _head_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SignedTreeHead)) or 0)


def _event(session: Session) -> None:
    ledger.append(session, "case.transition", {"case": "ZF-SCHED", "to": "调查"})


def test_heads_come_when_due_grown_or_not(platform_session: Session, settings: Settings) -> None:
    session = platform_session
    sth.issue_sth(session, settings)
    start = _newest_time(session)

    assert sth.issue_if_due(session, settings, start + HOUR / 2, HOUR) is None  # not grown, young
    _event(session)
    assert sth.issue_if_due(session, settings, start + HOUR / 2, HOUR) is None  # grown, still young

    grown = sth.issue_if_due(session, settings, start + HOUR, HOUR)
    assert grown is not None and grown.tree_size == ledger.size(session)
    assert grown.timestamp_ms == int((start + HOUR).timestamp() * 1000)

    fresh = sth.issue_if_due(session, settings, start + 2 * HOUR, HOUR)  # not grown, but old: a fresh head
    assert fresh is not None and fresh.tree_size == grown.tree_size and fresh.timestamp_ms > grown.timestamp_ms
    assert sth.issue_if_due(session, settings, start + 2 * HOUR, HOUR) is None


def test_interval_defaults_to_the_setting(platform_session: Session, settings: Settings) -> None:
    session = platform_session
    sth.issue_sth(session, settings)
    start = _newest_time(session)
    interval = dt.timedelta(seconds=settings.sth_interval_s)
    assert sth.issue_if_due(session, settings, start + interval - dt.timedelta(milliseconds=1)) is None
    assert sth.issue_if_due(session, settings, start + interval) is not None


def test_two_workers_at_once_issue_one_head(app, platform_session: Session, settings: Settings) -> None:
    _event(platform_session)
    sth.issue_sth(platform_session, settings)
    due = _newest_time(platform_session) + HOUR
    before = _head_count(platform_session)
    platform_session.commit()  # what the workers will see

    both = threading.Barrier(2)
    issued: list[SignedTreeHead | None] = []

    def worker(name: str) -> None:
        with unit_of_work(app.state.sessionmaker, actor=platform_actor(name)) as session:
            both.wait()
            issued.append(sth.issue_if_due(session, settings, due, HOUR))

    threads = [threading.Thread(target=worker, args=(f"worker-{k}",)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(issued) == 2 and sum(head is not None for head in issued) == 1
    assert _head_count(platform_session) == before + 1
