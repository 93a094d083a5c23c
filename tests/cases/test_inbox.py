"""The inbox as the service reads it: open events whose holder (or, for a bulk row with none yet, its
unit) is in the organisation's subtree, every page in deadline order (no clock last) and the count,
the same as a plain query of the rule; and both parts read their partial indexes."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import func, select

from chengguan.audit import platform_actor
from chengguan.auth import scoping
from chengguan.cases import service as cases_service
from chengguan.cases.models import OPEN_STATUSES, Event
from chengguan.db import sqlite_plan, statements_sent, utcnow
from chengguan.orgs.models import Organisation, Scope
from tests.factories import SampleCity

SOURCE = "inbox-test"


def add_events(session, city: SampleCity) -> None:
    """Held rows (the workflow's), unheld bulk rows (their unit holds them), one held outside the
    street, one closed, and rows without a clock; deadlines interleaved across the two kinds."""
    now, hours = utcnow(), itertools.count()
    squad, a1, a2 = city.org["A1_squad"], city.org["A1"], city.org["A2"]

    def add(holder: int | None, unit: int | None, status: str = "dispatched", clock: bool = True) -> None:
        deadline = now + dt.timedelta(hours=next(hours) % 7 - 3) if clock else None
        session.add(
            Event(
                title="待办", org_id=city.org["A1c1"], source=SOURCE, status=status, holder_id=holder, unit_id=unit,
                first_reported_at=now, last_reported_at=now, deadline_at=deadline,
            )
        )  # fmt: skip

    for _ in range(4):
        add(squad, a2)  # held by the squad, sent to the other street: the holder counts
        add(None, squad)  # a bulk row: its unit holds it
        add(None, a1, clock=False)
    add(a2, squad)  # held by the other street: not A1's
    add(squad, squad, status="closed")
    session.flush()


def expected(session, path: str) -> list[int]:
    """The rule, stated plainly: every open event whose coalesce(holder, unit) is under ``path``."""
    under = select(Organisation.id).where(Organisation.path.startswith(path))
    holder = func.coalesce(Event.holder_id, Event.unit_id)
    rows = session.execute(
        select(Event.id, Event.deadline_at).where(Event.status.in_(OPEN_STATUSES), holder.in_(under))
    ).all()
    return [r.id for r in sorted(rows, key=lambda r: (r.deadline_at is None, r.deadline_at, r.id))]


def test_every_page_of_the_inbox_follows_the_rule_in_deadline_order(app, city: SampleCity) -> None:
    with app.state.sessionmaker() as session:
        scoping.bind(session, platform_actor("tests"), None)
        add_events(session, city)
        path = session.scalar(select(Organisation.path).where(Organisation.id == city.org["A1"]))
        want = expected(session, path)
        mine = set(session.scalars(select(Event.id).where(Event.source == SOURCE)))
        scoping.bind(session, platform_actor("tests"), Scope(path))  # as A1's officer reads it
        pages, total = [], None
        for offset in range(0, len(want) + 3, 3):
            rows, total = cases_service.inbox(session, path, limit=3, offset=offset)
            pages += [e.id for e in rows]
        session.rollback()
    assert total == len(want) and pages == want
    assert len(mine & set(want)) == 12  # the held and unheld rows, not the other street's or the closed one


def test_both_parts_of_the_inbox_read_their_partial_indexes(app, city: SampleCity) -> None:
    """Without them SQLite seeks the scope's indexes and reads the district's closed history."""
    with app.state.sessionmaker() as session:
        scoping.bind(session, platform_actor("tests"), None)
        path = session.scalar(select(Organisation.path).where(Organisation.id == city.org["A"]))
        scoping.bind(session, platform_actor("tests"), Scope(path))
        engine = session.get_bind()
        with statements_sent(engine) as sent:
            cases_service.inbox(session, path, limit=5)
        count, parameters = sent[0]
        assert "'dispatched'" in count  # the open states as literals, as in the indexes' WHERE
        if engine.dialect.name == "sqlite":
            plan = sqlite_plan(session, count, parameters)
            assert "COVERING INDEX ix_events_open_holder" in plan, plan
            assert "COVERING INDEX ix_events_open_unheld" in plan, plan
