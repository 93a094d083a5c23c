"""Events (事件/案卷): the problems the city works on. One or more reports are merged into each.

The workflow that drives an event to closure (nodes, clocks, actions) builds on this table; the
intake pipeline creates events and the dispatch domain assigns them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, BigId, UTCDateTime, utcnow
from chengguan.orgs.models import OrgScoped


class EventStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # 受理: a real problem, not yet with a unit
    CONSULTATION = "consultation"  # 会商: ownership unclear, with the command centre
    DISPATCHED = "dispatched"  # 派遣: a unit holds it, its clock runs
    CLOSED = "closed"  # 结案
    VOID = "void"  # 作废


OPEN_STATUSES = frozenset({EventStatus.ACCEPTED, EventStatus.CONSULTATION, EventStatus.DISPATCHED})


class Event(OrgScoped, Base):
    """``org_id`` is the most specific area known (community, else street or district); the unit
    the event is dispatched to sees it too (``unit_id``)."""

    __tablename__ = "events"
    __scope_columns__ = ("org_id", "unit_id")
    __audit_exclude__ = frozenset({"updated_at"})
    # Few indexes: the bulk intake path writes thousands of events a second and each index costs
    # it; analytics read the lake, not these. unit_id is the prefix of the workload index.
    __table_args__ = (
        # duplicate candidates: open events in a few spatial buckets within a time window
        Index("ix_events_bucket_status_reported", "bucket", "status", "last_reported_at"),
        Index("ix_events_unit_status_deadline", "unit_id", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    category_key: Mapped[str | None] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    bucket: Mapped[int | None] = mapped_column(BigInteger)  # dedup blocking key (intake.dedup)
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"), index=True)
    area_class: Mapped[str | None] = mapped_column(String(1))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(32))  # the channel of the first report
    report_count: Mapped[int] = mapped_column(default=1)
    first_reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    last_reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatch_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def number(self) -> str:
        return event_number(self.id)


def event_number(event_id: int) -> str:
    """The number people quote (案卷号): stable, derived from the id."""
    return f"SJ{event_id:010d}"
