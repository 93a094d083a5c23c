"""Analytics settings kept as data: the three-colour warning thresholds (三色预警阈值)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, UTCDateTime, utcnow


class WarningThreshold(Base):
    """When an area's volume turns yellow or red against its own seasonal baseline.

    A row applies to an area subtree (``org_id``; empty: the whole city) and a category (a 大类 or
    小类 key; empty: every category). The most specific row wins (see
    :func:`chengguan.analytics.situation.resolve`). City-wide data, edited by an administrator;
    every edit is audited by the flush listener."""

    __tablename__ = "warning_thresholds"
    __table_args__ = (UniqueConstraint("org_id", "category_key", name="uq_warning_thresholds_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    category_key: Mapped[str | None] = mapped_column(String(32))
    yellow_z: Mapped[float]  # standard scores above the baseline
    red_z: Mapped[float]
    min_count: Mapped[int]  # fewer reports than this in the day is never a warning
    baseline_weeks: Mapped[int]  # how many previous weeks the baseline looks back
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
