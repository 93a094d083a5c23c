"""/api/audit: the audit trail, scoped like everything else to the reader's subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from chengguan.audit import AuditEntry
from chengguan.auth.deps import DbSession, require
from chengguan.auth.principal import Principal
from chengguan.auth.roles import Permission
from chengguan.kit.paging import MAX_LIMIT, Page

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    ip: str | None
    org_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("", response_model=Page[AuditOut])
def list_entries(
    session: DbSession,
    entity: str | None = Query(None, max_length=64),
    entity_id: str | None = Query(None, max_length=64),
    actor_id: int | None = None,
    action: str | None = Query(None, max_length=80),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    _: Principal = Depends(require(Permission.AUDIT_READ)),
) -> Page[AuditOut]:
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return Page(items=[AuditOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)
