"""The outbox: messages queued in a transaction are sent after it commits, once; a sender that
fails is retried later with its error kept, and given up after the last attempt."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from chengguan import outbox
from chengguan.audit import platform_actor
from chengguan.db import unit_of_work
from chengguan.outbox import OutboxMessage

NOW = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


def test_sent_once_and_a_failing_sender_retried(app) -> None:
    factory = app.state.sessionmaker
    sent: list[dict] = []

    def sms(session, message: OutboxMessage) -> None:
        raise ConnectionError("gateway down")

    senders = {"*": lambda session, m: sent.append(m.payload), "test.sms": sms}
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        outbox.add(session, [{"topic": "test.note", "org_id": 1, "payload": {"n": 1}}])
        outbox.add(session, [{"topic": "test.sms", "org_id": 1, "payload": {"n": 2}}])
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert outbox.deliver(session, senders, NOW) >= 1
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        assert outbox.deliver(session, senders, NOW) == 0  # nothing twice
        failed = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "test.sms")).one()
        assert failed.sent_at is None and failed.attempts == 1 and "gateway down" in (failed.last_error or "")
        assert failed.available_at == NOW + outbox.RETRY_AFTER
    assert {"n": 1} in sent and {"n": 2} not in sent
    later = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        later += dt.timedelta(days=1)
        with unit_of_work(factory, actor=platform_actor("tests")) as session:
            outbox.deliver(session, senders, later)
    with unit_of_work(factory, actor=platform_actor("tests")) as session:
        gave_up = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "test.sms")).one()
        assert gave_up.sent_at is not None and gave_up.attempts == outbox.MAX_ATTEMPTS and gave_up.last_error
