"""Reports (诉求/线索): one submission from one source. Each becomes a new event, is merged into
an open one, or waits in the clerk's queue with the reasons why."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, JsonDoc, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


class ReportStatus(enum.StrEnum):
    CREATED = "created"  # opened a new event
    MERGED = "merged"  # joined an open event (重复问题合并)
    PENDING = "pending"  # waits for a clerk (low-confidence category, possible duplicate, no place)
    REJECTED = "rejected"  # not a matter for the city (无效诉求)


class PendingReason(enum.StrEnum):
    CATEGORY = "category"  # the classifier is not confident
    DUPLICATE = "duplicate"  # in the grey band of a possible duplicate
    LOCATION = "location"  # no coordinates and no resolvable address


class Report(OrgScoped, Base):
    """``org_id`` is the most specific area the report was placed in; a report with no place
    yet belongs to the organisation of the channel's receiver (the city, for the hotline)."""

    __tablename__ = "reports"
    __audit_exclude__ = frozenset({"updated_at"})
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),  # idempotency: one report per source id
        Index("ix_reports_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))  # indexed by the unique key below
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    pending_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # personal data: never in public outputs
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    crs: Mapped[str | None] = mapped_column(String(8))  # what the source sent (wgs84 | gcj02 | bd09)
    address: Mapped[str | None] = mapped_column(String(300))
    location_source: Mapped[str] = mapped_column(String(16), default="none")  # coordinates | address | none
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    category_key: Mapped[str | None] = mapped_column(String(8))
    category_source: Mapped[str | None] = mapped_column(String(16))  # source | model | clerk
    category_probability: Mapped[float | None] = mapped_column(Float)
    category_top3: Mapped[list[Any] | None] = mapped_column(JsonDoc)
    dedup_score: Mapped[float | None] = mapped_column(Float)
    dedup_reason: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}".strip()


class Attachment(Base):
    """A photo or file of a report, stored once by content (``kit.blobstore``)."""

    __tablename__ = "report_attachments"
    __table_args__ = (UniqueConstraint("report_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicateSuggestion(Base):
    """An open event that a pending report may repeat (the grey band), for the clerk to decide."""

    __tablename__ = "duplicate_suggestions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
