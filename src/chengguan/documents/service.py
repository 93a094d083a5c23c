"""Issuing 执法文书: check the fields, number, render, file the PDF as evidence, record it.
Plain functions, session first; they never commit.

Everything happens in the caller's transaction (the case workflow's), so a document, its
number, its evidence record and its log entry exist together or not at all.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chengguan.audit import Actor
from chengguan.config import Settings
from chengguan.db import utcnow
from chengguan.documents import numbering
from chengguan.documents.kinds import Kind, check_fields, get_kind
from chengguan.documents.models import Document, DocumentAgency
from chengguan.documents.render import Letterhead, document_font, render_pdf
from chengguan.errors import Invalid, NotFound
from chengguan.evidence import service as evidence_service
from chengguan.evidence.models import EvidenceItem
from chengguan.evidence.schemas import SUBJECT_TYPE, EvidenceIn
from chengguan.evidence.storage import blob_store
from chengguan.orgs import service as orgs_service
from chengguan.orgs.models import Organisation

_SUBJECT_TYPE = re.compile(SUBJECT_TYPE)
_SUBJECT_ID = re.compile(r"^\S{1,64}$")


@dataclass(frozen=True)
class CaseRef:
    """What a document belongs to, as evidence names it: ``case`` + the case number."""

    subject_type: str
    subject_id: str

    def checked(self) -> CaseRef:
        if not _SUBJECT_TYPE.match(self.subject_type):
            raise Invalid("subject_type is lower-case letters, digits and _ (e.g. case)", field="subject_type")
        if not _SUBJECT_ID.match(self.subject_id):
            raise Invalid("subject_id is 1-64 characters without spaces", field="subject_id")
        return self


def _agency(session: Session, org_id: int, field: str = "agency_org_id") -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found / 单位不存在", field=field)
    return org


def _local_date(settings: Settings, at: dt.datetime) -> dt.date:
    return at.astimezone(settings.tz).date()


def preview(
    session: Session, settings: Settings, kind_key: str, agency_org_id: int, fields: Mapping[str, object]
) -> bytes:
    """The PDF as it would be issued today, watermarked 样稿 / DRAFT: no number, nothing stored."""
    kind = get_kind(kind_key)
    values = check_fields(kind, fields)
    agency = _agency(session, agency_org_id)
    head = Letterhead(agency.name, None, _local_date(settings, utcnow()))
    return render_pdf(kind, values, head, document_font(settings))


def issue(
    session: Session,
    settings: Settings,
    kind_key: str,
    agency_org_id: int,
    fields: Mapping[str, object],
    *,
    case_ref: CaseRef,
) -> Document:
    """Number, render and file one document for ``agency_org_id``; the stored row."""
    kind = get_kind(kind_key)
    values = check_fields(kind, fields)
    case_ref.checked()
    agency = _agency(session, agency_org_id)
    orgs_service.require_writable(session, agency)
    font = document_font(settings)  # fails before a number is taken when the font is missing
    issued_at = utcnow()
    issued_on = _local_date(settings, issued_at)
    seq = numbering.next_seq(session, agency.id, issued_on.year, kind.key)
    number = numbering.agency_number(
        session.get(DocumentAgency, agency.id), agency.name, kind.word, issued_on.year, seq
    )
    pdf = render_pdf(kind, values, Letterhead(agency.name, number, issued_on), font)
    item = _file_as_evidence(session, settings, kind, pdf, number, agency.id, case_ref, issued_at)
    actor: Actor = session.info["actor"]
    document = Document(
        org_id=agency.id,
        kind=kind.key,
        year=issued_on.year,
        seq=seq,
        number=number,
        subject_type=case_ref.subject_type,
        subject_id=case_ref.subject_id,
        fields=values,
        evidence_id=item.id,
        sha256=item.sha256,
        size=item.size,
        issued_at=issued_at,
        issued_by_id=actor.id if actor.kind != "platform" else None,
        issued_by_name=actor.name,
    )
    session.add(document)
    session.flush()
    return document


def _file_as_evidence(
    session: Session,
    settings: Settings,
    kind: Kind,
    pdf: bytes,
    number: str,
    org_id: int,
    case_ref: CaseRef,
    issued_at: dt.datetime,
) -> EvidenceItem:
    meta = EvidenceIn(
        subject_type=case_ref.subject_type,
        subject_id=case_ref.subject_id,
        evidence_type=kind.evidence_type,
        org_id=org_id,
        collected_at=issued_at,
        description=f"{kind.title} {number}",
    )
    return evidence_service.add_evidence(
        session,
        blob_store(settings),
        io.BytesIO(pdf),
        numbering.pdf_filename(number),
        meta,
        max_bytes=settings.evidence_max_mb * 2**20,
    )


def get_document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} not found / 文书不存在", field="id")
    return document


def open_pdf(session: Session, settings: Settings, document: Document) -> BinaryIO:
    """The issued PDF exactly as filed (the evidence file, found by its hash)."""
    item = evidence_service.get_evidence(session, document.evidence_id)
    return evidence_service.open_file(blob_store(settings), item)


def list_documents(
    session: Session,
    subject_type: str | None = None,
    subject_id: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Document], int]:
    """In the order issued; filters combine."""
    stmt = select(Document)
    if subject_type is not None:
        stmt = stmt.where(Document.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(Document.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Document.issued_at, Document.id).limit(limit).offset(offset)).all()
    return rows, total


def get_agency(session: Session, org_id: int) -> DocumentAgency:
    agency = session.get(DocumentAgency, org_id)
    if agency is None:
        raise NotFound(f"no numbering settings for organisation {org_id} / 未设置文号", field="org_id")
    return agency


def set_agency(session: Session, org_id: int, abbreviation: str, number_format: str | None) -> DocumentAgency:
    """Set how ``org_id`` numbers its documents (abbreviation, optional format)."""
    org = _agency(session, org_id, "org_id")
    orgs_service.require_writable(session, org)
    if not abbreviation.strip():
        raise Invalid("the abbreviation is blank / 机关简称不能为空", field="abbreviation")
    if number_format is not None:
        numbering.check_format(number_format)
    agency = session.get(DocumentAgency, org_id) or DocumentAgency(org_id=org_id)
    agency.abbreviation = abbreviation.strip()
    agency.number_format = number_format
    session.add(agency)
    session.flush()
    return agency
