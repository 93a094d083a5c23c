"""Side effects after commit: a service writes an outbox row in its own transaction; the worker
sends it once that has committed (a rolled-back change never notifies anyone).

Rows are claimed with compare-and-set (and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two
workers never send the same row; a failed send is retried later with the error kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengguan.db import Base, BigId, JsonDoc, UTCDateTime, bulk_insert, utcnow

log = logging.getLogger(__name__)
RETRY_AFTER = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 10


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __audit__ = False  # the change that wrote it is audited
    __table_args__ = (Index("ix_outbox_due", "sent_at", "available_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))  # e.g. case.overdue
    org_id: Mapped[int | None]  # whom it is for (the unit holding a case …)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


Sender = Callable[[Session, OutboxMessage], None]  # may queue further messages in the session


def add(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue messages ({topic, org_id, payload}) in the caller's transaction (one driver
    executemany: a sweep may queue thousands)."""
    if rows:
        now = utcnow()
        bulk_insert(session, OutboxMessage, [{"created_at": now, "available_at": now, **r} for r in rows])


def log_sender(session: Session, message: OutboxMessage) -> None:
    """The default channel: the log. SMS, 政务微信 and the like are senders a city plugs in."""
    log.info("notify org %s: %s %s", message.org_id, message.topic, message.payload)


def deliver(session: Session, senders: Mapping[str, Sender], now: dt.datetime, limit: int = 500) -> int:
    """Send what is due, in the caller's transaction; the number sent. A topic with no sender
    of its own goes to ``senders["*"]``."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.available_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    sent = 0
    for message in session.scalars(stmt):
        sender = senders.get(message.topic) or senders["*"]
        message.attempts += 1
        try:
            with session.begin_nested():  # a failed send leaves nothing of itself behind
                sender(session, message)
        except Exception as exc:  # a sender's failure must not stop the others
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.available_at = now + RETRY_AFTER * message.attempts
            if message.attempts >= MAX_ATTEMPTS:
                message.sent_at = now  # given up: kept with its error for an administrator
            continue
        message.sent_at, message.last_error = now, None
        sent += 1
    session.flush()
    return sent
