"""The working calendar as data: holidays and 调休 make-up working days, the status of each
year's schedule, the working-hour periods, and a revision number that every edit bumps."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String, Time
from sqlalchemy.orm import Mapped, mapped_column

from chengguan.db import Base, UTCDateTime, utcnow


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # 放假 (a weekday off, or a weekend day inside a holiday run)
    WORKDAY = "workday"  # 调休上班: a weekend day that is worked


class YearStatus(enum.StrEnum):
    OFFICIAL = "official"  # the State Council's notice for that year
    PROVISIONAL = "provisional"  # statutory days only, until the notice is published


class CalendarDay(Base):
    """A day that differs from the weekend rule. Plain weekdays and weekends are not stored."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))  # 春节, 春节调休上班 …
    source: Mapped[str | None] = mapped_column(String(80))  # notice number, e.g. 国办发明电〔2025〕7号
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CalendarYear(Base):
    """Whether a year's schedule is the official one, and where it comes from."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    notice: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(400))  # how the dates were verified
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkingPeriod(Base):
    """One period of a working day (09:00–12:00 …), local wall-clock time."""

    __tablename__ = "calendar_working_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts: Mapped[dt.time] = mapped_column(Time)
    ends: Mapped[dt.time] = mapped_column(Time)
