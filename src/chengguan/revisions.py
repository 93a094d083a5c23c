"""Named change counters that let every process know when its in-memory caches are stale.

A model declares ``__revision__ = "responsibility"``; any ORM insert, update or delete of it
bumps that counter in the same transaction (a flush listener, so no service can forget). Bulk
Core writes call :func:`bump` themselves. Caches key on :func:`tokens`: the token is random,
not the counter, so a cache built inside a transaction that rolled back is never mistaken for
a state another process commits later.
"""

from __future__ import annotations

import uuid

from sqlalchemy import String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from chengguan.db import Base


class Revision(Base):
    __tablename__ = "revisions"
    __audit__ = False  # the changes themselves are audited

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    counter: Mapped[int] = mapped_column(default=0)
    token: Mapped[str] = mapped_column(String(32))


_MEMO = "revision_tokens"  # session.info key: (the transaction they were read in, name → token)


def bump(session: Session, name: str) -> int:
    """Count one more change to ``name`` in the caller's transaction (on PostgreSQL the row lock
    also queues concurrent writers of the same thing)."""
    token = uuid.uuid4().hex
    session.info.pop(_MEMO, None)
    stmt = update(Revision).where(Revision.name == name).values(counter=Revision.counter + 1, token=token)
    counter = session.scalar(stmt.returning(Revision.counter).execution_options(synchronize_session=False))
    if counter is None:
        session.execute(insert(Revision).values(name=name, counter=1, token=token))
        return 1
    return int(counter)


def counter(session: Session, name: str) -> int:
    """How many changes ``name`` has seen (0 if none)."""
    return session.scalar(select(Revision.counter).where(Revision.name == name)) or 0


def tokens(session: Session, *names: str) -> tuple[str, ...]:
    """The current tokens of ``names`` ("" for a counter never bumped), in that order. Read once
    per transaction (one small table): a request asks for them several times."""
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not session.get_transaction():
        found = {name: token for name, token in session.execute(select(Revision.name, Revision.token))}
        memo = session.info[_MEMO] = (session.get_transaction(), found)
    return tuple(memo[1].get(name, "") for name in names)


@event.listens_for(Session, "before_flush")
def _bump_declared(session: Session, _ctx: UOWTransaction, _instances: object) -> None:
    names = {
        name
        for obj in (*session.new, *session.dirty, *session.deleted)
        if (name := getattr(type(obj), "__revision__", None))
    }
    for name in sorted(names):
        bump(session, name)
