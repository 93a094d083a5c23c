"""Audit trail: who changed what, when, before and after — written in the same transaction.

Every ORM change to a mapped class is recorded by a flush listener, so no service can forget
it; a model opts out only with ``__audit__ = False`` (security logs that are audits themselves).
Bulk Core writes call :func:`record` with a summary. The unit of work must name the actor in
``session.info["actor"]``; an audited change without one is refused.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
from dataclasses import dataclass
from typing import Any, TypeGuard

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Index, String, column, event, insert, inspect, select, table
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column
from sqlalchemy.orm.attributes import get_history

from chengguan.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, a system account, or the platform itself (CLI, worker, demo)."""

    kind: str  # "user" | "system" | "platform"
    name: str
    id: int | None = None
    org_id: int | None = None
    ip: str | None = None


def platform_actor(name: str) -> Actor:
    return Actor(kind="platform", name=name)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __audit__ = False
    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    ip: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(index=True)
    # The organisation's path at the time: readers are scoped by it, and it outlives the org.
    org_path: Mapped[str | None] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)


def jsonable(value: Any) -> Any:
    """A JSON-safe rendering of a column value; binary and geometry become digests."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseGeometry):
        return {"type": value.geom_type, "wkb_sha256": hashlib.sha256(shapely.to_wkb(value)).hexdigest()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _actor(session: Session) -> Actor:
    actor = session.info.get("actor")
    if not isinstance(actor, Actor):
        raise RuntimeError("audited change without session.info['actor']; open the unit of work with an actor")
    return actor


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    org_id: int | None = None,
) -> None:
    """Write one audit entry explicitly (bulk imports, logins, anything not an ORM change)."""
    actor = _actor(session)
    paths = _org_paths(session, {org_id} if org_id is not None else set())
    session.execute(
        insert(AuditEntry),
        [_row(actor, action, entity, entity_id, before, after, org_id, paths.get(org_id))],
    )


def _row(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    org_id: int | None,
    org_path: str | None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "ip": actor.ip,
        "org_id": org_id,
        "org_path": org_path,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": jsonable(before) if before is not None else None,
        "after": jsonable(after) if after is not None else None,
    }


def _is_audited(obj: object) -> TypeGuard[Base]:
    return isinstance(obj, Base) and getattr(type(obj), "__audit__", True)


def _identity(obj: Base) -> str:
    # Read from the instance: a row flushed a moment ago has its key but no identity yet.
    return ",".join(str(v) for v in inspect(type(obj)).primary_key_from_instance(obj))


def _audited_attrs(obj: Base) -> list[str]:
    skip: frozenset[str] = getattr(type(obj), "__audit_exclude__", frozenset())
    return [a.key for a in inspect(type(obj)).column_attrs if a.key not in skip]


def _columns(obj: Base) -> dict[str, Any]:
    return {key: getattr(obj, key) for key in _audited_attrs(obj)}


def _changes(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _audited_attrs(obj):
        hist = get_history(obj, key)
        if hist.has_changes():
            before[key] = hist.deleted[0] if hist.deleted else None
            after[key] = hist.added[0] if hist.added else None
    return before, after


def _org_of(obj: Base) -> int | None:
    """The organisation a change belongs to: ``audit_org_id`` if the model says, else ``org_id``."""
    org = getattr(obj, "audit_org_id", getattr(obj, "org_id", None))
    return org if isinstance(org, int) else None


# A name-only view of the organisation tree: audit sits below the orgs domain and needs just
# the path of an id.
_orgs = table("organisations", column("id"), column("path"))


def _org_paths(session: Session, org_ids: set[int]) -> dict[int | None, str]:
    if not org_ids:
        return {}
    rows = session.connection().execute(select(_orgs.c.id, _orgs.c.path).where(_orgs.c.id.in_(org_ids)))
    return {row.id: row.path for row in rows}


def _path_of(obj: Base, paths: dict[int | None, str]) -> str | None:
    own = getattr(obj, "audit_org_path", None)
    return own if isinstance(own, str) and own else paths.get(_org_of(obj))


Change = tuple[Base, str, dict[str, Any] | None, dict[str, Any] | None]


def _pending_changes(session: Session) -> list[Change]:
    changes: list[Change] = []
    for obj in session.new:
        if _is_audited(obj):
            changes.append((obj, "create", None, _columns(obj)))
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                changes.append((obj, "update", before, after))
    for obj in session.deleted:
        if _is_audited(obj):
            changes.append((obj, "delete", _columns(obj), None))
    return changes


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, _ctx: UOWTransaction) -> None:
    changes = _pending_changes(session)
    if not changes:
        return
    actor = _actor(session)
    paths = _org_paths(session, {org for obj, *_ in changes if (org := _org_of(obj)) is not None})
    entries = [
        _row(
            actor,
            f"{obj.__tablename__}.{verb}",
            obj.__tablename__,
            _identity(obj),
            before,
            after,
            _org_of(obj),
            _path_of(obj, paths),
        )
        for obj, verb, before, after in changes
    ]
    session.connection().execute(insert(AuditEntry), entries)
