"""What the citizen portal keeps beyond the intake report: the tracking number a reporter quotes,
the reporter's satisfaction rating, and the phone verification codes it sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, UTCDateTime, utcnow


class CitizenReport(Base):
    """One report made on the portal. ``tracking`` is a random bearer number (it lets its holder
    read the report's progress and rate it once), not the event's number: that one is derived
    from a sequential id, which would tell anyone how many cases the city has and let them walk
    through every case. ``client`` is a keyed hash of the sender's address, kept for the rate
    limit only (the address itself is not stored here)."""

    __tablename__ = "citizen_reports"
    __audit_exclude__ = frozenset({"client"})
    __table_args__ = (Index("ix_citizen_reports_client_created", "client", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    tracking: Mapped[str] = mapped_column(String(12), unique=True)
    client: Mapped[str] = mapped_column(String(32))
    phone_verified: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None]  # 1–5, the reporter's satisfaction once the event is closed
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhoneCode(Base):
    """A verification code sent by SMS. Phone and code are stored as keyed hashes: the table
    holds no number and no usable code. Not audited: a throwaway secret, and the report it
    verifies is audited with its phone."""

    __tablename__ = "citizen_phone_codes"
    __audit__ = False
    __table_args__ = (
        Index("ix_citizen_phone_codes_phone_created", "phone_key", "created_at"),
        Index("ix_citizen_phone_codes_client_created", "client", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone_key: Mapped[str] = mapped_column(String(32))
    client: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
