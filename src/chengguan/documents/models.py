"""Tables of the document domain: issued 执法文书, their number counters, and each issuing
agency's numbering settings (the abbreviation in 京城管东罚决字〔2026〕第00012号).

An issued document's PDF is an evidence file (``evidence_items``, append-only); the row here
says what it is: kind, number, agency, the case it belongs to, and the field values it was
rendered from, so the same PDF can be rendered again and compared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, JsonDoc, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


class DocumentAgency(OrgScoped, Base):
    """How one issuing agency numbers its documents. Without a row, the agency's name stands in
    for the abbreviation and :data:`chengguan.documents.numbering.DEFAULT_FORMAT` applies."""

    __tablename__ = "document_agencies"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    abbreviation: Mapped[str] = mapped_column(String(30))  # 京城管东
    number_format: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DocumentCounter(Base):
    """The last number given per agency, year and kind. Written only by one upsert in the issuing
    transaction (``numbering.next_seq``): its row lock queues concurrent issuers, and a rollback
    takes the number back, so numbers have no gaps."""

    __tablename__ = "document_counters"
    __audit__ = False  # each number is audited with the document that took it

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int]


class Document(OrgScoped, Base):
    """One issued document. ``org_id`` is the issuing agency; ``subject_type``/``subject_id``
    name the case (generic, as evidence does, so any workflow can own documents)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "kind", "seq", name="uq_documents_number"),
        Index("ix_documents_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(200))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id", ondelete="RESTRICT"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    issued_by_name: Mapped[str] = mapped_column(String(120))
