"""Evidence files and their records. Plain functions, session first; they never commit.

Each record goes to the log in the same transaction as its row, so a record exists in the
database exactly when its log entry does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import Actor
from chengguan.db import utcnow
from chengguan.errors import Invalid, NotFound
from chengguan.evidence import ledger
from chengguan.evidence.models import EvidenceItem
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.storage import store_upload
from chengguan.evidence.verify import EVIDENCE_KIND
from chengguan.kit.blobstore import BlobStore
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation

RECORD_FIELDS = (
    "org_id", "subject_type", "subject_id", "evidence_type", "sha256", "size", "media_type", "filename",
    "collector_id", "collector_name", "collected_at", "lon", "lat", "device", "description",
)  # fmt: skip


def record(item: EvidenceItem) -> dict[str, Any]:
    """The log entry's data for an evidence row (everything but the database's own columns)."""
    doc = {name: getattr(item, name) for name in RECORD_FIELDS}
    doc["collected_at"] = item.collected_at.astimezone(dt.UTC).isoformat()
    return doc


def subject_of(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"


def _collected_at(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        raise Invalid("collected_at needs a time zone, e.g. 2026-05-01T09:30:00+08:00", field="collected_at")
    return value.astimezone(dt.UTC)


def _org_id(session: Session, meta: EvidenceIn, actor: Actor) -> int:
    org_id = meta.org_id if meta.org_id is not None else actor.org_id
    if org_id is None:
        raise Invalid("name the collecting unit: org_id", field="org_id")
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found / 单位不存在", field="org_id")
    orgs_service.require_writable(session, org)
    return org_id


def add_evidence(
    session: Session, store: BlobStore, stream: BinaryIO, filename: str, meta: EvidenceIn, *, max_bytes: int
) -> EvidenceItem:
    """Store an uploaded file (streamed, checked) and record it, in the log and as a row."""
    actor: Actor = session.info["actor"]
    org_id = _org_id(session, meta, actor)
    if (meta.lon is None) != (meta.lat is None):
        raise Invalid("give both lon and lat, or neither", field="lat" if meta.lat is None else "lon")
    blob, media_type = store_upload(store, stream, max_bytes)
    item = EvidenceItem(
        org_id=org_id,
        subject_type=meta.subject_type,
        subject_id=meta.subject_id,
        evidence_type=meta.evidence_type.value,
        sha256=blob.sha256,
        size=blob.size,
        media_type=media_type,
        filename=PurePath(filename or "upload").name[:255],
        collector_id=actor.id if actor.kind != "platform" else None,
        collector_name=actor.name,
        collected_at=_collected_at(meta.collected_at),
        lon=meta.lon,
        lat=meta.lat,
        device=meta.device,
        description=meta.description,
    )
    entry = ledger.append(
        session, EVIDENCE_KIND, record(item), subject=subject_of(meta.subject_type, meta.subject_id), org_id=org_id
    )
    item.log_index = entry.index
    session.add(item)
    session.flush()
    return item


def get_evidence(session: Session, evidence_id: int) -> EvidenceItem:
    item = session.get(EvidenceItem, evidence_id)
    if item is None:
        raise NotFound(f"evidence {evidence_id} not found / 证据不存在", field="id")
    return item


def list_evidence(
    session: Session,
    subject_type: str | None = None,
    subject_id: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[EvidenceItem], int]:
    stmt = select(EvidenceItem)
    if subject_type is not None:
        stmt = stmt.where(EvidenceItem.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(EvidenceItem.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(EvidenceItem.log_index).limit(limit).offset(offset)).all()
    return rows, total


def open_file(store: BlobStore, item: EvidenceItem) -> BinaryIO:
    if not store.exists(item.sha256):
        raise NotFound(f"the file of evidence {item.id} is missing from storage", field="id")
    return store.open(item.sha256)
