"""What an Open311 POST brings beyond the report itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, UTCDateTime, utcnow


class Open311Request(Base):
    """One report received through Open311: the token its client polls while a clerk decides,
    the media link and the master-address id it named, and the contact data of the person
    (personal: never in any output, and kept out of the audit trail)."""

    __tablename__ = "open311_requests"
    __audit_exclude__ = frozenset({"email", "device_id", "account_id"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    address_id: Mapped[str | None] = mapped_column(String(64))
    media_url: Mapped[str | None] = mapped_column(String(1000))
    email: Mapped[str | None] = mapped_column(String(254))
    device_id: Mapped[str | None] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
