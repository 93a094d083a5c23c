"""Law texts (法律法规库: document → article → 款 → 项) and case causes (案由) with the provisions
they breach and are punished under. Reference data for the whole city: not org-scoped.

The text tables are written only by the bulk loader (``loader.py``), which records one summary
audit entry per load; causes changed through the API are audited row by row as usual.

Discretion schemes (裁量基准) belong to an agency; the root organisation's is the city-wide one."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chengguan.db import Base, JsonDoc, UTCDateTime, utcnow


class LawDocument(Base):
    __tablename__ = "law_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    short_title: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # abbreviations people cite it by
    level: Mapped[str] = mapped_column(String(32), index=True)  # parser.Level
    version_date: Mapped[dt.date | None] = mapped_column(Date)
    source_file: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the source file
    preamble: Mapped[str] = mapped_column(Text, default="")  # promulgation and amendment history
    article_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LawArticle(Base):
    __tablename__ = "law_articles"
    __table_args__ = (UniqueConstraint("document_id", "number", "suffix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("law_documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    suffix: Mapped[int] = mapped_column(default=0)  # 第十条之一 → 1
    label: Mapped[str] = mapped_column(String(32))  # 第三十五条
    part: Mapped[str | None] = mapped_column(String(120))  # 编
    chapter: Mapped[str | None] = mapped_column(String(120))
    section: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)  # every 款 and 项, one per line: what keyword search reads

    document: Mapped[LawDocument] = relationship(lazy="joined", innerjoin=True)
    paragraphs: Mapped[list[LawParagraph]] = relationship(order_by="LawParagraph.number", lazy="selectin")


class LawParagraph(Base):
    """款: 1-based within its article."""

    __tablename__ = "law_paragraphs"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("law_articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)  # the paragraph's own sentence(s), without its items

    items: Mapped[list[LawItem]] = relationship(order_by="LawItem.number", lazy="selectin")


class LawItem(Base):
    """项: （一）, （二） … of the paragraph before them."""

    __tablename__ = "law_items"
    __table_args__ = (UniqueConstraint("paragraph_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(ForeignKey("law_paragraphs.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)


class FineBasis(enum.StrEnum):
    FIXED = "fixed"  # amounts in yuan
    PER_UNIT = "per_unit"  # yuan per m², per vehicle, per animal …
    PERCENT_OF_COST = "percent_of_cost"  # a share of the construction cost
    NONE = "none"  # the statute sets no fine


class Verification(enum.StrEnum):
    VERIFIED = "V"  # checked against the primary text
    SECONDARY = "S"  # a secondary source agrees
    UNVERIFIED = "U"


class ProvisionRole(enum.StrEnum):
    BREACHED = "breached"  # the duty or prohibition the act breaks
    PENALTY = "penalty"  # the provision that punishes it


class CaseCause(Base):
    """案由: an offence the bureau punishes, its statutory fine range and the provisions behind it.

    ``source_digest`` is the digest of the shipped row a cause was last loaded from (None for a
    cause a city added): reloading the same data leaves the city's own edits alone."""

    __tablename__ = "case_causes"
    __audit_exclude__ = frozenset({"updated_at", "source_digest"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    breached_text: Mapped[str] = mapped_column(Text, default="")
    penalty_text: Mapped[str] = mapped_column(Text, default="")
    # Whole yuan (statutory amounts are); None where the statute sets no such bound.
    fine_min: Mapped[int | None]
    fine_max: Mapped[int | None]
    fine_basis: Mapped[str] = mapped_column(String(20), default=FineBasis.FIXED)
    fine_text: Mapped[str] = mapped_column(Text, default="")  # the statute's own wording of range and tiers
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)  # [{"when", "min", "max"}]
    measures: Mapped[str] = mapped_column(Text, default="")  # other measures: correction order, confiscation …
    authority: Mapped[str] = mapped_column(Text, default="")
    verification: Mapped[str] = mapped_column(String(1), default=Verification.UNVERIFIED)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    source_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    provisions: Mapped[list[CauseProvision]] = relationship(
        order_by=lambda: [CauseProvision.role, CauseProvision.position],
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class CauseProvision(Base):
    """One cited provision of a cause. ``ref`` keeps the citation as written; the links are set
    when it resolves to one of the loaded texts and stay empty when it cites something else."""

    __tablename__ = "cause_provisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("case_causes.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # ProvisionRole
    position: Mapped[int] = mapped_column(default=0)
    ref: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("law_documents.id", ondelete="SET NULL"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("law_articles.id", ondelete="SET NULL"), index=True)
    paragraph_no: Mapped[int | None]
    item_no: Mapped[int | None]


class DiscretionScheme(Base):
    """裁量基准 of one agency: tiers (``[{"name", "lower", "upper"}]``, per cent of the statutory
    range) and the 较大数额 hearing amounts. It governs the agency's subtree unless an agency
    below has its own; the root organisation's scheme is the city-wide default.

    Not ``OrgScoped``: benchmarks must be published (法34), so everyone reads every scheme; writes
    go through ``orgs.service.require_writable``."""

    __tablename__ = "discretion_schemes"
    __audit_exclude__ = frozenset({"updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)
    hearing_citizen: Mapped[int]
    hearing_organisation: Mapped[int]
    published_as: Mapped[str] = mapped_column(String(200), default="")  # the benchmark's document number
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
